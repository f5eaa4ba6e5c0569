// Construction, availability (peers' pieces) and our own pieces.
//
// Availability lives in buckets (see order_/starts_ in the header) so that a have message
// costs O(1): moving a piece from bucket a to a+1 is one swap with the bucket's last element
// and one boundary move. Removing a piece we now have walks it past every higher bucket:
// O(max availability) = O(peers), once per piece.
#include <algorithm>
#include <bit>
#include <numeric>
#include <stdexcept>

#include "peerwire/picker.hpp"

namespace peerwire::picker {

piece_picker::piece_picker(std::uint32_t piece_count, std::uint32_t piece_length,
                           std::uint64_t total_size, std::uint64_t seed, std::uint32_t block_size)
    : piece_count_(piece_count),
      piece_length_(piece_length),
      total_size_(total_size),
      block_size_(block_size),
      blocks_per_piece_(0),
      rng_state_(seed) {
  if (piece_count == 0 || piece_count > max_pieces)
    throw std::invalid_argument("piece count out of range");
  if (piece_length == 0 || block_size == 0) throw std::invalid_argument("zero piece/block size");
  const std::uint64_t full = std::uint64_t{piece_count - 1} * piece_length;
  if (total_size <= full || total_size > full + piece_length)
    throw std::invalid_argument("total size does not match piece count and length");
  blocks_per_piece_ = (piece_length + block_size - 1) / block_size;

  order_.resize(piece_count);
  std::iota(order_.begin(), order_.end(), 0u);
  pos_ = order_;
  avail_.assign(piece_count, 0);
  starts_ = {0, piece_count};  // one bucket: availability 0
  state_.assign(piece_count, piece_state::none);
  free_blocks_ =
      std::uint64_t{blocks_per_piece_} * (piece_count - 1) + block_count(piece_count - 1);
}

std::uint32_t piece_picker::piece_size(std::uint32_t piece) const {
  if (piece + 1 < piece_count_) return piece_length_;
  return static_cast<std::uint32_t>(total_size_ - std::uint64_t{piece_count_ - 1} * piece_length_);
}

std::uint32_t piece_picker::block_count(std::uint32_t piece) const {
  return (piece_size(piece) + block_size_ - 1) / block_size_;
}

block piece_picker::block_at(std::uint32_t piece, std::uint32_t index) const {
  const std::uint32_t offset = index * block_size_;
  return {piece, offset, std::min(block_size_, piece_size(piece) - offset)};
}

std::uint64_t piece_picker::next_random() {
  // splitmix64: tiny, and the same sequence on every platform (std distributions are not).
  std::uint64_t z = (rng_state_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// --- buckets

void piece_picker::bucket_increment(std::uint32_t piece) {
  const std::uint32_t a = avail_[piece]++;
  if (state_[piece] == piece_state::have) return;
  if (starts_.size() < a + 3) starts_.push_back(starts_.back());  // open bucket a+1
  const std::uint32_t last = starts_[a + 1] - 1;
  const std::uint32_t other = order_[last];
  std::swap(order_[pos_[piece]], order_[last]);
  pos_[other] = pos_[piece];
  pos_[piece] = last;
  --starts_[a + 1];  // piece is now the first of bucket a+1
}

void piece_picker::bucket_decrement(std::uint32_t piece) {
  const std::uint32_t a = avail_[piece]--;
  if (state_[piece] == piece_state::have) return;
  const std::uint32_t first = starts_[a];
  const std::uint32_t other = order_[first];
  std::swap(order_[pos_[piece]], order_[first]);
  pos_[other] = pos_[piece];
  pos_[piece] = first;
  ++starts_[a];  // piece is now the last of bucket a-1
  trim_buckets();
}

void piece_picker::bucket_remove(std::uint32_t piece) {
  // Carry the piece to the end of each bucket from its own to the top; after the last step
  // it sits just past the wanted range.
  for (std::size_t b = avail_[piece]; b + 1 < starts_.size(); ++b) {
    const std::uint32_t last = starts_[b + 1] - 1;
    const std::uint32_t other = order_[last];
    std::swap(order_[pos_[piece]], order_[last]);
    pos_[other] = pos_[piece];
    pos_[piece] = last;
    --starts_[b + 1];
  }
  trim_buckets();
}

void piece_picker::trim_buckets() {
  // Empty top buckets would only lengthen bucket_remove's walk.
  while (starts_.size() > 2 && starts_[starts_.size() - 2] == starts_.back()) {
    starts_.pop_back();
  }
}

// --- peers

piece_picker::peer_entry& piece_picker::entry(peer_key peer) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) throw std::invalid_argument("unknown peer");
  return it->second;
}

const piece_picker::peer_entry& piece_picker::entry(peer_key peer) const {
  auto it = peers_.find(peer);
  if (it == peers_.end()) throw std::invalid_argument("unknown peer");
  return it->second;
}

bool piece_picker::entry_has(const peer_entry& p, std::uint32_t piece) const {
  if (p.seed) return true;
  if (p.bits.empty()) return false;
  return (p.bits[piece / 64] >> (piece % 64)) & 1u;
}

void piece_picker::add_peer(peer_key peer) {
  peers_.try_emplace(peer);
}

void piece_picker::peer_has(peer_key peer, std::uint32_t piece) {
  peer_entry& p = entry(peer);
  if (piece >= piece_count_ || entry_has(p, piece)) return;
  if (p.bits.empty()) p.bits.assign((piece_count_ + 63) / 64, 0);
  p.bits[piece / 64] |= std::uint64_t{1} << (piece % 64);
  ++p.count;
  if (state_[piece] != piece_state::have) ++p.lacking;
  bucket_increment(piece);
  // A peer that has announced everything becomes a seed: one O(pieces) pass per peer, after
  // it sent piece_count haves, keeps seeds out of the buckets.
  if (p.count == piece_count_) become_seed(p);
}

void piece_picker::peer_has_all(peer_key peer) {
  peer_entry& p = entry(peer);
  if (!p.seed) become_seed(p);
}

void piece_picker::become_seed(peer_entry& p) {
  for (std::size_t w = 0; w < p.bits.size(); ++w) {
    for (std::uint64_t word = p.bits[w]; word != 0; word &= word - 1)
      bucket_decrement(static_cast<std::uint32_t>(w * 64 + std::countr_zero(word)));
  }
  p.bits = {};
  p.count = 0;
  p.lacking = 0;
  p.seed = true;
  ++seeds_;
}

void piece_picker::remove_peer(peer_key peer) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return;
  release_peer_requests(peer);
  peer_entry& p = it->second;
  if (p.seed) {
    --seeds_;
  } else {
    for (std::size_t w = 0; w < p.bits.size(); ++w) {
      for (std::uint64_t word = p.bits[w]; word != 0; word &= word - 1)
        bucket_decrement(static_cast<std::uint32_t>(w * 64 + std::countr_zero(word)));
    }
  }
  peers_.erase(it);
}

