// Peer exchange (BEP 11, ut_pex): telling each peer which other peers we are connected to,
// at most once per interval, and dialling the peers others tell us about. Never for private
// torrents (BEP 27: their peers come from the tracker only).
#include <algorithm>

#include <fmt/format.h>

#include "torrent.hpp"

namespace peerwire::session_detail {

namespace {
// The first message waits a little: a new connection's view of the swarm is still forming,
// and this keeps a burst of connections from each getting a near-empty list.
constexpr auto first_pex_delay = std::chrono::seconds(2);
}  // namespace

void torrent::on_pex(peer_entry& p, std::span<const std::uint8_t> payload) {
  if (params_.torrent.is_private) return;
  // BEP 11: at most one message a minute; a faster sender is ignored, not obeyed.
  auto now = host_.now();
  if (p.last_pex_in != steady::time_point{} &&
      now - p.last_pex_in < host_.settings().pex_interval / 2)
    return;
  p.last_pex_in = now;
  auto msg = ext::parse_pex(payload);
  if (!msg) return;  // a malformed list is ignored; the peer may still be a good source
  // BEP 11 senders list at most 50 added peers a message; more is not taken from anyone.
  // A seed has no use for other seeds.
  constexpr std::size_t max_added_taken = 50;
  bool seeding = have_metadata_ && picker_.complete();
  std::vector<tracker::peer_endpoint> found;
  for (const auto& a : msg->added) {
    if (found.size() == max_added_taken) break;
    if (seeding && (a.flags & ext::pex_flag::seed)) continue;
    found.push_back({a.endpoint.address, a.endpoint.port, {}});
  }
  // add_candidates bounds the list (2000) and skips ourselves and known entries.
  std::size_t before = candidates_.size();
  add_candidates(found, /*from_pex=*/true);
  std::size_t learnt = candidates_.size() - before;
  if (learnt == 0) return;
  pex_received_ += learnt;
  note(fmt::format("learnt {} new peer(s) through PEX from {}", learnt, p.conn->peer_name()));
  connect_more(now);
}

void torrent::send_pex(steady::time_point now) {
  if (params_.torrent.is_private || peers_.empty()) return;
  // Only addresses others can dial: ours out (the remote port is its listener), or theirs
  // in when they told us their listen port ("p").
  std::vector<std::pair<picker::peer_key, ext::pex_peer>> connected;
  for (const auto& [k, p] : peers_) {
    if (!p.conn->handshake_done()) continue;
    const auto& ext = p.conn->remote_extensions();
    const auto& remote = p.conn->remote();
    std::uint8_t flags = 0;
    std::uint16_t port = remote.port;
    if (p.conn->outgoing()) {
      flags |= ext::pex_flag::reachable;
    } else if (ext && ext->listen_port && *ext->listen_port != 0) {
      port = *ext->listen_port;
    } else {
      continue;
    }
    if (p.conn->state().peer_is_seed() || (ext && ext->upload_only)) flags |= ext::pex_flag::seed;
    connected.push_back({k, {{peer::to_string(remote.ip), port}, flags}});
  }
  std::vector<ext::pex_peer> others;
  for (auto& [k, p] : peers_) {
    if (!p.conn->peer_supports("ut_pex")) continue;
    if (!p.pex) {
      p.pex = std::make_unique<ext::pex_tracker>(now);
      p.next_pex = now + first_pex_delay;
    }
    if (now < p.next_pex) continue;
    p.next_pex = now + host_.settings().pex_interval;
    others.clear();
    for (const auto& [other_key, entry] : connected) {
      if (other_key != k) others.push_back(entry);
    }
    if (auto m = p.pex->make_message(others, now)) {
      auto payload = ext::encode_pex(*m);
      p.conn->send_extended(
          "ut_pex", {reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size()});
    }
  }
}

}  // namespace peerwire::session_detail
