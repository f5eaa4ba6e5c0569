// What one connection knows about the two ends (BEP 3 choke/interest flags and the peer's
// pieces), updated from decoded messages. Pure, so its rules are tested without sockets.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "peerwire/wire.hpp"

namespace peerwire::wire {

class peer_state {
 public:
  // piece_count 0 = not known yet (magnet before metadata): what the peer announces is then
  // kept as raw bits and checked by set_piece_count() once the metadata arrives.
  explicit peer_state(std::uint32_t piece_count = 0);

  // The metadata arrived: sizes the piece set and applies what the peer announced before.
  // Returns a reason when that breaks the rules now checkable (bitfield of the wrong size or
  // with spare bits set, a have beyond the last piece). Only valid while piece_count() is 0.
  std::optional<std::string> set_piece_count(std::uint32_t piece_count);

  // Both ends start choking and not interested (BEP 3).
  bool am_choking = true;
  bool am_interested = false;
  bool peer_choking = true;
  bool peer_interested = false;

  // Applies a message received from the peer. Later bitfields / have-alls are merged (aria2
  // sends them instead of batches of haves). Returns a reason when the message breaks a rule
  // the codec cannot see (none today; kept so connections have one place to ask).
  std::optional<std::string> on_receive(const message& m);
  // Records the effect of a message we send (our choke/interest flags).
  void on_send(const message& m);

  std::uint32_t piece_count() const { return piece_count_; }
  bool peer_has(std::uint32_t index) const;
  std::uint32_t peer_piece_count() const { return have_count_; }
  bool peer_is_seed() const { return piece_count_ > 0 && have_count_ == piece_count_; }
  // Whether the peer has said anything about its pieces yet.
  bool pieces_known() const { return announced_; }

 private:
  void set_have(std::uint32_t index);

  std::uint32_t piece_count_;
  std::vector<bool> have_;
  std::uint32_t have_count_ = 0;
  bool announced_ = false;  // bitfield/have-all/have-none (or a have) seen

  // Before the metadata (piece_count_ == 0): announcements kept for set_piece_count().
  std::vector<std::uint8_t> pending_bits_;  // OR of bitfields and haves, MSB first
  std::size_t pending_bitfield_bytes_ = 0;  // size of the last bitfield (0: none)
  bool pending_all_ = false;
  bool pending_out_of_range_ = false;  // a have beyond any torrent we would accept
};

}  // namespace peerwire::wire
