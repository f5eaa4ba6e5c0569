// The swarm registry: torrents -> peers, with O(1) add/refresh/remove per announce (a dense
// vector per torrent plus an address index; removal swaps with the last entry), lazy expiry,
// and hard bounds on torrents and peers so a flood of made-up info-hashes cannot exhaust memory.
#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "peerwire/tracker_server.hpp"
#include "siphash.hpp"

namespace peerwire::tracker_server {
namespace {

struct keyed_hash {
  detail::sip_key key;
  std::size_t operator()(const sha1_hash& h) const {
    return static_cast<std::size_t>(detail::siphash24(key, h.bytes));
  }
  std::size_t operator()(const endpoint& e) const {
    std::array<std::uint8_t, 19> buf{};
    std::copy(e.ip.begin(), e.ip.end(), buf.begin());
    buf[16] = static_cast<std::uint8_t>(e.port >> 8);
    buf[17] = static_cast<std::uint8_t>(e.port);
    buf[18] = e.v6 ? 1 : 0;
    return static_cast<std::size_t>(detail::siphash24(key, buf));
  }
};

struct peer_rec {
  endpoint addr;
  peer_id id{};
  time_point last_seen{};
  bool seed = false;
};

struct torrent {
  std::vector<peer_rec> peers;
  std::unordered_map<endpoint, std::uint32_t, keyed_hash> index;
  std::uint32_t seeds = 0;
  std::uint32_t downloaded = 0;
  time_point last_sweep{};
  // A lower bound of every peer's last_seen (exact after a sweep; refreshes only raise the
  // true minimum): no peer can have expired while now - lifetime <= oldest.
  time_point oldest{};

  explicit torrent(const keyed_hash& h) : index(0, h) {}

  swarm_counts counts() const {
    return {seeds, static_cast<std::uint32_t>(peers.size()) - seeds, downloaded};
  }

  void remove_at(std::size_t i) {
    if (peers[i].seed) --seeds;
    index.erase(peers[i].addr);
    if (i + 1 != peers.size()) {
      peers[i] = peers.back();
      index[peers[i].addr] = static_cast<std::uint32_t>(i);
    }
    peers.pop_back();
  }

