// UDP tracker protocol (BEP 15, with BEP 7's 18-byte IPv6 peers), the pure part: encoding the
// connect / announce / scrape requests and decoding the tracker's replies. No sockets here:
// the IO (retransmission, connection-id cache, transactions on the shared socket) lives in
// src/tracker/udp_io.hpp.
//
// Replies are untrusted: sizes are checked strictly (a peer list that is not a whole number of
// entries is an error, not a truncated list), the peer count is bounded, and the tracker's
// error text is made printable and capped before it can reach a terminal.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "peerwire/info_hash.hpp"
#include "peerwire/result.hpp"
#include "peerwire/tracker.hpp"
#include "peerwire/tracker_scrape.hpp"

namespace peerwire::tracker::udp {

// The magic connection id of a connect request ("protocol id").
inline constexpr std::uint64_t protocol_id = 0x41727101980ULL;
// A scrape request carries at most this many info-hashes (16 + 74 * 20 bytes stays under the
// 1500-byte Ethernet MTU, and is what BEP 15 suggests).
inline constexpr std::size_t max_scrape_hashes = 74;
inline constexpr std::size_t announce_request_size = 98;

enum class action : std::uint32_t { connect = 0, announce = 1, scrape = 2, error = 3 };

// The address family of the socket the announce went over: it decides the peer entry size
// (6 bytes for IPv4, 18 for IPv6; BEP 15 "IPv6").
enum class family { v4, v6 };

std::array<std::uint8_t, 16> encode_connect(std::uint32_t transaction_id);

// 98 bytes. numwant < 0 is sent as -1 (tracker default). tracker_id is not part of BEP 15 and
// is ignored. Errors: negative byte counts.
result<std::vector<std::uint8_t>> encode_announce(std::uint64_t connection_id,
                                                  std::uint32_t transaction_id,
                                                  const announce_request& req);

// 16 + 20 * n bytes. Errors: no hash, or more than max_scrape_hashes.
result<std::vector<std::uint8_t>> encode_scrape(std::uint64_t connection_id,
                                                std::uint32_t transaction_id,
                                                std::span<const sha1_hash> hashes);

// The first 8 bytes of every reply, for the demultiplexer: nullopt when shorter than 8 bytes.
struct header {
  std::uint32_t act = 0;  // raw: an unknown action is the decoder's business
  std::uint32_t transaction_id = 0;
};
std::optional<header> peek_header(std::span<const std::uint8_t> packet);

struct reply {
  action act = action::error;
  std::uint64_t connection_id = 0;   // connect
  announce_response announce;        // announce (complete = seeders, incomplete = leechers)
  std::vector<scrape_stats> scrape;  // scrape: one entry per hash answered, in request order
  std::string error;                 // error: the tracker's message, printable, capped
};

// Decodes one reply to a request of kind `expected` sent with `transaction_id`. `scrape_hashes`
// are the hashes of the scrape request (the reply carries counts in the same order, no
// hashes). An error reply (action 3) with the right transaction id is a successful decode with
// act == action::error. Errors: too short, wrong transaction id, an action that is neither the
// expected one nor an error, a peer list that is not a multiple of the entry size, more scrape
// entries than hashes asked for.
result<reply> decode_reply(std::span<const std::uint8_t> packet, action expected,
                           std::uint32_t transaction_id, family fam,
                           std::span<const sha1_hash> scrape_hashes = {},
                           const response_limits& lim = {});

}  // namespace peerwire::tracker::udp
