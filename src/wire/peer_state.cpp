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
  // A bitfield / have-all / have-none announces the peer's pieces once, before any have
  // (BEP 3, BEP 6). Real clients put other messages first (libtorrent sends its BEP 10
  // handshake before have-all), so only a second announcement, or one after a have, is a
  // violation: it would let the peer rewrite what it claimed.
  auto announcement = [&](const char* what) -> std::optional<std::string> {
    if (announced_) return std::string(what) + " after the peer already announced its pieces";
    announced_ = true;
    return std::nullopt;
  };
  if (std::holds_alternative<choke>(m)) {
    peer_choking = true;
  } else if (std::holds_alternative<unchoke>(m)) {
    peer_choking = false;
  } else if (std::holds_alternative<interested>(m)) {
    peer_interested = true;
  } else if (std::holds_alternative<not_interested>(m)) {
    peer_interested = false;
  } else if (const auto* h = std::get_if<have>(&m)) {
    announced_ = true;  // a later bitfield would contradict it
    set_have(h->index);
  } else if (const auto* b = std::get_if<bitfield>(&m)) {
    if (auto e = announcement("bitfield")) return e;
    for (std::uint32_t i = 0; i < piece_count_; ++i) {
      if (has_piece(b->bits, i)) set_have(i);
    }
  } else if (std::holds_alternative<have_all>(m)) {
    if (auto e = announcement("have-all")) return e;
    for (std::uint32_t i = 0; i < piece_count_; ++i) set_have(i);
  } else if (std::holds_alternative<have_none>(m)) {
    if (auto e = announcement("have-none")) return e;
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
