// IPv4/IPv6 addresses as text, byte for byte what glibc's inet_ntop and inet_pton give, for
// the pure modules: <arpa/inet.h> would pull the socket headers into them (the layers check,
// scripts/check-layers.py, refuses that).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace peerwire {

// "192.0.2.1"
std::string ipv4_text(std::span<const std::uint8_t, 4> address);
// "2001:db8::1", "::ffff:192.0.2.1", "::": the longest run (the first of equals) of two or
// more zero groups becomes "::"; lowercase hex without leading zeros.
std::string ipv6_text(std::span<const std::uint8_t, 16> address);

// Exactly four decimal parts 0..255 without leading zeros, nothing else.
std::optional<std::array<std::uint8_t, 4>> parse_ipv4(std::string_view text);
// Groups of 1-4 hex digits, at most one "::", optionally ending in a dotted IPv4 address.
// No zone ids ("%eth0"), no brackets.
std::optional<std::array<std::uint8_t, 16>> parse_ipv6(std::string_view text);

}  // namespace peerwire
