// Tracker scrape (BEP 48 over HTTP; the UDP form is in tracker_udp.hpp), the pure part:
// deriving the scrape URL from an announce URL, building the request URL, and parsing the
// bencoded reply, whose "files" dictionary is keyed by raw 20-byte info-hashes.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "peerwire/info_hash.hpp"
#include "peerwire/result.hpp"

namespace peerwire::tracker {

struct scrape_stats {
  sha1_hash info_hash;
  std::int64_t seeders = 0;    // "complete"
  std::int64_t leechers = 0;   // "incomplete"
  std::int64_t completed = 0;  // "downloaded": finished downloads ever reported
  std::optional<std::string> name;

  bool operator==(const scrape_stats&) const = default;
};

struct scrape_response {
  std::optional<std::string> failure_reason;  // the tracker refused; nothing else is read
  std::vector<scrape_stats> files;            // in the reply's order
  std::vector<std::string> notes;             // what was skipped or ignored, one sentence each
};

// BEP 48: the announce URL's last path component must be exactly "announce" (optionally with a
// suffix such as "announce.php"); it becomes "scrape". Query (passkeys) and port are kept.
// Otherwise the tracker has no scrape URL: the error says so. udp:// URLs are returned as they
// are (BEP 15 scrapes on the same endpoint).
result<std::string> scrape_url(std::string_view announce);

// The scrape URL with one info_hash parameter per hash (binary, percent-encoded).
std::string scrape_request_url(std::string_view scrape, std::span<const sha1_hash> hashes);

struct scrape_limits {
  std::size_t max_body = 4 << 20;
  std::size_t max_files = 10'000;  // entries kept; more are dropped with a note
};

// Parses a bencoded scrape reply. Keys of "files" that are not 20 bytes, and entries that are
// not dictionaries, are skipped with a note; missing or negative counts read as 0 with a
// note. A reply without "files" (and without a failure reason) is an error.
result<scrape_response> parse_scrape_response(std::string_view body, const scrape_limits& lim = {});

}  // namespace peerwire::tracker
