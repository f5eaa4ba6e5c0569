// Bencoded HTTP replies, written directly (keys in sorted order) rather than through a value
// tree: one announce reply is a handful of appends into one string.
#include <algorithm>

#include "peerwire/tracker_server_proto.hpp"

namespace peerwire::tracker_server {
namespace {

void put_str(std::string& out, std::string_view s) {
  out += std::to_string(s.size());
  out += ':';
  out += s;
}

void put_int(std::string& out, std::string_view key, std::int64_t v) {
  put_str(out, key);
  out += 'i';
  out += std::to_string(v);
  out += 'e';
}

void put_counts(std::string& out, const swarm_counts& c) {
  put_int(out, "complete", c.complete);
  put_int(out, "downloaded", c.downloaded);
  put_int(out, "incomplete", c.incomplete);
}

void put_compact(std::string& out, const selected_peer& p) {
  out.append(reinterpret_cast<const char*>(p.addr.ip.data()), p.addr.v6 ? 16 : 4);
  out += static_cast<char>(p.addr.port >> 8);
  out += static_cast<char>(p.addr.port & 0xff);
}

}  // namespace

std::string encode_failure(std::string_view reason) {
  std::string out = "d";
  put_str(out, "failure reason");
  put_str(out, reason);
  out += 'e';
  return out;
}

std::string encode_announce_reply(const announce_output& res, bool compact, bool no_peer_id,
                                  std::chrono::seconds interval) {
  std::string out;
  out.reserve(96 + res.peers.size() * (compact ? 18 : 64));
  out += 'd';
  put_counts(out, res.counts);
  put_int(out, "interval", interval.count());
  put_int(out, "min interval", std::max<std::int64_t>(interval.count() / 2, 1));
  put_str(out, "peers");
  if (compact) {
    std::size_t v4 = 0, v6 = 0;
    for (const auto& p : res.peers) ++(p.addr.v6 ? v6 : v4);
    out += std::to_string(v4 * 6);
    out += ':';
    for (const auto& p : res.peers) {
      if (!p.addr.v6) put_compact(out, p);
    }
    if (v6 != 0) {  // BEP 7
      put_str(out, "peers6");
      out += std::to_string(v6 * 18);
      out += ':';
      for (const auto& p : res.peers) {
        if (p.addr.v6) put_compact(out, p);
      }
    }
  } else {
    out += 'l';
    for (const auto& p : res.peers) {
      out += 'd';
      put_str(out, "ip");
      put_str(out, ip_text(p.addr));
      if (!no_peer_id) {
        put_str(out, "peer id");
        put_str(out, std::string_view(reinterpret_cast<const char*>(p.id.data()), p.id.size()));
      }
      put_int(out, "port", p.addr.port);
      out += 'e';
    }
    out += 'e';
  }
  out += 'e';
  return out;
}

std::string encode_scrape_reply(const std::vector<std::pair<sha1_hash, swarm_counts>>& files) {
  std::vector<const std::pair<sha1_hash, swarm_counts>*> sorted;
  sorted.reserve(files.size());
  for (const auto& f : files) sorted.push_back(&f);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->first < b->first; });
  sorted.erase(std::unique(sorted.begin(), sorted.end(),
                           [](auto* a, auto* b) { return a->first == b->first; }),
               sorted.end());
  std::string out = "d";
  put_str(out, "files");
  out += 'd';
  for (const auto* f : sorted) {
    put_str(out, std::string_view(reinterpret_cast<const char*>(f->first.bytes.data()), 20));
    out += 'd';
    put_counts(out, f->second);
    out += 'e';
  }
  out += "ee";
  return out;
}

}  // namespace peerwire::tracker_server
