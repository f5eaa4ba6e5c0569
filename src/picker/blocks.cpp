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

void piece_picker::forget_request(peer_entry& p, std::uint32_t piece, std::uint32_t index) {
  // Order is kept (oldest first) so a caller walking outstanding_blocks() sees request order.
  auto it = std::find(p.requests.begin(), p.requests.end(), std::pair{piece, index});
  if (it != p.requests.end()) p.requests.erase(it);
}

receive_result piece_picker::on_block(peer_key peer, const block& b) {
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

  if (slot.peer != peer) {
    r.cancel_at.push_back(slot.peer);
    forget_request(entry(slot.peer), b.piece, index);
  }
  std::erase_if(d.extra, [&](const std::pair<std::uint32_t, peer_key>& e) {
    if (e.first != index) return false;
    if (e.second != peer) {
      r.cancel_at.push_back(e.second);
      forget_request(entry(e.second), b.piece, index);
    }
    return true;
  });
  forget_request(p, b.piece, index);
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

void piece_picker::on_request_failed(peer_key peer, const block& b) {
  peer_entry& p = entry(peer);
  std::uint32_t index = 0;
  if (!locate(*this, b, index)) return;
  auto it = std::find(p.requests.begin(), p.requests.end(), std::pair{b.piece, index});
  if (it == p.requests.end()) return;
  p.requests.erase(it);
  release_block(b.piece, index, peer);
}

void piece_picker::release_peer_requests(peer_key peer) {
  peer_entry& p = entry(peer);
  auto requests = std::move(p.requests);
  p.requests.clear();
  for (const auto& [piece, index] : requests) release_block(piece, index, peer);
}

std::size_t piece_picker::outstanding(peer_key peer) const {
  return entry(peer).requests.size();
}

std::vector<block> piece_picker::outstanding_blocks(peer_key peer) const {
  std::vector<block> out;
  for (const auto& [piece, index] : entry(peer).requests) out.push_back(block_at(piece, index));
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