  // Returns how many peers were dropped.
  std::size_t sweep(time_point cutoff, time_point now) {
    std::size_t dropped = 0;
    oldest = now;
    for (std::size_t i = peers.size(); i-- > 0;) {
      if (peers[i].last_seen < cutoff) {
        remove_at(i);
        ++dropped;
      } else {
        oldest = std::min(oldest, peers[i].last_seen);
      }
    }
    last_sweep = now;
    return dropped;
  }
};

bool family_ok(const endpoint& e, families f) {
  return f == families::both || (f == families::v6) == e.v6;
}

// splitmix64: a small fast generator for the random starting point of peer selection.
std::uint64_t next_random(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

std::string_view describe(refusal r) {
  switch (r) {
    case refusal::none:
      return "";
    case refusal::not_allowed:
      return "info_hash is not served by this tracker";
    case refusal::too_many_torrents:
      return "tracker is full: too many torrents";
    case refusal::too_many_peers:
      return "tracker is full: too many peers";
  }
  return "";
}

struct registry::impl {
  keyed_hash hasher;
  std::unordered_map<sha1_hash, torrent, keyed_hash> torrents;
  std::optional<std::unordered_set<sha1_hash, keyed_hash>> allow;
  std::size_t peers = 0;
  std::uint64_t rng;

  impl(const keyed_hash& h, std::uint64_t seed) : hasher(h), torrents(0, h), rng(seed) {}
};

registry::registry(settings s, const std::array<std::uint8_t, 16>& hash_key, std::uint64_t seed)
    : settings_(s),
      impl_(std::make_unique<impl>(keyed_hash{detail::sip_key::from(hash_key.data())}, seed)) {
  settings_.interval = std::max(settings_.interval, std::chrono::seconds(1));
  settings_.expiry_intervals = std::max(settings_.expiry_intervals, 1);
  settings_.max_numwant = std::max(settings_.max_numwant, 0);
  settings_.default_numwant = std::clamp(settings_.default_numwant, 0, settings_.max_numwant);
}

registry::~registry() = default;

refusal registry::announce(const announce_input& in, time_point now, families fam,
                           announce_output& out) {
  auto& m = *impl_;
  if (!allowed(in.info_hash)) return refusal::not_allowed;
  const auto lifetime = settings_.interval * settings_.expiry_intervals;
  auto it = m.torrents.find(in.info_hash);
  if (it == m.torrents.end()) {
    if (in.ev == event::stopped) {  // nothing to remove, nothing to create
      out.counts = {};
      out.peers.clear();
      return refusal::none;
    }
    if (m.torrents.size() >= settings_.max_torrents) return refusal::too_many_torrents;
    if (m.peers >= settings_.max_peers) return refusal::too_many_peers;
    it = m.torrents.emplace(in.info_hash, torrent(m.hasher)).first;
    it->second.last_sweep = now;
    it->second.oldest = now;
  }
  torrent& t = it->second;
  // Sweep this torrent when one of its peers may have expired (at most once a second), so
  // its counts and peer lists are exact even if the periodic global expire() is late; a
  // swarm whose peers keep announcing is swept about once per interval.
  if (now - lifetime > t.oldest && now - t.last_sweep >= std::chrono::seconds(1)) {
    m.peers -= t.sweep(now - lifetime, now);
  }

  const bool seed = in.left == 0;
  auto found = t.index.find(in.peer);
  if (in.ev == event::stopped) {
    if (found != t.index.end()) {
      t.remove_at(found->second);
      --m.peers;
    }
    out.counts = t.counts();
    out.peers.clear();
    return refusal::none;
  }
  if (found == t.index.end()) {
    if (m.peers >= settings_.max_peers) return refusal::too_many_peers;
    t.index.emplace(in.peer, static_cast<std::uint32_t>(t.peers.size()));
    t.peers.push_back(peer_rec{in.peer, in.id, now, seed});
    if (seed) ++t.seeds;
    ++m.peers;
    if (in.ev == event::completed) ++t.downloaded;
  } else {
    peer_rec& p = t.peers[found->second];
    if (in.ev == event::completed && !p.seed) ++t.downloaded;
    if (p.seed != seed) seed ? ++t.seeds : --t.seeds;
    p.seed = seed;
    p.id = in.id;
    p.last_seen = now;
  }

  out.counts = t.counts();
  out.peers.clear();
  int want =
      in.numwant < 0 ? settings_.default_numwant : std::min(in.numwant, settings_.max_numwant);
  const std::size_t n = t.peers.size();
  if (want <= 0 || n <= 1) return refusal::none;
  const time_point cutoff = now - lifetime;
  // Walk the whole swarm from a random start: fair without shuffling, O(numwant) when most
  // peers qualify, and bounded by the swarm size when few do.
  const std::size_t start = static_cast<std::size_t>(next_random(m.rng) % n);
  const std::size_t limit = static_cast<std::size_t>(want);
  auto take = [&](std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to && out.peers.size() < limit; ++i) {
      const peer_rec& p = t.peers[i];
      if ((seed && p.seed) || p.last_seen < cutoff || !family_ok(p.addr, fam)) continue;
      if (p.addr == in.peer) continue;
      out.peers.push_back(selected_peer{p.addr, p.id});
    }
  };
  take(start, n);
  take(0, start);
  return refusal::none;
}

std::optional<swarm_counts> registry::counts(const sha1_hash& ih) const {
  if (!allowed(ih)) return std::nullopt;
  auto it = impl_->torrents.find(ih);
  if (it == impl_->torrents.end()) return std::nullopt;
  return it->second.counts();
}

std::vector<std::pair<sha1_hash, swarm_counts>> registry::all_counts() const {
  std::vector<std::pair<sha1_hash, swarm_counts>> out;
  out.reserve(impl_->torrents.size());
  for (const auto& [ih, t] : impl_->torrents) out.emplace_back(ih, t.counts());
  return out;
}

void registry::expire(time_point now) {
  auto& m = *impl_;
  const time_point cutoff = now - settings_.interval * settings_.expiry_intervals;
  for (auto it = m.torrents.begin(); it != m.torrents.end();) {
    m.peers -= it->second.sweep(cutoff, now);
    if (it->second.peers.empty()) {
      it = m.torrents.erase(it);
    } else {
      ++it;
    }
  }
}

void registry::set_allow_list(std::optional<std::vector<sha1_hash>> hashes) {
  auto& m = *impl_;
  if (!hashes) {
    m.allow.reset();
    return;
  }
  m.allow.emplace(hashes->begin(), hashes->end(), hashes->size(), m.hasher);
  for (auto it = m.torrents.begin(); it != m.torrents.end();) {
    if (m.allow->count(it->first) == 0) {
      m.peers -= it->second.peers.size();
      it = m.torrents.erase(it);
    } else {
      ++it;
    }
  }
}

bool registry::allowed(const sha1_hash& ih) const {
  return !impl_->allow || impl_->allow->count(ih) != 0;
}

std::size_t registry::torrent_count() const {
  return impl_->torrents.size();
}

std::size_t registry::peer_count() const {
  return impl_->peers;
}

}  // namespace peerwire::tracker_server
