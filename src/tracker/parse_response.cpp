// Announce response parsing (BEP 3, BEP 23 compact peers, BEP 7 peers6). Pure.
#include <algorithm>
#include <cstring>

#include "peerwire/bencode.hpp"
#include "peerwire/ip_text.hpp"
#include "peerwire/tracker.hpp"

namespace peerwire::tracker {
namespace {

using std::chrono::seconds;

// Tracker text reaches the user's terminal: control bytes (escape sequences) become '?', and
// the length is capped so a hostile tracker cannot flood the screen or the log.
std::string printable(std::string_view s) {
  constexpr std::size_t max_text = 1024;
  std::string out;
  out.reserve(std::min(s.size(), max_text));
  for (std::size_t i = 0; i < s.size() && i < max_text; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    out += (c < 0x20 || c == 0x7f) ? '?' : s[i];
  }
  if (s.size() > max_text) out += "...";
  return out;
}

// Collects peers up to the limit and counts everything that was not kept, so the notes can
// say what happened instead of silently shrinking the swarm.
class peer_sink {
 public:
  peer_sink(std::vector<peer_endpoint>& out, std::size_t max) : out_(out), max_(max) {}

  bool full() const { return out_.size() >= max_; }
  void drop(std::size_t n = 1) { dropped_ += n; }
  void add(std::string address, std::uint16_t port, std::optional<wire::peer_id> id = {}) {
    if (port == 0) {
      ++port_zero_;
    } else if (full()) {
      ++dropped_;
    } else {
      out_.push_back({std::move(address), port, id});
    }
  }
  void skip_malformed() { ++malformed_; }
  void skip_host_name() { ++host_names_; }

  void write_notes(std::vector<std::string>& notes) const {
    auto note = [&](std::size_t n, const std::string& what) {
      if (n != 0) notes.push_back("skipped " + std::to_string(n) + " " + what);
    };
    note(port_zero_, "peers with port 0");
    note(malformed_, "malformed peer entries");
    note(host_names_, "peers given by host name instead of IP address");
    if (dropped_ != 0) {
      notes.push_back("dropped " + std::to_string(dropped_) + " peers over the limit of " +
                      std::to_string(max_));
    }
  }

