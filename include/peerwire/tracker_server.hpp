// The tracker server's pure core (`peerwire tracker`): the swarm registry (torrents -> peers),
// peer expiry by a clock passed in, numwant selection, memory bounds and the allow-list.
//
// No sockets, no threads, no clock reads: the IO shell (tracker_service.hpp) passes `now` and
// the client's address in. The wire formats (HTTP query strings, bencoded replies, BEP 15
// packets) are in tracker_server_proto.hpp.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "peerwire/info_hash.hpp"
#include "peerwire/result.hpp"

namespace peerwire::tracker_server {

using time_point = std::chrono::steady_clock::time_point;
using peer_id = std::array<std::uint8_t, 20>;

// A client's address as the socket saw it (never what the client claims: the `ip` parameter
// of an announce is ignored, so nobody can point a swarm at a third party).
struct endpoint {
  std::array<std::uint8_t, 16> ip{};  // IPv4: the first 4 bytes, the rest zero
  std::uint16_t port = 0;
  bool v6 = false;

  bool operator==(const endpoint&) const = default;

  static endpoint v4_from(std::array<std::uint8_t, 4> a, std::uint16_t port);
  static endpoint v6_from(const std::array<std::uint8_t, 16>& a, std::uint16_t port);
};

// "1.2.3.4" / "2001:db8::1" (no brackets, no port).
std::string ip_text(const endpoint& e);
// "1.2.3.4:6881" / "[2001:db8::1]:6881".
std::string to_string(const endpoint& e);

struct settings {
  // Memory bounds: a new torrent or peer over these is refused ("tracker is full"). A peer
  // costs ~120 bytes, a torrent ~200 bytes plus its peers: the defaults stay under ~200 MB.
  std::size_t max_torrents = 100'000;
  std::size_t max_peers = 1'000'000;  // over all torrents
  int default_numwant = 50;           // when the client sends none (or a negative one)
  int max_numwant = 200;              // larger requests are clamped
  std::chrono::seconds interval{1800};
  // A peer that has not announced for this many intervals is forgotten.
  int expiry_intervals = 2;
  bool full_scrape = false;            // scrape without info_hash lists every torrent
  std::size_t max_scrape_hashes = 74;  // per request; 74 is what fits one BEP 15 reply
};

enum class event { none, completed, started, stopped };

struct announce_input {
  sha1_hash info_hash;
  peer_id id{};
  endpoint peer;  // the socket's address with the announced port
  std::int64_t left = 0;
  event ev = event::none;
  int numwant = -1;  // negative: settings::default_numwant
};

enum class families { v4, v6, both };

struct swarm_counts {
  std::uint32_t complete = 0;    // seeders
  std::uint32_t incomplete = 0;  // leechers
  std::uint32_t downloaded = 0;  // event=completed announces seen
};

struct selected_peer {
  endpoint addr;
  peer_id id{};
};

struct announce_output {
  swarm_counts counts;
  std::vector<selected_peer> peers;  // cleared and refilled by each announce
};

enum class refusal { none, not_allowed, too_many_torrents, too_many_peers };
// The `failure reason` text for a refusal.
std::string_view describe(refusal r);

// Parses an allow-list file: one info-hash a line (40 hex digits, or 32 base32 characters),
// blank lines and lines starting with '#' ignored, surrounding spaces trimmed. An unreadable
// line is an error naming the line number.
result<std::vector<sha1_hash>> parse_allow_list(std::string_view text);

class registry {
 public:
  // `hash_key`: 16 random bytes keying the hash tables (hash-flooding resistance);
  // `seed`: for the random choice of peers returned.
  registry(settings s, const std::array<std::uint8_t, 16>& hash_key, std::uint64_t seed);
  ~registry();
  registry(const registry&) = delete;
  registry& operator=(const registry&) = delete;

  const settings& config() const { return settings_; }

  // Adds, refreshes or (event=stopped) removes the announcing peer, then fills `out` with the
  // swarm's counts and up to numwant other peers of the given address families, chosen from
  // a random starting point (seeders get only leechers). On refusal `out` is untouched.
  refusal announce(const announce_input& in, time_point now, families fam, announce_output& out);

  // nullopt for an unknown torrent (or one outside the allow-list).
  std::optional<swarm_counts> counts(const sha1_hash& ih) const;
  // Every torrent with its counts (full scrape), in no particular order.
  std::vector<std::pair<sha1_hash, swarm_counts>> all_counts() const;

  // Forgets peers silent for expiry_intervals * interval, and torrents left empty.
  // Announces expire their own torrent's peers as they go; call this every minute or so.
  void expire(time_point now);

  // Allow-list mode: only these torrents are served. nullopt turns the mode off. Torrents
  // no longer allowed are dropped at once.
  void set_allow_list(std::optional<std::vector<sha1_hash>> hashes);
  bool allowed(const sha1_hash& ih) const;

  std::size_t torrent_count() const;
  std::size_t peer_count() const;

 private:
  struct impl;
  settings settings_;
  std::unique_ptr<impl> impl_;
};

}  // namespace peerwire::tracker_server
