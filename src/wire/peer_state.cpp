#include "peerwire/wire_peer_state.hpp"

namespace peerwire::wire {

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
    set_have(h->index);
  } else if (const auto* b = std::get_if<bitfield>(&m)) {
    announced_ = true;
    for (std::uint32_t i = 0; i < piece_count_; ++i) {
      if (has_piece(b->bits, i)) set_have(i);
    }
  } else if (std::holds_alternative<have_all>(m)) {
    announced_ = true;
    for (std::uint32_t i = 0; i < piece_count_; ++i) set_have(i);
  } else if (std::holds_alternative<have_none>(m)) {
    announced_ = true;  // after other announcements it changes nothing: pieces are not taken back
  }
  return std::nullopt;
}

void peer_state::on_send(const message& m) {
  if (std::holds_alternative<choke>(m)) am_choking = true;
  if (std::holds_alternative<unchoke>(m)) am_choking = false;
  if (std::holds_alternative<interested>(m)) am_interested = true;
  if (std::holds_alternative<not_interested>(m)) am_interested = false;
}

}  // namespace peerwire::wire
