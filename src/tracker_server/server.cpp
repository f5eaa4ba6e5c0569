// Request dispatch: a request target or a datagram in, a reply out. The IO shell only moves
// bytes, so everything a client can send is handled (and unit-tested, and fuzzed) here.
#include <algorithm>

#include "peerwire/tracker_server_proto.hpp"

namespace peerwire::tracker_server {
namespace {

std::array<std::uint8_t, 16> half(const std::array<std::uint8_t, 32>& s, std::size_t from) {
  std::array<std::uint8_t, 16> out;
  std::copy_n(s.begin() + from, 16, out.begin());
  return out;
}

std::string_view event_text(event e) {
  switch (e) {
    case event::none:
      return "update";
    case event::completed:
      return "completed";
    case event::started:
      return "started";
    case event::stopped:
      return "stopped";
  }
  return "?";
}

void log_announce(std::string* log, std::string_view proto, const endpoint& peer,
                  const sha1_hash& ih, event ev, std::int64_t left, const announce_output& out) {
  if (!log) return;
  *log = std::string(proto) + " " + to_string(peer) + " announce " + ih.hex() + " " +
         std::string(event_text(ev)) + " left=" + std::to_string(left) + " -> " +
         std::to_string(out.peers.size()) + " peers (" + std::to_string(out.counts.complete) +
         " seeders, " + std::to_string(out.counts.incomplete) + " leechers)";
}

void log_failure(std::string* log, std::string_view proto, const endpoint& peer,
                 std::string_view what, std::string_view reason) {
  if (!log) return;
  *log = std::string(proto) + " " + to_string(peer) + " " + std::string(what) +
         " refused: " + std::string(reason);
}

}  // namespace

server::server(settings s, const std::array<std::uint8_t, 32>& secret, std::uint64_t seed)
    : registry_(s, half(secret, 0), seed), ids_(half(secret, 16)) {}

http_reply server::http(std::string_view target, const endpoint& remote, time_point now,
                        std::string* log) {
  std::size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
  if (std::size_t hash = query.find('#'); hash != std::string_view::npos) {
    query = query.substr(0, hash);
  }
  const settings& cfg = registry_.config();

  if (path == "/announce") {
    auto a = parse_announce_query(query);
    if (!a) {
      log_failure(log, "http", remote, "announce", a.error().message);
      return {200, encode_failure(a.error().message)};
    }
    announce_input in;
    in.info_hash = a->info_hash;
    in.id = a->id;
    in.peer = remote;
    in.peer.port = a->port;
    in.left = a->left;
    in.ev = a->ev;
    in.numwant = a->numwant;
    refusal r = registry_.announce(in, now, families::both, scratch_);
    if (r != refusal::none) {
      log_failure(log, "http", in.peer, "announce", describe(r));
      return {200, encode_failure(describe(r))};
    }
    log_announce(log, "http", in.peer, in.info_hash, in.ev, in.left, scratch_);
    return {200, encode_announce_reply(scratch_, a->compact, a->no_peer_id, cfg.interval)};
  }

  if (path == "/scrape") {
    auto hashes = parse_scrape_query(query, cfg.max_scrape_hashes);
    if (!hashes) {
      log_failure(log, "http", remote, "scrape", hashes.error().message);
      return {200, encode_failure(hashes.error().message)};
    }
    if (hashes->empty()) {
      if (!cfg.full_scrape) {
        log_failure(log, "http", remote, "scrape", "full scrape is disabled");
        return {200, encode_failure("full scrape is disabled on this tracker")};
      }
      if (log) *log = "http " + to_string(remote) + " full scrape";
      return {200, encode_scrape_reply(registry_.all_counts())};
    }
    std::vector<std::pair<sha1_hash, swarm_counts>> files;
    for (const auto& h : *hashes) {
      // Unknown torrents are listed with zeros (clients treat a missing entry as an error);
      // torrents outside the allow-list are left out.
      if (!registry_.allowed(h)) continue;
      files.emplace_back(h, registry_.counts(h).value_or(swarm_counts{}));
    }
    if (log) *log = "http " + to_string(remote) + " scrape " + std::to_string(hashes->size());
    return {200, encode_scrape_reply(files)};
  }

  log_failure(log, "http", remote, "request", "unknown path");
  return {404, encode_failure("unknown path: use /announce or /scrape")};
}

bool server::udp(std::span<const std::uint8_t> packet, const endpoint& from, time_point now,
                 std::vector<std::uint8_t>& out, std::string* log) {
  const settings& cfg = registry_.config();
  auto req = decode_udp_request(packet, cfg.max_scrape_hashes);
  if (!req) return false;

  if (auto* c = std::get_if<udp_connect>(&*req)) {
    encode_udp_connect(out, c->transaction_id, ids_.mint(from, now));
    return true;
  }

  // Everything else must carry a connection id we minted for this address: that proves the
  // source address is real (no reflection with a spoofed one). Unknown ids get no reply.
  auto header = std::visit(
      [](const auto& r) -> std::pair<std::uint64_t, std::uint32_t> {
        if constexpr (std::is_same_v<std::decay_t<decltype(r)>, udp_connect>) {
          return {0, r.transaction_id};
        } else {
          return {r.connection_id, r.transaction_id};
        }
      },
      *req);
  if (!ids_.check(header.first, from, now)) return false;

  if (auto* bad = std::get_if<udp_bad_request>(&*req)) {
    log_failure(log, "udp", from, "request", bad->reason);
    encode_udp_error(out, bad->transaction_id, bad->reason);
    return true;
  }

  if (auto* a = std::get_if<udp_announce>(&*req)) {
    announce_input in;
    in.info_hash = a->info_hash;
    in.id = a->id;
    in.peer = from;
    in.peer.port = a->port;
    in.left = std::max<std::int64_t>(a->left, 0);
    in.ev = a->ev;
    // Keep the reply within one Ethernet-sized datagram (no IP fragmentation).
    const int fits = (1400 - 20) / (from.v6 ? 18 : 6);
    in.numwant = a->numwant < 0 ? std::min(cfg.default_numwant, fits) : std::min(a->numwant, fits);
    refusal r = registry_.announce(in, now, from.v6 ? families::v6 : families::v4, scratch_);
    if (r != refusal::none) {
      log_failure(log, "udp", in.peer, "announce", describe(r));
      encode_udp_error(out, a->transaction_id, describe(r));
      return true;
    }
    log_announce(log, "udp", in.peer, in.info_hash, in.ev, in.left, scratch_);
    encode_udp_announce(out, a->transaction_id, cfg.interval, scratch_, from.v6);
    return true;
  }

  const auto& s = std::get<udp_scrape>(*req);
  std::vector<swarm_counts> counts;
  counts.reserve(s.hashes.size());
  for (const auto& h : s.hashes) counts.push_back(registry_.counts(h).value_or(swarm_counts{}));
  if (log) *log = "udp " + to_string(from) + " scrape " + std::to_string(s.hashes.size());
  encode_udp_scrape(out, s.transaction_id, counts);
  return true;
}

}  // namespace peerwire::tracker_server