bool piece_picker::peer_has_piece(peer_key peer, std::uint32_t piece) const {
  return piece < piece_count_ && entry_has(entry(peer), piece);
}

bool piece_picker::interesting(peer_key peer) const {
  const peer_entry& p = entry(peer);
  return p.seed ? !complete() : p.lacking > 0;
}

std::uint32_t piece_picker::availability(std::uint32_t piece) const {
  return piece < piece_count_ ? avail_[piece] + seeds_ : 0;
}

void piece_picker::set_allowed_fast(peer_key peer, std::uint32_t piece) {
  peer_entry& p = entry(peer);
  if (piece >= piece_count_ || p.allowed_fast.size() >= max_allowed_fast) return;
  if (std::find(p.allowed_fast.begin(), p.allowed_fast.end(), piece) == p.allowed_fast.end())
    p.allowed_fast.push_back(piece);
}

// --- our pieces

bool piece_picker::have(std::uint32_t piece) const {
  return piece < piece_count_ && state_[piece] == piece_state::have;
}

void piece_picker::set_have(std::uint32_t piece) {
  if (piece >= piece_count_ || state_[piece] == piece_state::have) return;
  // Requests still out for the piece (resume data arriving late) are forgotten; their blocks
  // will come back as duplicates.
  if (auto it = downloading_.find(piece); it != downloading_.end()) {
    for (std::uint32_t i = 0; i < it->second.blocks.size(); ++i) {
      const block_slot& s = it->second.blocks[i];
      if (s.state == block_state::requested) forget_request(entry(s.peer), piece, i);
    }
    for (const auto& [i, peer] : it->second.extra) forget_request(entry(peer), piece, i);
    free_blocks_ -= it->second.free;
    downloading_.erase(it);
  } else if (state_[piece] == piece_state::none) {
    free_blocks_ -= block_count(piece);
  }
  bucket_remove(piece);
  state_[piece] = piece_state::have;
  ++have_count_;
  have_bytes_ += piece_size(piece);
  for (auto& [key, p] : peers_) {
    if (entry_has(p, piece) && !p.seed) --p.lacking;
  }
  while (first_missing_ < piece_count_ && state_[first_missing_] == piece_state::have)
    ++first_missing_;
}

}  // namespace peerwire::picker
