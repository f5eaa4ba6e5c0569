// HTTP(S) tracker protocol, the pure part: building announce URLs (BEP 3), parsing announce
// responses (BEP 3 dictionary peers, BEP 23 compact peers, BEP 7 peers6), and the URL helpers
// the HTTP client needs (splitting a URL into connection parts, resolving a redirect).
//
// No sockets here: the IO shell is the library's private src/tracker/http_client.hpp.
// Everything read from a tracker is untrusted and bounded (body size, peers kept); bad input
// is an error with a reason.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "peerwire/info_hash.hpp"
#include "peerwire/result.hpp"
#include "peerwire/wire_peer_id.hpp"

namespace peerwire::tracker {

enum class event { none, started, completed, stopped };

// "started", "completed", "stopped"; "" for none (the parameter is then omitted).
std::string_view event_name(event e);

struct announce_request {
  sha1_hash info_hash;
  wire::peer_id peer_id{};
  std::uint16_t port = 0;
  std::int64_t uploaded = 0;
  std::int64_t downloaded = 0;
  std::int64_t left = 0;
  event ev = event::none;
  int numwant = 50;  // negative: parameter omitted (tracker default)
  std::uint32_t key = 0;
  std::optional<std::string> tracker_id;  // echo of a previous response's "tracker id"
};

// The full announce URL: `announce` plus info_hash, peer_id, port, uploaded, downloaded, left,
// compact=1, numwant, key (8 hex digits), event and trackerid. Binary values are
// percent-encoded byte for byte (only RFC 3986 unreserved characters stay literal). Appends
// with '&' when the URL already has a query (private tracker passkeys); drops a fragment.
// Errors: not an absolute http(s) URL, bad host or port, negative byte counts.
result<std::string> announce_url(std::string_view announce, const announce_request& req);

// Percent-encodes every byte except RFC 3986 unreserved ones (A-Z a-z 0-9 - . _ ~).
std::string percent_encode(std::string_view bytes);

struct peer_endpoint {
  std::string address;  // IPv4 dotted quad or canonical IPv6 text (no brackets)
  std::uint16_t port = 0;
  std::optional<wire::peer_id> id;  // dictionary form only, when the tracker sends it

  bool operator==(const peer_endpoint&) const = default;
};

struct announce_response {
  // Set when the tracker refused the announce; nothing else is read then.
  std::optional<std::string> failure_reason;
  std::optional<std::string> warning_message;  // shown to the user; the announce still worked
  std::chrono::seconds interval{1800};
  std::optional<std::chrono::seconds> min_interval;
  std::optional<std::string> tracker_id;
  std::optional<std::int64_t> complete;    // seeders
  std::optional<std::int64_t> incomplete;  // leechers
  std::vector<peer_endpoint> peers;        // IPv4 first, then IPv6, in tracker order
  // What the parser changed or skipped, one sentence each ("interval 0 clamped to 60 s").
  std::vector<std::string> notes;
};

struct response_limits {
  std::size_t max_body = 4 << 20;  // bytes of bencoded response
  std::size_t max_peers = 10'000;  // more are dropped with a note, not an error
  std::chrono::seconds min_interval_floor{60};
  std::chrono::seconds max_interval{24 * 3600};
};

// Parses an announce response body. Keys that change what the client does (failure reason,
// interval, min interval, tracker id, peers, peers6) must have the right type or the whole
// response is an error; advisory keys (warning message, complete, incomplete) of the wrong
// type are ignored with a note. Compact lists whose length is not a multiple of 6 (peers) or
// 18 (peers6) are errors: the tracker is not speaking BEP 23/7, so no entry can be trusted.
// Peers with port 0, and dictionary entries that are malformed or name a host instead of an
// IP address, are skipped with a note (one bad entry should not cost the whole swarm).
result<announce_response> parse_announce_response(std::string_view body,
                                                  const response_limits& lim = {});

// Where to connect for an http(s) URL, and what to send.
struct http_url {
  bool tls = false;
  std::string host;         // for name resolution and SNI: "example.org", "::1"
  std::string host_header;  // "example.org", "example.org:8080", "[::1]:8080"
  std::uint16_t port = 0;
  std::string target;  // origin-form request target: "/announce?x=1" (never empty)
};

// Splits an absolute http:// or https:// URL. Rejects other schemes, user info, empty or
// odd host names, ports outside 1..65535. The fragment is ignored.
result<http_url> split_http_url(std::string_view url);

// Resolves a redirect's Location header against the URL that answered with it (RFC 3986
// section 5), dropping any fragment. The result is checked by split_http_url.
result<std::string> resolve_redirect(std::string_view base, std::string_view location);

}  // namespace peerwire::tracker