 private:
  std::vector<peer_endpoint>& out_;
  std::size_t max_;
  std::size_t dropped_ = 0, port_zero_ = 0, malformed_ = 0, host_names_ = 0;
};

std::uint16_t port_at(const unsigned char* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

std::string address_text(bool v6, const unsigned char* raw) {
  if (v6) return ipv6_text(std::span<const std::uint8_t, 16>(raw, 16));
  return ipv4_text(std::span<const std::uint8_t, 4>(raw, 4));
}

// BEP 23 (IPv4, 6 bytes per peer) and BEP 7 (IPv6, 18 bytes per peer).
result<bool> read_compact(std::string_view key, std::string_view bytes, bool v6, peer_sink& sink) {
  const std::size_t addr_len = v6 ? 16 : 4, entry = addr_len + 2;
  if (bytes.size() % entry != 0) {
    return make_error("\"" + std::string(key) + "\" is " + std::to_string(bytes.size()) +
                      " bytes, not a multiple of " + std::to_string(entry));
  }
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  for (std::size_t i = 0; i < bytes.size(); i += entry) {
    if (sink.full()) {  // only count the rest: formatting them would be wasted work
      for (; i < bytes.size(); i += entry) {
        if (port_at(p + i + addr_len) != 0) sink.drop();
      }
      break;
    }
    sink.add(address_text(v6, p + i), port_at(p + i + addr_len));
  }
  return true;
}

// Canonical text of an IPv4/IPv6 literal, or nullopt for anything else (host names).
std::optional<std::string> ip_literal(std::string_view ip) {
  if (auto v4 = parse_ipv4(ip)) return ipv4_text(*v4);
  if (auto v6 = parse_ipv6(ip)) return ipv6_text(*v6);
  return {};
}

// BEP 3 dictionary form: a list of {"ip", "port", optional "peer id"}.
void read_dict_peers(const bencode::node& list, peer_sink& sink) {
  for (bencode::node item : list.items()) {
    if (sink.full()) {
      sink.drop();
      continue;
    }
    auto ip = item.find_string("ip");
    auto port = item.find_int("port");
    if (!item.is_dict() || !ip || !port || *port < 0 || *port > 65535) {
      sink.skip_malformed();
      continue;
    }
    auto address = ip_literal(*ip);
    if (!address) {
      sink.skip_host_name();
      continue;
    }
    std::optional<wire::peer_id> id;
    if (auto raw = item.find_string("peer id"); raw && raw->size() == 20) {
      id.emplace();
      std::memcpy(id->data(), raw->data(), 20);
    }
    sink.add(std::move(*address), static_cast<std::uint16_t>(*port), id);
  }
}

seconds clamp_interval(std::string_view name, std::int64_t value, const response_limits& lim,
                       std::vector<std::string>& notes) {
  auto clamp_to = [&](seconds to) {
    notes.push_back(std::string(name) + " " + std::to_string(value) + " clamped to " +
                    std::to_string(to.count()) + " s");
    return to;
  };
  if (value < lim.min_interval_floor.count()) return clamp_to(lim.min_interval_floor);
  if (value > lim.max_interval.count()) return clamp_to(lim.max_interval);
  return seconds(value);
}

failure wrong_type(std::string_view key, std::string_view expected, const bencode::node& n) {
  std::string got = bencode::type_name(n.kind());
  const char* article = got == "integer" ? " is an " : " is a ";
  return make_error("\"" + std::string(key) + "\"" + article + got + ", expected " +
                    std::string(expected));
}

// Statistics a tracker may send: wrong types or negative counts are ignored with a note.
std::optional<std::int64_t> advisory_count(const bencode::node& root, std::string_view key,
                                           std::vector<std::string>& notes) {
  auto n = root.find(key);
  if (!n) return {};
  if (n->is_int() && n->as_int() >= 0) return n->as_int();
  notes.push_back("ignored \"" + std::string(key) + "\": not a non-negative integer");
  return {};
}

}  // namespace

result<announce_response> parse_announce_response(std::string_view body,
                                                  const response_limits& lim) {
  if (body.empty()) return make_error("empty tracker response");
  if (body.size() > lim.max_body) {
    return make_error("tracker response is " + std::to_string(body.size()) +
                      " bytes, over the limit of " + std::to_string(lim.max_body));
  }
  bencode::limits blim;
  blim.max_input_size = lim.max_body;
  auto doc = bencode::decode(body, blim);
  if (!doc) return make_error("tracker response is not bencoded: " + doc.error().describe());
  bencode::node root = doc->root();
  if (!root.is_dict()) {
    return make_error(std::string("tracker response is a bencoded ") +
                      bencode::type_name(root.kind()) + ", not a dictionary");
  }

  announce_response out;
  if (auto reason = root.find("failure reason")) {
    if (!reason->is_string()) return wrong_type("failure reason", "a string", *reason);
    out.failure_reason = printable(reason->as_string());
    return out;  // BEP 3: when present, no other key may be relied on
  }

  if (auto warning = root.find("warning message")) {
    if (warning->is_string()) {
      out.warning_message = printable(warning->as_string());
    } else {
      out.notes.push_back("ignored \"warning message\": not a string");
    }
  }

  auto interval = root.find("interval");
  auto peers = root.find("peers");
  auto peers6 = root.find("peers6");
  if (!interval && !peers && !peers6) {
    return make_error("tracker response has none of \"failure reason\", \"interval\", \"peers\"");
  }
  if (interval) {
    if (!interval->is_int()) return wrong_type("interval", "an integer", *interval);
    out.interval = clamp_interval("interval", interval->as_int(), lim, out.notes);
  } else {
    out.notes.push_back("no interval in the response; using " +
                        std::to_string(out.interval.count()) + " s");
  }
  if (auto min = root.find("min interval")) {
    if (!min->is_int()) return wrong_type("min interval", "an integer", *min);
    out.min_interval = clamp_interval("min interval", min->as_int(), lim, out.notes);
  }
  if (auto id = root.find("tracker id")) {
    if (!id->is_string()) return wrong_type("tracker id", "a string", *id);
    constexpr std::size_t max_tracker_id = 1024;  // it is echoed in every later announce
    if (id->as_string().size() <= max_tracker_id) {
      out.tracker_id = std::string(id->as_string());
    } else {
      out.notes.push_back("ignored a tracker id of " + std::to_string(id->as_string().size()) +
                          " bytes");
    }
  }
  out.complete = advisory_count(root, "complete", out.notes);
  out.incomplete = advisory_count(root, "incomplete", out.notes);

  peer_sink sink(out.peers, lim.max_peers);
  if (peers) {
    if (peers->is_string()) {
      auto ok = read_compact("peers", peers->as_string(), false, sink);
      if (!ok) return ok.error();
    } else if (peers->is_list()) {
      read_dict_peers(*peers, sink);
    } else {
      return wrong_type("peers", "a string or a list", *peers);
    }
  }
  if (peers6) {
    if (!peers6->is_string()) return wrong_type("peers6", "a string", *peers6);
    auto ok = read_compact("peers6", peers6->as_string(), true, sink);
    if (!ok) return ok.error();
  }
  sink.write_notes(out.notes);
  return out;
}

}  // namespace peerwire::tracker
