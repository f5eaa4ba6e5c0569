// The tracker server's wire formats, pure: HTTP announce/scrape query strings (BEP 3, 23, 7,
// 48) and their bencoded replies, BEP 15 UDP packets, and the stateless UDP connection ids.
// `server` ties them to a registry: the IO shell hands it a request target or a datagram
// and sends back what it returns.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "peerwire/result.hpp"
#include "peerwire/tracker_server.hpp"

namespace peerwire::tracker_server {

// ---- HTTP ---------------------------------------------------------------------------------

// Decodes %XX escapes ('+' stays '+': RFC 3986 queries are not form-encoded, and a raw '+'
// in a binary info_hash means byte 0x2B). A '%' not followed by two hex digits is an error.
result<std::string> percent_decode(std::string_view s);

struct http_announce {
  sha1_hash info_hash;
  peer_id id{};
  std::uint16_t port = 0;
  std::int64_t uploaded = 0, downloaded = 0, left = 0;
  event ev = event::none;
  int numwant = -1;  // -1: not given
  bool compact = true;
  bool no_peer_id = false;
};

// The query of an announce (after '?'). info_hash and peer_id (20 bytes each) and port
// (1..65535) are required; byte counts must be non-negative decimal numbers; event is
// started, completed, stopped, paused (BEP 21, treated as none) or empty. Unknown parameters
// (key, trackerid, ip, ...) are ignored; at most 64 parameters; a repeated parameter is an
// error.
result<http_announce> parse_announce_query(std::string_view query);

// The info_hash parameters of a scrape query (each 20 bytes), at most max_hashes. An empty
// list means "full scrape".
result<std::vector<sha1_hash>> parse_scrape_query(std::string_view query, std::size_t max_hashes);

// Bencoded replies. Keys are sorted as bencode requires.
std::string encode_failure(std::string_view reason);
std::string encode_announce_reply(const announce_output& out, bool compact, bool no_peer_id,
                                  std::chrono::seconds interval);
std::string encode_scrape_reply(const std::vector<std::pair<sha1_hash, swarm_counts>>& files);

struct http_reply {
  unsigned status = 200;
  std::string body;  // bencoded; served as text/plain
};

// ---- UDP (BEP 15) -------------------------------------------------------------------------

inline constexpr std::uint64_t udp_protocol_id = 0x41727101980ULL;
inline constexpr std::size_t udp_announce_size = 98;
inline constexpr std::size_t udp_max_packet = 1500;  // larger datagrams are dropped

enum class udp_action : std::uint32_t { connect = 0, announce = 1, scrape = 2, error = 3 };

struct udp_connect {
  std::uint32_t transaction_id = 0;
};
struct udp_announce {
  std::uint64_t connection_id = 0;
  std::uint32_t transaction_id = 0;
  sha1_hash info_hash;
  peer_id id{};
  std::int64_t downloaded = 0, left = 0, uploaded = 0;
  event ev = event::none;
  std::uint32_t ip = 0;  // ignored: the datagram's source address is used
  std::uint32_t key = 0;
  std::int32_t numwant = -1;
  std::uint16_t port = 0;
};
struct udp_scrape {
  std::uint64_t connection_id = 0;
  std::uint32_t transaction_id = 0;
  std::vector<sha1_hash> hashes;
};
// A request with a valid header that cannot be served (short announce, unknown action...):
// answered with an error (action 3) if its connection id checks out.
struct udp_bad_request {
  std::uint64_t connection_id = 0;
  std::uint32_t transaction_id = 0;
  std::string reason;
};
using udp_request = std::variant<udp_connect, udp_announce, udp_scrape, udp_bad_request>;

// nullopt: garbage to drop silently (shorter than 16 bytes, longer than udp_max_packet, or a
// connect without the protocol id).
std::optional<udp_request> decode_udp_request(std::span<const std::uint8_t> packet,
                                              std::size_t max_scrape_hashes);

void encode_udp_connect(std::vector<std::uint8_t>& out, std::uint32_t tid, std::uint64_t cid);
void encode_udp_error(std::vector<std::uint8_t>& out, std::uint32_t tid, std::string_view msg);
// 6-byte peers for an IPv4 request, 18-byte peers for an IPv6 one (out.peers holds only the
// requester's family).
void encode_udp_announce(std::vector<std::uint8_t>& out, std::uint32_t tid,
                         std::chrono::seconds interval, const announce_output& res, bool v6);
void encode_udp_scrape(std::vector<std::uint8_t>& out, std::uint32_t tid,
                       const std::vector<swarm_counts>& counts);

// Connection ids without per-client state: SipHash-2-4 keyed by a random secret over the
// client's address, port and the current two-minute epoch. An id is accepted in its epoch and
// the next one, so it stays valid for 2 to 4 minutes (BEP 15 asks for at least 2).
class connection_ids {
 public:
  explicit connection_ids(const std::array<std::uint8_t, 16>& secret,
                          std::chrono::seconds epoch = std::chrono::seconds(120));
  std::uint64_t mint(const endpoint& client, time_point now) const;
  bool check(std::uint64_t id, const endpoint& client, time_point now) const;

 private:
  std::uint64_t id_for(const endpoint& client, std::int64_t epoch) const;
  std::array<std::uint8_t, 16> secret_;
  std::chrono::seconds epoch_;
};

// ---- the server: registry + wire formats ----------------------------------------------------

class server {
 public:
  // secret: 32 random bytes (hash-table key, connection-id key); seed: peer selection.
  server(settings s, const std::array<std::uint8_t, 32>& secret, std::uint64_t seed);

  registry& swarms() { return registry_; }
  const registry& swarms() const { return registry_; }

  // An HTTP GET request target ("/announce?..." or "/scrape?..."). Refusals and bad requests
  // are 200 with a bencoded failure reason (what clients show); unknown paths are 404.
  // When `log` is not null, it receives one line describing the request.
  http_reply http(std::string_view target, const endpoint& remote, time_point now,
                  std::string* log = nullptr);

  // A datagram from `from`. Returns false when it is to be dropped; otherwise `out` holds the
  // reply. When `log` is not null, it receives one line for announces and errors.
  bool udp(std::span<const std::uint8_t> packet, const endpoint& from, time_point now,
           std::vector<std::uint8_t>& out, std::string* log = nullptr);

 private:
  registry registry_;
  connection_ids ids_;
  announce_output scratch_;  // reused: no allocation per announce once warmed up
};

}  // namespace peerwire::tracker_server
