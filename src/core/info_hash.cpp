#include "peerwire/info_hash.hpp"

#include <algorithm>

#include "peerwire/encoding.hpp"

namespace peerwire {

std::string sha1_hash::hex() const {
  return to_hex(bytes);
}
std::string sha1_hash::base32() const {
  return to_base32(bytes);
}

std::optional<sha1_hash> sha1_hash::parse(std::string_view text) {
  std::optional<std::vector<std::uint8_t>> raw;
  if (text.size() == 40) {
    raw = from_hex(text);
  } else if (text.size() == 32) {
    raw = from_base32(text);
  }
  if (!raw || raw->size() != 20) return std::nullopt;
  sha1_hash h;
  std::copy(raw->begin(), raw->end(), h.bytes.begin());
  return h;
}

}  // namespace peerwire
