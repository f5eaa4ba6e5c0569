#include "peerwire/choker.hpp"

#include <algorithm>
#include <utility>

namespace peerwire::choker {

namespace {

// Per-candidate facts the ranking sorts on, computed once per rechoke.
struct ranked {
  const peer_info* peer;
  bool on_turn;          // round_robin: still inside its guaranteed turn
  time_point last_slot;  // when it last held a regular slot (now if it holds one)
};

bool is_new(const peer_info& p, const settings& s, time_point now) {
  return now - p.connected_at < s.new_peer_age;
}

}  // namespace

choker::choker(settings s, std::uint64_t seed) : settings_(s), rng_state_(seed) {}

// splitmix64: tiny, fast and the same on every platform and standard library (unlike
// std::uniform_int_distribution), so a seed replays the same decisions everywhere.
std::uint64_t choker::next_random() {
  std::uint64_t z = (rng_state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::vector<const peer_info*> choker::rank(std::span<const peer_info* const> candidates,
                                           bool seeding, time_point now) {
  std::vector<ranked> order;
  order.reserve(candidates.size());
  for (const auto* p : candidates) {
    const auto& rec = records_[p->key];
    const bool holding = rec.slot_since.has_value();
    order.push_back(
        {p, holding && now - *rec.slot_since < settings_.seed_turn, holding ? now : rec.last_slot});
  }
  // Shuffle first, then stable-sort: peers equal on every criterion end up in seeded random
  // order instead of always favouring the same key.
  for (std::size_t i = order.size(); i > 1; --i) {
    std::swap(order[i - 1], order[next_random() % i]);
  }

  // Among equal rates the peer that waited longest goes first, so equal peers take turns.
  auto by_rate_then_waiting = [](double rate_a, double rate_b, const ranked& a, const ranked& b) {
    if (rate_a != rate_b) return rate_a > rate_b;
    return a.last_slot < b.last_slot;
  };
  if (!seeding) {
    std::stable_sort(order.begin(), order.end(), [&](const ranked& a, const ranked& b) {
      return by_rate_then_waiting(a.peer->download_rate, b.peer->download_rate, a, b);
    });
  } else if (settings_.seeding == seed_policy::fastest_upload) {
    std::stable_sort(order.begin(), order.end(), [&](const ranked& a, const ranked& b) {
      return by_rate_then_waiting(a.peer->upload_rate, b.peer->upload_rate, a, b);
    });
  } else {
    // round_robin: peers inside their turn keep it (fastest first, in case slots shrank);
    // then whoever has waited longest, faster upload breaking ties.
    std::stable_sort(order.begin(), order.end(), [](const ranked& a, const ranked& b) {
      if (a.on_turn != b.on_turn) return a.on_turn;
      if (a.on_turn) return a.peer->upload_rate > b.peer->upload_rate;
      if (a.last_slot != b.last_slot) return a.last_slot < b.last_slot;
      return a.peer->upload_rate > b.peer->upload_rate;
    });
  }

  std::vector<const peer_info*> out;
  out.reserve(order.size());
  for (const auto& r : order) out.push_back(r.peer);
  return out;
}

void choker::update_optimistic(std::span<const peer_info* const> peers,
                               const std::unordered_set<peer_key>& regular, time_point now) {
  std::vector<const peer_info*> candidates;
  for (const auto* p : peers) {
    // Snubbed peers may win: the optimistic slot is their way back in.
    if (p->interested && !regular.contains(p->key)) candidates.push_back(p);
  }
  const bool current_valid =
      optimistic_ && std::any_of(candidates.begin(), candidates.end(),
                                 [&](const peer_info* p) { return p->key == *optimistic_; });
  if (current_valid && now - optimistic_since_ < settings_.optimistic_interval) return;

  std::vector<const peer_info*> pool;
  for (const auto* p : candidates) {
    if (!current_valid || p->key != *optimistic_) pool.push_back(p);
  }
  if (pool.empty()) {
    // Nobody else to rotate to: the current one (if any) starts a new period.
    if (!current_valid) optimistic_.reset();
    optimistic_since_ = now;
    return;
  }
  std::vector<const peer_info*> eligible;
  for (const auto* p : pool) {
    if (!had_optimistic_.contains(p->key)) eligible.push_back(p);
  }
  if (eligible.empty()) {
    // Everyone had a turn: start a new round (the outgoing peer counts as served in it).
    had_optimistic_.clear();
    if (current_valid) had_optimistic_.insert(*optimistic_);
    eligible = pool;
  }

  // New peers have no pieces to trade yet; a 3x chance lets them bootstrap (as in BEP 3 lore
  // and mainline), without starving old peers.
  std::uint64_t total = 0;
  for (const auto* p : eligible) total += is_new(*p, settings_, now) ? 3 : 1;
  std::uint64_t r = next_random() % total;
  const peer_info* pick = eligible.back();
  for (const auto* p : eligible) {
    const std::uint64_t w = is_new(*p, settings_, now) ? 3 : 1;
    if (r < w) {
      pick = p;
      break;
    }
    r -= w;
  }
  optimistic_ = pick->key;
  optimistic_since_ = now;
  had_optimistic_.insert(pick->key);
}

decision choker::rechoke(std::span<const peer_info> peers, bool seeding, time_point now) {
  // Work in key order so the decision does not depend on the order of the snapshot.
  std::vector<const peer_info*> sorted;
  sorted.reserve(peers.size());
  for (const auto& p : peers) sorted.push_back(&p);
  std::sort(sorted.begin(), sorted.end(),
            [](const peer_info* a, const peer_info* b) { return a->key < b->key; });

  // Forget peers that are gone.
  std::unordered_set<peer_key> present;
  for (const auto* p : sorted) present.insert(p->key);
  std::erase_if(records_, [&](const auto& kv) { return !present.contains(kv.first); });
  std::erase_if(had_optimistic_, [&](peer_key k) { return !present.contains(k); });
  if (optimistic_ && !present.contains(*optimistic_)) optimistic_.reset();

  // Trust the caller's choke state over our memory if they disagree (a decision not applied,
  // or a peer the caller unchoked itself).
  for (const auto* p : sorted) {
    auto& rec = records_[p->key];
    if (p->choked_by_us && rec.slot_since) {
      rec.slot_since.reset();
      rec.last_slot = now;
    } else if (!p->choked_by_us && !rec.slot_since && optimistic_ != p->key) {
      rec.slot_since = now;
    }
  }

  std::vector<const peer_info*> candidates;
  for (const auto* p : sorted) {
    if (p->interested && !p->snubbed) candidates.push_back(p);
  }
  const auto order = rank(candidates, seeding, now);
  std::unordered_set<peer_key> regular;
  for (std::size_t i = 0; i < order.size() && i < settings_.slots; ++i) {
    regular.insert(order[i]->key);
  }

  for (const auto* p : sorted) {
    auto& rec = records_[p->key];
    if (regular.contains(p->key)) {
      if (!rec.slot_since) rec.slot_since = now;
    } else if (rec.slot_since) {
      rec.slot_since.reset();
      rec.last_slot = now;
    }
  }

  update_optimistic(sorted, regular, now);

  decision d;
  d.optimistic = optimistic_;
  for (const auto* p : sorted) {
    const bool unchoked = regular.contains(p->key) || optimistic_ == p->key;
    if (unchoked && p->choked_by_us) d.unchoke.push_back(p->key);
    if (!unchoked && !p->choked_by_us) d.choke.push_back(p->key);
  }
  next_rechoke_ = now + settings_.rechoke_interval;
  return d;
}

void choker::peer_left(peer_key key) {
  records_.erase(key);
  had_optimistic_.erase(key);
  if (optimistic_ == key) optimistic_.reset();
}

}  // namespace peerwire::choker
