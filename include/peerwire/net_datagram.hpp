// What a UDP datagram on the session's one socket is, from its first bytes (pure, no sockets).
//
// The listen port's UDP socket is shared by the UDP tracker client (BEP 15), uTP (BEP 29) and
// the DHT (BEP 5, KRPC), as in Transmission's tr-udp.cc. Each datagram is routed by content:
//   krpc     'd' first: a bencoded dictionary (every KRPC message is one).
//   utp      byte 0 = type << 4 | version, version 1, type ST_DATA..ST_SYN (0..4); byte 1 the
//            first extension type (0 none, 1 SACK, 2 extension bits, 3 close reason); the
//            20-byte header is whole.
//   tracker  a BEP 15 reply: a 4-byte big-endian action and a 4-byte transaction id. Actions
//            are small numbers (0..3 defined), so byte 0 is 0x00.
// The three cannot collide: a tracker reply starts with 0x00 (version nibble 0, not uTP's 1;
// not 'd'), a uTP header starts with 0x01, 0x11, 0x21, 0x31 or 0x41 (none is 'd' = 0x64 or
// 0x00), and 'd' has version nibble 4. Anything else is `unknown` and is dropped (counted).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace peerwire::net {

enum class datagram_kind : std::uint8_t { tracker, utp, krpc, unknown };
inline constexpr std::size_t datagram_kinds = 4;  // for tables indexed by kind

// The smallest datagram of each kind: a BEP 15 reply header; a uTP header (BEP 29).
inline constexpr std::size_t tracker_reply_min_size = 8;
inline constexpr std::size_t utp_header_size = 20;

datagram_kind classify_datagram(std::span<const std::uint8_t> datagram);

std::string_view to_string(datagram_kind k);

}  // namespace peerwire::net
