// `peerwire probe`: connect to one peer, exchange handshakes, watch what it says for a moment,
// and explain in plain words what happened. The report is plain data so the CLI can print it
// as text or JSON, and the verdict is a pure function tested without sockets.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "peerwire/ext_handshake.hpp"
#include "peerwire/info_hash.hpp"

namespace peerwire {

struct probe_options {
  std::string host;
  std::uint16_t port = 0;
  sha1_hash info_hash;
  // Known from a .torrent: lets us give a percentage and check message bounds.
  std::optional<std::size_t> piece_count;
  std::int64_t piece_length = 0;
  std::int64_t total_size = 0;
  std::chrono::milliseconds timeout{10'000};    // per step: connect, handshake reply
  std::chrono::milliseconds watch_time{3'000};  // how long to listen after the handshake
  std::array<std::uint8_t, 20> peer_id{};       // ours
};

enum class connect_outcome { ok, resolve_failed, refused, timed_out, unreachable, failed };
enum class handshake_outcome {
  not_attempted,    // the TCP connection failed
  complete,         // 68 valid bytes
  closed_silently,  // the peer closed without sending a byte
  closed_partial,   // the peer closed after some but not all handshake bytes
  timed_out,        // no complete reply within the timeout
  bad_protocol,     // the first bytes are not "\x13BitTorrent protocol"
  wrong_info_hash,  // a valid handshake for another torrent
  reset,            // the connection was reset / errored while reading
};
enum class pieces_kind { unknown, bitfield, have_all, have_none };

struct probe_event {
  std::chrono::milliseconds at{};  // since the connection was established
  bool outgoing = false;
  std::string text;  // "-> extended handshake 56 bytes", "<- have #5", ...
};

struct probe_report {
  // Target and TCP.
  std::string host;
  std::uint16_t port = 0;
  std::string address;  // the address actually connected to (or tried last)
  connect_outcome connect = connect_outcome::failed;
  std::string connect_error;
  std::chrono::milliseconds connect_time{};

  // Handshake.
  std::vector<std::uint8_t> sent_handshake;  // 68 bytes
  std::vector<std::uint8_t> received;        // what came back first (up to 68 + a little)
  handshake_outcome handshake = handshake_outcome::not_attempted;
  std::string handshake_error;             // decoder's reason, when bad_protocol
  std::chrono::milliseconds reply_time{};  // connect -> full reply
  std::array<std::uint8_t, 8> reserved{};
  sha1_hash their_info_hash;
  std::array<std::uint8_t, 20> their_peer_id{};
  std::string client;  // named from the peer id
  bool same_peer_id_as_ours = false;

  // After the handshake.
  std::optional<ext::handshake> extension_handshake;
  std::string extension_error;  // a malformed extension handshake
  pieces_kind pieces = pieces_kind::unknown;
  std::size_t pieces_have = 0;  // bits set (bitfield) or haves seen
  std::size_t pieces_bits = 0;  // bitfield length in bits
  std::optional<std::size_t> piece_count;
  std::vector<probe_event> events;
  std::string closed_reason;    // how the observation ended ("peer closed", "watch time over", ...)
  bool protocol_error = false;  // the peer sent something invalid after the handshake

  // Completion 0..100 when it can be computed.
  std::optional<double> completion_percent() const;
};

// Runs the probe (blocking; it owns a private io_context). Never throws for network reasons.
probe_report run_probe(const probe_options& options);

// Plain-words explanation of the report: first line is the verdict, then advice, if any.
std::vector<std::string> probe_verdict(const probe_report& report, const probe_options& options);

}  // namespace peerwire
