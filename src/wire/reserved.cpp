// The reserved bytes of the handshake: the capability bits we know, and the rest raw.
#include <cstdio>

#include "peerwire/wire_handshake.hpp"

namespace peerwire::wire {

namespace {

struct known_bit {
  std::size_t byte;
  std::uint8_t mask;
  const char* name;
};

// In the order describe_reserved() lists them.
constexpr known_bit known_bits[] = {
    {5, 0x10, "extension protocol (BEP 10)"},
    {7, 0x04, "fast extension (BEP 6)"},
    {7, 0x01, "DHT (BEP 5)"},
    {7, 0x10, "v2 upgrade (BEP 52)"},
};

}  // namespace

reserved_bytes make_reserved(const reserved_flags& flags) {
  reserved_bytes r{};
  if (flags.extension_protocol) r[5] |= 0x10;
  if (flags.fast) r[7] |= 0x04;
  if (flags.dht) r[7] |= 0x01;
  if (flags.v2_upgrade) r[7] |= 0x10;
  return r;
}

reserved_flags decode_reserved(const reserved_bytes& bytes) {
  return {.extension_protocol = (bytes[5] & 0x10) != 0,
          .fast = (bytes[7] & 0x04) != 0,
          .dht = (bytes[7] & 0x01) != 0,
          .v2_upgrade = (bytes[7] & 0x10) != 0};
}

reserved_bytes unknown_reserved_bits(const reserved_bytes& bytes) {
  reserved_bytes r = bytes;
  for (const auto& k : known_bits) r[k.byte] &= static_cast<std::uint8_t>(~k.mask);
  return r;
}

std::string describe_reserved(const reserved_bytes& bytes) {
  std::string out;
  auto add = [&out](const std::string& part) {
    if (!out.empty()) out += ", ";
    out += part;
  };
  for (const auto& k : known_bits)
    if ((bytes[k.byte] & k.mask) != 0) add(k.name);
  const reserved_bytes unknown = unknown_reserved_bits(bytes);
  if (unknown != reserved_bytes{}) {
    std::string hex = "unknown bits: 0x";
    for (std::uint8_t b : unknown) {
      char two[3];
      std::snprintf(two, sizeof two, "%02x", b);
      hex += two;
    }
    add(hex);
  }
  return out.empty() ? "none" : out;
}

}  // namespace peerwire::wire
