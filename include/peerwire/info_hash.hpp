// Torrent identity. v1 is SHA-1 over the bencoded info dictionary; the v2 (BEP 52) SHA-256
// slot is present so hybrid torrents and btmh magnet links can be represented later.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "peerwire/sha1.hpp"

namespace peerwire {

struct sha1_hash {
  sha1_digest bytes{};

  std::string hex() const;
  std::string base32() const;
  // 40 hex digits or 32 base32 characters (either case); nullopt otherwise.
  static std::optional<sha1_hash> parse(std::string_view text);

  auto operator<=>(const sha1_hash&) const = default;
};

using sha256_digest = std::array<std::uint8_t, 32>;

struct info_hash {
  std::optional<sha1_hash> v1;
  std::optional<sha256_digest> v2;  // BEP 52; not produced yet

  bool operator==(const info_hash&) const = default;
};

}  // namespace peerwire
