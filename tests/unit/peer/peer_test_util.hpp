// Helpers shared by the peer tests over sockets (peer_connection_test) and over memory
// streams (memory_stream_test).
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "peer_connection.hpp"
#include "peerwire/wire_peer_id.hpp"

namespace peer_test {

using namespace std::chrono_literals;

// A 10-piece torrent whose info-hash is `seed_byte` repeated.
inline peerwire::peer::torrent_ref make_torrent(std::uint8_t seed_byte, bool seed) {
  peerwire::peer::torrent_ref t;
  t.info_hash.bytes.fill(seed_byte);
  t.piece_length = 16384;
  t.total_size = 10 * 16384 - 100;
  t.piece_count = 10;
  t.we_are_seed = seed;
  return t;
}

inline peerwire::peer::connection_settings quick_settings() {
  peerwire::peer::connection_settings s;
  s.our_id = peerwire::wire::random_peer_id();
  s.connect_timeout = 2s;
  s.handshake_timeout = 2s;
  return s;
}

// Collects a connection's trace lines ("peer -> text" / "peer <- text").
struct trace_log {
  std::vector<std::string> lines;
  peerwire::peer::trace_sink sink() {
    return [this](const std::string& peer, bool out, const std::string& text) {
      lines.push_back(peer + (out ? " -> " : " <- ") + text);
    };
  }
  bool contains(std::string_view part) const {
    for (const auto& l : lines) {
      if (l.find(part) != std::string::npos) return true;
    }
    return false;
  }
};

}  // namespace peer_test
