// Choosing blocks for a peer. Order of preference:
//   1. a choked peer: only its allowed-fast pieces (BEP 6);
//   2. free blocks of partial pieces — P = pieces in flight, O(P log P) per call;
//   3. new pieces: rarest first, walking availability buckets upward from the rarest one the
//      peer can have, each from a random start; or lowest index first in sequential mode;
//   4. strict endgame (nothing free anywhere): blocks in flight at other peers, fewest
//      requesters first — O(blocks in flight) per call.
// Step 3 stops as soon as max_blocks are taken. Its cost is the number of pieces walked
// before finding ones the peer has: about 1/f for a peer holding a fraction f of what is
// rarest, O(pieces) only for a peer lacking nearly everything rarer than what it has.
#include <algorithm>
#include <tuple>

#include "peerwire/picker.hpp"

namespace peerwire::picker {

std::vector<block> piece_picker::pick(peer_key peer, std::size_t max_blocks, bool peer_choking_us,
                                      bool start_new, std::size_t max_new_pieces, time_point now) {
  peer_entry& p = entry(peer);
  std::vector<block> out;
  new_pieces_left_ = start_new ? max_new_pieces : 0;
  now_ = now;
  // Nothing we lack at this peer: skip the walks below, which would find nothing.
  if (max_blocks == 0 || complete() || (!p.seed && p.lacking == 0)) return out;
  if (peer_choking_us) {
    pick_allowed_fast(peer, p, max_blocks, out);
  } else {
    pick_partials(peer, p, max_blocks, out);
    if (new_pieces_left_ > 0 && out.size() < max_blocks && free_blocks_ > 0) {
      if (sequential_)
        pick_sequential(peer, p, max_blocks, out);
      else
        pick_rarest(peer, p, max_blocks, out);
    }
  }
  if (out.size() < max_blocks && in_endgame())
    pick_endgame(peer, p, max_blocks, peer_choking_us, out);
  return out;
}

std::size_t piece_picker::take_free(peer_key peer, peer_entry& p, std::uint32_t piece,
                                    std::size_t max, std::vector<block>& out) {
  if (out.size() >= max) return 0;
  auto it = downloading_.find(piece);
  if (it == downloading_.end()) {
    if (!can_start(piece)) return 0;
    --new_pieces_left_;
    downloading_piece d;
    d.blocks.resize(block_count(piece));
    d.free = static_cast<std::uint32_t>(d.blocks.size());
    it = downloading_.emplace(piece, std::move(d)).first;
    state_[piece] = piece_state::downloading;
  }
  downloading_piece& d = it->second;
  std::size_t taken = 0;
  for (std::uint32_t i = 0; i < d.blocks.size() && d.free > 0 && out.size() < max; ++i) {
    block_slot& s = d.blocks[i];
    if (s.state != block_state::free) continue;
    s.state = block_state::requested;
    s.peer = peer;
    --d.free;
    --free_blocks_;
    add_request(p, piece, i);
    out.push_back(block_at(piece, i));
    ++taken;
  }
  return taken;
}

void piece_picker::pick_partials(peer_key peer, peer_entry& p, std::size_t max,
                                 std::vector<block>& out) {
  // Closest to done first: a finished piece can be verified, shared and its block state
  // dropped sooner. Then rarest, then lowest index. Sequential mode: index order only.
  std::vector<std::tuple<std::uint32_t, std::uint32_t, std::uint32_t>> candidates;
  for (const auto& [piece, d] : downloading_) {
    if (state_[piece] != piece_state::downloading || d.free == 0 || !entry_has(p, piece)) continue;
    if (sequential_)
      candidates.emplace_back(0, 0, piece);
    else
      candidates.emplace_back(d.free, avail_[piece], piece);
  }
  std::sort(candidates.begin(), candidates.end());
  for (const auto& c : candidates) {
    take_free(peer, p, std::get<2>(c), max, out);
    if (out.size() >= max) return;
  }
}

void piece_picker::pick_rarest(peer_key peer, peer_entry& p, std::size_t max,
                               std::vector<block>& out) {
  // Buckets count non-seed peers, so a non-seed peer's pieces are all in bucket 1 or higher.
  for (std::size_t b = p.seed ? 0 : 1; b + 1 < starts_.size(); ++b) {
    const std::uint32_t lo = starts_[b];
    const std::uint32_t n = starts_[b + 1] - lo;
    if (n == 0) continue;
    // take_free does not move pieces between buckets, so the walk stays valid.
    const std::uint32_t start = static_cast<std::uint32_t>(next_random() % n);
    for (std::uint32_t j = 0; j < n; ++j) {
      const std::uint32_t k = start + j < n ? start + j : start + j - n;
      const std::uint32_t piece = order_[lo + k];
      if (!can_start(piece) || !entry_has(p, piece)) continue;
      take_free(peer, p, piece, max, out);
      if (out.size() >= max || new_pieces_left_ == 0) return;
    }
  }
}

void piece_picker::pick_sequential(peer_key peer, peer_entry& p, std::size_t max,
                                   std::vector<block>& out) {
  // Walks from the first piece we lack; skipped pieces are ones in flight, ones the peer
  // lacks, and ones we have beyond a gap — usually few in streaming use.
  for (std::uint32_t piece = first_missing_; piece < piece_count_; ++piece) {
    if (!can_start(piece) || !entry_has(p, piece)) continue;
    take_free(peer, p, piece, max, out);
    if (out.size() >= max || new_pieces_left_ == 0) return;
  }
}

void piece_picker::pick_allowed_fast(peer_key peer, peer_entry& p, std::size_t max,
                                     std::vector<block>& out) {
  for (std::uint32_t piece : p.allowed_fast) {
    if (state_[piece] == piece_state::have || state_[piece] == piece_state::complete) continue;
    if (!can_start(piece) && state_[piece] != piece_state::downloading) continue;
    if (!entry_has(p, piece)) continue;
    take_free(peer, p, piece, max, out);
    if (out.size() >= max) return;
  }
}

bool piece_picker::requested_by(const downloading_piece& d, std::uint32_t index,
                                peer_key peer) const {
  const block_slot& s = d.blocks[index];
  if (s.state != block_state::requested) return false;
  if (s.peer == peer) return true;
  return std::find(d.extra.begin(), d.extra.end(), std::pair{index, peer}) != d.extra.end();
}

void piece_picker::pick_endgame(peer_key peer, peer_entry& p, std::size_t max, bool choked,
                                std::vector<block>& out) {
  struct candidate {
    std::uint32_t requesters, piece, index;
    bool operator<(const candidate& o) const {
      return std::tie(requesters, piece, index) < std::tie(o.requesters, o.piece, o.index);
    }
  };
  std::vector<candidate> candidates;
  std::vector<std::uint32_t> counts;
  for (const auto& [piece, d] : downloading_) {
    if (state_[piece] != piece_state::downloading || !entry_has(p, piece)) continue;
    if (choked &&
        std::find(p.allowed_fast.begin(), p.allowed_fast.end(), piece) == p.allowed_fast.end())
      continue;
    counts.assign(d.blocks.size(), 1);
    for (const auto& e : d.extra) ++counts[e.first];
    for (std::uint32_t i = 0; i < d.blocks.size(); ++i) {
      if (d.blocks[i].state == block_state::requested && !requested_by(d, i, peer))
        candidates.push_back({counts[i], piece, i});
    }
  }
  const std::size_t room = max - out.size();
  if (candidates.size() > room) {
    std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(room),
                      candidates.end());
    candidates.resize(room);
  } else {
    std::sort(candidates.begin(), candidates.end());
  }
  for (const candidate& c : candidates) {
    downloading_.at(c.piece).extra.emplace_back(c.index, peer);
    add_request(p, c.piece, c.index);
    out.push_back(block_at(c.piece, c.index));
  }
}

}  // namespace peerwire::picker
