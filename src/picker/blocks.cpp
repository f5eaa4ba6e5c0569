// Blocks arriving, requests failing, pieces failing their hash check.
#include <algorithm>

#include "peerwire/picker.hpp"

namespace peerwire::picker {

namespace {

// Finds the block index of `b` when it names exactly one block of the torrent; peers send
// arbitrary numbers, so anything else is rejected.
bool locate(const piece_picker& pp, const block& b, std::uint32_t& index) {
  if (b.piece >= pp.piece_count() || b.offset % pp.block_size() != 0) return false;
  if (b.offset >= pp.piece_size(b.piece)) return false;
  index = b.offset / pp.block_size();
  return b.length == pp.block_at(b.piece, index).length;
}

}  // namespace

void piece_picker::add_request(peer_entry& p, std::uint32_t piece, std::uint32_t index) {
  if (p.requests.empty() && !p.waiting_since) p.waiting_since = now_;
  p.requests.push_back({piece, index, now_});
  ++outstanding_total_;
}

void piece_picker::forget_request(peer_entry& p, std::uint32_t piece, std::uint32_t index) {
  // Order is kept (oldest first) so a caller walking outstanding_blocks() sees request order.
  auto it = std::find_if(p.requests.begin(), p.requests.end(),
                         [&](const request_slot& r) { return r.is(piece, index); });
  if (it == p.requests.end()) return;
  p.requests.erase(it);
  --outstanding_total_;
}

void piece_picker::answered(peer_entry& p, time_point now) {
  p.waiting_since = p.requests.empty() ? std::nullopt : std::optional(now);
}

receive_result piece_picker::on_block(peer_key peer, const block& b, time_point now) {
  peer_entry& p = entry(peer);
  receive_result r;
  std::uint32_t index = 0;
  if (!locate(*this, b, index)) return r;
  if (state_[b.piece] == piece_state::have || state_[b.piece] == piece_state::complete) {
    r.status = received::duplicate;
    return r;
  }
  auto it = downloading_.find(b.piece);
  if (it == downloading_.end()) return r;
  downloading_piece& d = it->second;
  block_slot& slot = d.blocks[index];
  if (slot.state == block_state::received) {
    r.status = received::duplicate;
    return r;
  }
  // A block we asked someone else for (or whose request timed out) is not taken: the peer
  // either ignores the protocol or is late, and the block is already re-requested.
  if (!requested_by(d, index, peer)) return r;

  // Endgame: the other requesters are cancelled; one left with nothing asked of it is no
  // longer waited for (it did nothing wrong).
  auto cancel = [&](peer_key other) {
    r.cancel_at.push_back(other);
    peer_entry& o = entry(other);
    forget_request(o, b.piece, index);
    if (o.requests.empty()) o.waiting_since.reset();
  };
  if (slot.peer != peer) cancel(slot.peer);
  std::erase_if(d.extra, [&](const std::pair<std::uint32_t, peer_key>& e) {
    if (e.first != index) return false;
    if (e.second != peer) cancel(e.second);
    return true;
  });
  forget_request(p, b.piece, index);
  answered(p, now);
  slot.peer = peer;
  slot.state = block_state::received;
  ++d.received;
  r.status = received::accepted;
  if (d.received == d.blocks.size()) {
    state_[b.piece] = piece_state::complete;
    r.piece_complete = true;
  }
  return r;
}

void piece_picker::release_block(std::uint32_t piece, std::uint32_t index, peer_key peer) {
  auto it = downloading_.find(piece);
  if (it == downloading_.end()) return;
  downloading_piece& d = it->second;
  block_slot& slot = d.blocks[index];
  if (slot.state != block_state::requested) return;
  if (slot.peer == peer) {
    auto extra = std::find_if(d.extra.begin(), d.extra.end(),
                              [&](const auto& e) { return e.first == index; });
    if (extra != d.extra.end()) {
      slot.peer = extra->second;  // another endgame requester keeps the block
      d.extra.erase(extra);
      return;
    }
    slot.state = block_state::free;
    ++d.free;
    ++free_blocks_;
  } else {
    std::erase(d.extra, std::pair{index, peer});
  }
  // An untouched piece goes back to the pool of new pieces, keeping downloading_ (and the
  // partial-piece walk) down to pieces really in flight.
  if (d.free == d.blocks.size()) {
    downloading_.erase(it);
    state_[piece] = piece_state::none;
  }
}

bool piece_picker::on_request_failed(peer_key peer, const block& b, time_point now) {
  peer_entry& p = entry(peer);
  std::uint32_t index = 0;
  if (!locate(*this, b, index)) return false;
  auto it = std::find_if(p.requests.begin(), p.requests.end(),
                         [&](const request_slot& r) { return r.is(b.piece, index); });
  if (it == p.requests.end()) return false;
  p.requests.erase(it);
  --outstanding_total_;
  answered(p, now);
  release_block(b.piece, index, peer);
  return true;
}

void piece_picker::release_peer_requests(peer_key peer) {
  peer_entry& p = entry(peer);
  auto requests = std::move(p.requests);
  p.requests.clear();
  p.waiting_since.reset();
  outstanding_total_ -= requests.size();
  for (const auto& r : requests) release_block(r.piece, r.index, peer);
}

std::vector<block> piece_picker::expire_requests(peer_key peer, time_point now,
                                                 std::chrono::milliseconds timeout) {
  peer_entry& p = entry(peer);
  std::vector<block> expired;
  // Oldest first, and answers mostly come in request order: the expired ones are a prefix,
  // but a peer may answer out of order, so every entry is looked at.
  for (auto it = p.requests.begin(); it != p.requests.end();) {
    if (now - it->sent <= timeout) {
      ++it;
      continue;
    }
    auto r = *it;
    it = p.requests.erase(it);
    --outstanding_total_;
    release_block(r.piece, r.index, peer);
    expired.push_back(block_at(r.piece, r.index));
  }
  return expired;
}

std::optional<time_point> piece_picker::waiting_since(peer_key peer) const {
  return entry(peer).waiting_since;
}

std::size_t piece_picker::outstanding(peer_key peer) const {
  return entry(peer).requests.size();
}

std::vector<block> piece_picker::outstanding_blocks(peer_key peer) const {
  std::vector<block> out;
  for (const auto& r : entry(peer).requests) out.push_back(block_at(r.piece, r.index));
  return out;
}

std::vector<peer_key> piece_picker::hash_failed(std::uint32_t piece) {
  std::vector<peer_key> contributors;
  auto it = downloading_.find(piece);
  if (piece >= piece_count_ || it == downloading_.end()) return contributors;
  downloading_piece& d = it->second;
  for (block_slot& s : d.blocks) {
    if (s.state != block_state::received) continue;
    contributors.push_back(s.peer);
    s = block_slot{};
    ++d.free;
    ++free_blocks_;
  }
  d.received = 0;
  if (d.free == d.blocks.size()) {
    downloading_.erase(it);
    state_[piece] = piece_state::none;
  } else {
    state_[piece] = piece_state::downloading;
  }
  std::sort(contributors.begin(), contributors.end());
  contributors.erase(std::unique(contributors.begin(), contributors.end()), contributors.end());
  return contributors;
}

std::size_t piece_picker::free_blocks_in_progress() const {
  std::size_t n = 0;
  for (const auto& [piece, d] : downloading_) n += d.free;
  return n;
}

}  // namespace peerwire::picker
