// A full cross-check of the picker's redundant structures, for tests: every counter that is
// kept incrementally is recomputed from scratch here.
#include <algorithm>
#include <string>

#include "peerwire/picker.hpp"

namespace peerwire::picker {

namespace {
std::string at(const char* what, std::uint64_t n) {
  return what + (" " + std::to_string(n));
}
}  // namespace

std::string piece_picker::check_invariants() const {
  const std::uint32_t n = piece_count_;
  auto count_requests = [](const peer_entry& p, std::uint32_t piece, std::uint32_t index) {
    return std::count_if(p.requests.begin(), p.requests.end(),
                         [&](const request_slot& r) { return r.is(piece, index); });
  };
  // Buckets: a permutation, positions consistent, each wanted piece in its availability's
  // bucket, pieces we have after the wanted range.
  if (starts_.size() < 2 || starts_.front() != 0) return "bucket starts malformed";
  if (starts_.back() != n - have_count_) return "wanted range != pieces not had";
  if (!std::is_sorted(starts_.begin(), starts_.end())) return "bucket starts not sorted";
  for (std::uint32_t k = 0; k < n; ++k) {
    const std::uint32_t piece = order_[k];
    if (piece >= n || pos_[piece] != k) return at("order/pos mismatch at", k);
    const bool wanted = k < starts_.back();
    if (wanted != (state_[piece] != piece_state::have)) return at("have region wrong for", piece);
    if (!wanted) continue;
    const auto b = std::upper_bound(starts_.begin(), starts_.end(), k) - starts_.begin() - 1;
    if (static_cast<std::uint32_t>(b) != avail_[piece]) return at("wrong bucket for", piece);
  }
  if (starts_.size() > 2 && starts_[starts_.size() - 2] == starts_.back())
    return "empty top bucket kept";

  // Availability and per-peer counters.
  std::vector<std::uint32_t> avail(n, 0);
  std::uint32_t seeds = 0;
  for (const auto& [key, p] : peers_) {
    if (p.seed) {
      ++seeds;
      if (!p.bits.empty()) return at("seed with bits", key);
      continue;
    }
    std::uint32_t count = 0, lacking = 0;
    for (std::uint32_t i = 0; i < n && !p.bits.empty(); ++i) {
      if (!entry_has(p, i)) continue;
      ++avail[i];
      ++count;
      if (state_[i] != piece_state::have) ++lacking;
    }
    if (count != p.count || lacking != p.lacking) return at("peer counters wrong for", key);
    if (count == n) return at("full peer not converted to seed", key);
  }
  if (seeds != seeds_) return "seed count wrong";
  if (avail != avail_) return "availability wrong";

  // Our pieces and free blocks.
  std::uint32_t haves = 0;
  std::uint64_t have_bytes = 0, free_blocks = 0;
  for (std::uint32_t i = 0; i < n; ++i) {
    const bool in_flight = downloading_.contains(i);
    switch (state_[i]) {
      case piece_state::have:
        ++haves;
        have_bytes += piece_size(i);
        if (in_flight) return at("had piece still downloading", i);
        break;
      case piece_state::none:
        free_blocks += block_count(i);
        if (in_flight) return at("idle piece has block state", i);
        break;
      default:
        if (!in_flight) return at("downloading piece without block state", i);
    }
  }
  if (haves != have_count_ || have_bytes != have_bytes_) return "have counters wrong";
  if (first_missing_ > n || (first_missing_ < n && state_[first_missing_] == piece_state::have))
    return "first_missing wrong";
  for (std::uint32_t i = 0; i < first_missing_; ++i)
    if (state_[i] != piece_state::have) return "first_missing past a missing piece";

  // Block state against the peers' request lists, both ways.
  std::size_t requests = 0;
  for (const auto& [piece, d] : downloading_) {
    std::uint32_t free = 0, received = 0;
    if (d.blocks.size() != block_count(piece)) return at("block count wrong for", piece);
    for (std::uint32_t i = 0; i < d.blocks.size(); ++i) {
      const block_slot& s = d.blocks[i];
      if (s.state == block_state::free) ++free;
      if (s.state == block_state::received) ++received;
      if (s.state != block_state::requested) continue;
      auto it = peers_.find(s.peer);
      if (it == peers_.end()) return at("request by a removed peer in", piece);
      if (count_requests(it->second, piece, i) != 1)
        return at("request missing from its peer in", piece);
      ++requests;
    }
    for (const auto& [i, peer] : d.extra) {
      if (d.blocks[i].state != block_state::requested || d.blocks[i].peer == peer)
        return at("stray endgame request in", piece);
      if (std::count(d.extra.begin(), d.extra.end(), std::pair{i, peer}) != 1)
        return at("repeated endgame request in", piece);
      auto it = peers_.find(peer);
      if (it == peers_.end()) return at("endgame request by a removed peer in", piece);
      if (count_requests(it->second, piece, i) != 1)
        return at("endgame request missing from its peer in", piece);
      ++requests;
    }
    if (free != d.free || received != d.received) return at("piece counters wrong for", piece);
    if (free == d.blocks.size()) return at("untouched piece kept in flight", piece);
    const bool done = received == d.blocks.size();
    if (done != (state_[piece] == piece_state::complete)) return at("completion wrong", piece);
    free_blocks += free;
  }
  if (free_blocks != free_blocks_) return "free block count wrong";
  std::size_t listed = 0;
  for (const auto& [key, p] : peers_) listed += p.requests.size();
  if (listed != requests) return "peers list requests the blocks do not know";
  if (listed != outstanding_total_) return "outstanding_total wrong";
  return {};
}

}  // namespace peerwire::picker
