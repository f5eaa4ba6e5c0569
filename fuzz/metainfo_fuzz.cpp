// .torrent parser fuzz target: never crashes, and what it accepts is self-consistent.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "peerwire/metainfo.hpp"

using namespace peerwire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto m = parse_metainfo(in);
  if (!m) return 0;
  // Invariants an accepted torrent must satisfy (storage relies on them).
  std::int64_t offset = 0;
  for (const auto& f : m->files) {
    if (f.size < 0 || f.offset != offset || f.path.empty()) std::abort();
    for (std::size_t i = 0; i < f.path.size(); ++i) {
      if (unsafe_path_component(f.path[i])) std::abort();
    }
    offset += f.size;
  }
  if (offset != m->total_size || m->total_size <= 0) std::abort();
  if (m->piece_length <= 0 || m->pieces.empty()) std::abort();
  std::int64_t covered = 0;
  for (std::size_t i = 0; i < m->piece_count(); ++i) {
    std::int64_t s = m->piece_size(i);
    if (s <= 0 || s > m->piece_length) std::abort();
    covered += s;
  }
  if (covered != m->total_size) std::abort();
  if (m->hash.v1->bytes != sha1(m->info_bytes)) std::abort();
  return 0;
}
