#include "peerwire/wire_peer_state.hpp"

namespace peerwire::wire {

namespace {
// Haves before the metadata are kept as bits up to this index; metainfo accepts at most 2^21
// pieces, so a higher index is a violation whatever the torrent turns out to be.
constexpr std::uint32_t max_pending_piece = 1u << 21;
}  // namespace

peer_state::peer_state(std::uint32_t piece_count)
    : piece_count_(piece_count), have_(piece_count, false) {}

bool peer_state::peer_has(std::uint32_t index) const {
  return index < piece_count_ && have_[index];
}

void peer_state::set_have(std::uint32_t index) {
  if (index >= piece_count_ || have_[index]) return;
  have_[index] = true;
  ++have_count_;
}

std::optional<std::string> peer_state::on_receive(const message& m) {
  // BEP 3 puts the bitfield first, but real clients send more later: aria2 replaces a batch
  // of haves with a fresh bitfield (or have-all) at any time. Pieces only ever accumulate, so
  // a later announcement is merged; it can add pieces but never take one away.
  if (std::holds_alternative<choke>(m)) {
    peer_choking = true;
  } else if (std::holds_alternative<unchoke>(m)) {
    peer_choking = false;
  } else if (std::holds_alternative<interested>(m)) {
    peer_interested = true;
  } else if (std::holds_alternative<not_interested>(m)) {
    peer_interested = false;
  } else if (const auto* h = std::get_if<have>(&m)) {
    announced_ = true;
    if (piece_count_ == 0) {
      if (h->index >= max_pending_piece) {
        pending_out_of_range_ = true;
      } else {
        if (pending_bits_.size() <= h->index / 8) pending_bits_.resize(h->index / 8 + 1, 0);
        pending_bits_[h->index / 8] |= static_cast<std::uint8_t>(0x80 >> (h->index % 8));
      }
    }
    set_have(h->index);
  } else if (const auto* b = std::get_if<bitfield>(&m)) {
    announced_ = true;
    if (piece_count_ == 0) {
      // The codec bounds a bitfield's size; before the metadata it is kept as sent.
      pending_bitfield_bytes_ = b->bits.size();
      if (pending_bits_.size() < b->bits.size()) pending_bits_.resize(b->bits.size(), 0);
      for (std::size_t i = 0; i < b->bits.size(); ++i) pending_bits_[i] |= b->bits[i];
    }
    for (std::uint32_t i = 0; i < piece_count_; ++i) {
      if (has_piece(b->bits, i)) set_have(i);
    }
  } else if (std::holds_alternative<have_all>(m)) {
    announced_ = true;
    if (piece_count_ == 0) pending_all_ = true;
    for (std::uint32_t i = 0; i < piece_count_; ++i) set_have(i);
  } else if (std::holds_alternative<have_none>(m)) {
    announced_ = true;  // after other announcements it changes nothing: pieces are not taken back
  }
  return std::nullopt;
}

std::optional<std::string> peer_state::set_piece_count(std::uint32_t piece_count) {
  if (piece_count_ != 0 || piece_count == 0) return std::nullopt;
  piece_count_ = piece_count;
  have_.assign(piece_count, false);
  have_count_ = 0;
  const std::size_t bytes = (std::size_t{piece_count} + 7) / 8;
  if (pending_bitfield_bytes_ != 0 && pending_bitfield_bytes_ != bytes) {
    return "bitfield of " + std::to_string(pending_bitfield_bytes_) + " bytes sent before the " +
           "metadata, but the torrent has " + std::to_string(piece_count) + " pieces (" +
           std::to_string(bytes) + " bytes)";
  }
  if (pending_out_of_range_ || pending_bits_.size() > bytes) {
    // Bytes past the bitfield's size only come from haves: some index is out of range.
    return "have beyond the last piece (" + std::to_string(piece_count) + " pieces)";
  }
  for (std::uint32_t i = piece_count; i < bytes * 8; ++i) {
    if (has_piece(pending_bits_, i)) {
      return pending_bitfield_bytes_ != 0
                 ? "bitfield sent before the metadata has spare bits set"
                 : "have beyond the last piece (" + std::to_string(piece_count) + " pieces)";
    }
  }
  for (std::uint32_t i = 0; i < piece_count; ++i) {
    if (pending_all_ || has_piece(pending_bits_, i)) set_have(i);
  }
  pending_bits_.clear();
  pending_bits_.shrink_to_fit();
  return std::nullopt;
}

void peer_state::on_send(const message& m) {
  if (std::holds_alternative<choke>(m)) am_choking = true;
  if (std::holds_alternative<unchoke>(m)) am_choking = false;
  if (std::holds_alternative<interested>(m)) am_interested = true;
  if (std::holds_alternative<not_interested>(m)) am_interested = false;
}

}  // namespace peerwire::wire
