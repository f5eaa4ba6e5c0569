// How a peer is known: its IP address, port and transport. Pure data (no sockets), so the
// torrent, PEX, the DHT and the tests name peers without Asio; the IO layer converts to and
// from socket endpoints (src/peer/address_io.hpp).
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <string_view>

namespace peerwire {

// The byte stream a peer connection runs over. uTP (BEP 29) is the second kind.
enum class transport : std::uint8_t { tcp, utp };

constexpr std::string_view to_string(transport t) {
  return t == transport::tcp ? "tcp" : "utp";
}

struct ip_address {
  std::array<std::uint8_t, 16> bytes{};  // IPv4: the first 4 bytes, the rest zero
  bool v6 = false;

  static ip_address from_v4(const std::array<std::uint8_t, 4>& b) {
    ip_address a;
    for (std::size_t i = 0; i < 4; ++i) a.bytes[i] = b[i];
    return a;
  }
  static ip_address from_v6(const std::array<std::uint8_t, 16>& b) {
    ip_address a;
    a.bytes = b;
    a.v6 = true;
    return a;
  }
  bool is_v4() const { return !v6; }
  // The IPv4 address in host order (only meaningful when is_v4()).
  std::uint32_t v4_uint() const {
    return (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) |
           (std::uint32_t{bytes[2]} << 8) | bytes[3];
  }
  bool is_loopback() const {
    if (!v6) return bytes[0] == 127;
    for (std::size_t i = 0; i < 15; ++i) {
      if (bytes[i] != 0) return false;
    }
    return bytes[15] == 1;
  }
  bool is_unspecified() const {
    for (auto b : bytes) {
      if (b != 0) return false;
    }
    return true;
  }
  auto operator<=>(const ip_address&) const = default;
};

struct peer_address {
  ip_address ip;
  std::uint16_t port = 0;
  transport kind = transport::tcp;
  auto operator<=>(const peer_address&) const = default;
};

}  // namespace peerwire
