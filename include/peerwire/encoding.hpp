// Text forms of binary ids: lowercase hex and RFC 4648 base32 (used by magnet links).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace peerwire {

std::string to_hex(std::span<const std::uint8_t> bytes);
// Accepts upper or lower case; nullopt on odd length or a non-hex character.
std::optional<std::vector<std::uint8_t>> from_hex(std::string_view text);

// Uppercase, unpadded (as in magnet links).
std::string to_base32(std::span<const std::uint8_t> bytes);
// Accepts upper or lower case, with or without '=' padding; nullopt on bad characters or
// non-zero trailing bits.
std::optional<std::vector<std::uint8_t>> from_base32(std::string_view text);

}  // namespace peerwire
