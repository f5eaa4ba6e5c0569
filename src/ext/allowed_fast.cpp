// BEP 6 allowed-fast set generation (see ext_fast.hpp).
#include <algorithm>
#include <string>
#include <string_view>
#include <unordered_set>

#include "peerwire/ext_fast.hpp"
#include "peerwire/sha1.hpp"

namespace peerwire::ext {

std::vector<std::uint32_t> allowed_fast_set(std::uint32_t ipv4_address_host_order,
                                            const sha1_hash& info_hash, std::uint32_t piece_count,
                                            std::size_t k) {
  std::vector<std::uint32_t> out;
  // Without this clamp a k above piece_count would loop forever looking for new indices.
  const std::size_t want = std::min<std::size_t>(k, piece_count);
  if (want == 0) return out;
  out.reserve(want);

  // x = masked address in network byte order, then the 20 info-hash bytes.
  const std::uint32_t ip = ipv4_address_host_order & 0xFFFFFF00u;
  std::string seed;
  seed.reserve(24);
  for (int shift = 24; shift >= 0; shift -= 8) seed.push_back(static_cast<char>(ip >> shift));
  seed.append(reinterpret_cast<const char*>(info_hash.bytes.data()), info_hash.bytes.size());

  sha1_digest x = sha1(seed);
  // A hash set rather than a bitmap: piece_count can be up to 2^32 while sets are small.
  std::unordered_set<std::uint32_t> taken;
  taken.reserve(want);
  for (;;) {
    for (std::size_t i = 0; i < 5 && out.size() < want; ++i) {
      const std::uint32_t y = (std::uint32_t{x[i * 4]} << 24) |
                              (std::uint32_t{x[i * 4 + 1]} << 16) |
                              (std::uint32_t{x[i * 4 + 2]} << 8) | std::uint32_t{x[i * 4 + 3]};
      const std::uint32_t index = y % piece_count;
      if (taken.insert(index).second) out.push_back(index);
    }
    if (out.size() >= want) break;
    x = sha1(std::string_view(reinterpret_cast<const char*>(x.data()), x.size()));
  }
  return out;
}

}  // namespace peerwire::ext
