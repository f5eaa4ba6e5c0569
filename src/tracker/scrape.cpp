// BEP 48 scrape URLs and scrape reply parsing (pure).
#include <algorithm>
#include <cstring>

#include "peerwire/bencode.hpp"
#include "peerwire/tracker.hpp"
#include "peerwire/tracker_policy.hpp"
#include "peerwire/tracker_scrape.hpp"

namespace peerwire::tracker {
namespace {

std::string printable(std::string_view s) {
  constexpr std::size_t max_text = 512;
  std::string out;
  for (std::size_t i = 0; i < s.size() && i < max_text; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    out += (c < 0x20 || c == 0x7f) ? '?' : s[i];
  }
  if (s.size() > max_text) out += "...";
  return out;
}

// A count from a files entry: absent or unusable reads as 0, with a note when unusable.
std::int64_t count_of(const bencode::node& entry, std::string_view key, std::size_t& bad) {
  auto n = entry.find(key);
  if (!n) return 0;
  if (n->is_int() && n->as_int() >= 0) return n->as_int();
  ++bad;
  return 0;
}

}  // namespace

result<std::string> scrape_url(std::string_view announce) {
  auto kind = tracker_url_kind(announce);
  if (!kind) return kind.error();
  if (*kind == url_kind::udp) return std::string(announce);
  auto parts = split_http_url(announce);  // validates host, port, user info
  if (!parts) return parts.error();
  // BEP 48: the text after the last '/' of the path must start with "announce". The query
  // and fragment may contain '/', so look only before them.
  const std::size_t path_end = std::min(announce.find('?'), announce.find('#'));
  const std::string_view before = announce.substr(0, path_end);
  const std::size_t slash = before.rfind('/');
  const std::size_t scheme_end = announce.find("://");
  if (slash == std::string_view::npos || slash <= scheme_end + 2 ||
      before.substr(slash + 1, 8) != "announce") {
    return make_error(
        "the announce URL does not end in /announce, so it has no scrape URL "
        "(BEP 48): this tracker does not support scrape");
  }
  std::string out(announce);
  out.replace(slash + 1, 8, "scrape");
  return out;
}

std::string scrape_request_url(std::string_view scrape, std::span<const sha1_hash> hashes) {
  std::string url(scrape.substr(0, scrape.find('#')));
  auto query_at = url.find('?');
  char sep = '?';
  if (query_at != std::string::npos)
    sep = (query_at + 1 == url.size() || url.back() == '&') ? 0 : '&';
  for (const auto& h : hashes) {
    if (sep) url += sep;
    sep = '&';
    url += "info_hash=";
    url += percent_encode(
        std::string_view(reinterpret_cast<const char*>(h.bytes.data()), h.bytes.size()));
  }
  return url;
}

result<scrape_response> parse_scrape_response(std::string_view body, const scrape_limits& lim) {
  if (body.empty()) return make_error("empty scrape response");
  if (body.size() > lim.max_body) {
    return make_error("scrape response is " + std::to_string(body.size()) +
                      " bytes, over the limit of " + std::to_string(lim.max_body));
  }
  bencode::limits blim;
  blim.max_input_size = lim.max_body;
  auto doc = bencode::decode(body, blim);
  if (!doc) return make_error("scrape response is not bencoded: " + doc.error().describe());
  bencode::node root = doc->root();
  if (!root.is_dict()) {
    return make_error(std::string("scrape response is a bencoded ") +
                      bencode::type_name(root.kind()) + ", not a dictionary");
  }
  scrape_response out;
  if (auto reason = root.find("failure reason")) {
    if (!reason->is_string()) return make_error("\"failure reason\" is not a string");
    out.failure_reason = printable(reason->as_string());
    return out;
  }
  auto files = root.find("files");
  if (!files) return make_error("scrape response has no \"files\" dictionary");
  if (!files->is_dict()) return make_error("\"files\" in the scrape response is not a dictionary");

  std::size_t bad_keys = 0, bad_entries = 0, bad_counts = 0, dropped = 0;
  for (auto [key, entry] : files->pairs()) {
    if (key.size() != 20) {
      ++bad_keys;
      continue;
    }
    if (!entry.is_dict()) {
      ++bad_entries;
      continue;
    }
    if (out.files.size() >= lim.max_files) {
      ++dropped;
      continue;
    }
    scrape_stats s;
    std::memcpy(s.info_hash.bytes.data(), key.data(), 20);
    s.seeders = count_of(entry, "complete", bad_counts);
    s.leechers = count_of(entry, "incomplete", bad_counts);
    s.completed = count_of(entry, "downloaded", bad_counts);
    if (auto name = entry.find_string("name")) s.name = printable(*name);
    out.files.push_back(std::move(s));
  }
  auto note = [&](std::size_t n, const std::string& what) {
    if (n) out.notes.push_back("skipped " + std::to_string(n) + " " + what);
  };
  note(bad_keys, "\"files\" keys that are not 20-byte info-hashes");
  note(bad_entries, "\"files\" entries that are not dictionaries");
  note(dropped, "entries over the limit of " + std::to_string(lim.max_files));
  if (bad_counts) {
    out.notes.push_back("read " + std::to_string(bad_counts) +
                        " counts that are not non-negative integers as 0");
  }
  return out;
}

}  // namespace peerwire::tracker
