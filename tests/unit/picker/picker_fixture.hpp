// A tiny string fixture for picker tests, after libtorrent's:
//   availability "1302": piece i is announced by that many background peers (keys 100+);
//   have         "x.x.": pieces we already have ('x');
//   peer bits    "1101": the pieces of a peer under test, or "*" for a seed.
// Pieces are `blocks` blocks of 16 KiB (4 by default), all the same size.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string_view>
#include <vector>

#include "peerwire/picker.hpp"

namespace picker_test {

using namespace peerwire::picker;

inline constexpr std::uint32_t kib16 = 16 * 1024;

inline piece_picker make_picker(std::string_view availability, std::string_view have = {},
                                std::uint64_t seed = 1, std::uint32_t blocks = 4) {
  const auto n = static_cast<std::uint32_t>(availability.size());
  piece_picker pp(n, blocks * kib16, std::uint64_t{n} * blocks * kib16, seed);
  for (std::uint32_t i = 0; i < n; ++i) {
    const int count = availability[i] - '0';
    for (int k = 0; k < count; ++k) {
      const peer_key key = 100 + static_cast<peer_key>(k);
      pp.add_peer(key);  // idempotent
      pp.peer_has(key, i);
    }
  }
  for (std::uint32_t i = 0; i < have.size(); ++i)
    if (have[i] == 'x') pp.set_have(i);
  return pp;
}

inline void add_peer_bits(piece_picker& pp, peer_key key, std::string_view bits) {
  pp.add_peer(key);
  if (bits == "*") {
    pp.peer_has_all(key);
    return;
  }
  for (std::uint32_t i = 0; i < bits.size(); ++i)
    if (bits[i] == '1') pp.peer_has(key, i);
}

// Distinct pieces in the order they first appear.
inline std::vector<std::uint32_t> pieces_of(const std::vector<block>& blocks) {
  std::vector<std::uint32_t> out;
  for (const block& b : blocks)
    if (std::find(out.begin(), out.end(), b.piece) == out.end()) out.push_back(b.piece);
  return out;
}

// Delivers every block the peer has outstanding; returns the pieces that completed.
inline std::vector<std::uint32_t> deliver_all(piece_picker& pp, peer_key key) {
  std::vector<std::uint32_t> done;
  for (const block& b : pp.outstanding_blocks(key))
    if (pp.on_block(key, b).piece_complete) done.push_back(b.piece);
  return done;
}

}  // namespace picker_test
