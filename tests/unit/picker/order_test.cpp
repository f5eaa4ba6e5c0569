// Which pieces get picked first: rarest-first with random ties, partial pieces first,
// sequential mode, and never a piece the peer lacks or we have.
#include <gtest/gtest.h>

#include <numeric>
#include <set>

#include "picker_fixture.hpp"

using namespace picker_test;

namespace {

constexpr peer_key me = 1;

struct first_pick_case {
  const char* availability;
  const char* have;
  const char* peer;  // bits, or "*" for a seed
  int expected;      // first piece picked, -1 for nothing
};

class FirstPick : public ::testing::TestWithParam<first_pick_case> {};

TEST_P(FirstPick, RarestThePeerHas) {
  const auto& c = GetParam();
  auto pp = make_picker(c.availability, c.have);
  add_peer_bits(pp, me, c.peer);
  auto picked = pp.pick(me, 4, false);  // one whole piece
  if (c.expected < 0) {
    EXPECT_TRUE(picked.empty());
  } else {
    ASSERT_EQ(picked.size(), 4u);
    EXPECT_EQ(pieces_of(picked), std::vector<std::uint32_t>{std::uint32_t(c.expected)});
  }
  EXPECT_EQ(pp.check_invariants(), "");
}

INSTANTIATE_TEST_SUITE_P(
    Table, FirstPick,
    ::testing::Values(
        // the peer itself adds one to each piece it has
        first_pick_case{"1302", "", "1111", 2}, first_pick_case{"1302", "", "1101", 0},
        first_pick_case{"1302", "", "*", 2},  // seeds are not in the buckets: 2 has only seeds
        first_pick_case{"1302", "x.x.", "*", 3}, first_pick_case{"1302", "", "0100", 1},
        first_pick_case{"5555", "", "0010", 2}, first_pick_case{"1302", "", "0000", -1},
        first_pick_case{"1302", "xxxx", "*", -1}, first_pick_case{"1302", "..x.", "0010", -1},
        first_pick_case{"91118", "", "10001", 4}, first_pick_case{"0000", ".xxx", "*", 0}));

TEST(Order, WholeSequenceIsRarestFirst) {
  auto pp = make_picker("31420");
  add_peer_bits(pp, me, "*");
  std::vector<std::uint32_t> order;
  for (int i = 0; i < 5; ++i) {
    auto p = pieces_of(pp.pick(me, 4, false));
    order.insert(order.end(), p.begin(), p.end());
  }
  EXPECT_EQ(order, (std::vector<std::uint32_t>{4, 1, 3, 0, 2}));
  EXPECT_TRUE(pp.pick(me, 4, false).empty());
}

std::vector<std::uint32_t> tie_order(std::uint64_t seed) {
  auto pp = make_picker(std::string(64, '2'), {}, seed);
  add_peer_bits(pp, me, "*");
  std::vector<std::uint32_t> order;
  for (int i = 0; i < 64; ++i) order.push_back(pp.pick(me, 4, false).at(0).piece);
  return order;
}

TEST(Order, TiesBrokenBySeededRandomStart) {
  const auto a = tie_order(7);
  EXPECT_EQ(a, tie_order(7));  // reproducible
  EXPECT_NE(a, tie_order(8));  // but seed-dependent
  std::vector<std::uint32_t> identity(64);
  std::iota(identity.begin(), identity.end(), 0u);
  EXPECT_NE(a, identity);
  EXPECT_EQ(std::set<std::uint32_t>(a.begin(), a.end()).size(), 64u);  // each piece once
}

TEST(Order, RandomStartSpreadsFirstPicks) {
  // Equally rare pieces: over many seeds, the first pick lands on many different pieces.
  std::set<std::uint32_t> firsts;
  for (std::uint64_t seed = 0; seed < 64; ++seed) {
    auto pp = make_picker("11111111", {}, seed);
    add_peer_bits(pp, me, "*");
    firsts.insert(pp.pick(me, 1, false).at(0).piece);
  }
  EXPECT_GE(firsts.size(), 6u);
}

TEST(Order, PartialPiecesFinishedFirst) {
  auto pp = make_picker("5505");  // piece 2 is the rarest
  add_peer_bits(pp, 2, "1100");
  auto a = pp.pick(2, 2, false);  // half of piece 0 or 1
  ASSERT_EQ(a.size(), 2u);
  add_peer_bits(pp, me, "*");
  auto b = pp.pick(me, 4, false);
  ASSERT_EQ(b.size(), 4u);
  // The two free blocks of the partial piece come before the rarest new piece.
  EXPECT_EQ(b[0].piece, a[0].piece);
  EXPECT_EQ(b[1].piece, a[0].piece);
  EXPECT_EQ(b[0].offset, 2 * kib16);
  EXPECT_EQ(b[2].piece, 2u);
  EXPECT_EQ(pp.check_invariants(), "");
}

TEST(Order, PartialClosestToDoneFirst) {
  auto pp = make_picker("1111", {}, 1, 8);
  add_peer_bits(pp, 2, "1000");
  add_peer_bits(pp, 3, "0100");
  ASSERT_EQ(pp.pick(2, 2, false).size(), 2u);  // piece 0: 6 free
  ASSERT_EQ(pp.pick(3, 6, false).size(), 6u);  // piece 1: 2 free
  add_peer_bits(pp, me, "*");
  EXPECT_EQ(pp.pick(me, 1, false).at(0), (block{1, 6 * kib16, kib16}));
}

TEST(Order, Sequential) {
  auto pp = make_picker("98765432", "..x.....");
  pp.set_sequential(true);
  add_peer_bits(pp, me, "01111111");
  std::vector<std::uint32_t> order;
  for (int i = 0; i < 6; ++i) order.push_back(pp.pick(me, 4, false).at(0).piece);
  EXPECT_EQ(order, (std::vector<std::uint32_t>{1, 3, 4, 5, 6, 7}));
  // Partial pieces in index order too.
  auto q = make_picker("1111");
  q.set_sequential(true);
  add_peer_bits(q, 2, "*");
  add_peer_bits(q, me, "*");
  ASSERT_EQ(pieces_of(q.pick(2, 6, false)), (std::vector<std::uint32_t>{0, 1}));
  for (std::uint32_t i = 0; i < 3; ++i) q.on_request_failed(2, {0, i * kib16, kib16});
  EXPECT_EQ(q.pick(me, 1, false).at(0), (block{0, 0, kib16}));
}

TEST(Order, NeverPicksWhatPeerLacksOrWeHave) {
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    std::string avail, have, bits;
    std::uint64_t x = seed * 2654435761u + 1;
    for (int i = 0; i < 24; ++i) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      avail += char('0' + (x >> 60) % 4);
      have += (x >> 50) % 3 == 0 ? 'x' : '.';
      bits += (x >> 40) % 2 ? '1' : '0';
    }
    auto pp = make_picker(avail, have, seed);
    add_peer_bits(pp, me, bits);
    pp.set_sequential(seed % 2 == 0);
    for (const block& b : pp.pick(me, 1000, false)) {
      EXPECT_EQ(bits[b.piece], '1') << b.piece;
      EXPECT_NE(have[b.piece], 'x') << b.piece;
    }
    EXPECT_EQ(pp.check_invariants(), "");
  }
}

TEST(Order, NoBlockHandedOutTwiceOutsideEndgame) {
  auto pp = make_picker("2222222222");
  add_peer_bits(pp, 2, "*");
  add_peer_bits(pp, 3, "*");
  std::set<std::pair<std::uint32_t, std::uint32_t>> seen;
  for (int round = 0; round < 10; ++round) {
    for (peer_key k : {peer_key{2}, peer_key{3}}) {
      for (const block& b : pp.pick(k, 3, false)) {
        // A repeat only once every block has been handed out (strict endgame).
        if (!seen.insert({b.piece, b.offset}).second) {
          EXPECT_EQ(seen.size(), 40u);
        }
      }
    }
  }
  EXPECT_EQ(seen.size(), 40u);
  EXPECT_TRUE(pp.in_endgame());
}

}  // namespace

// The caller is out of piece memory: only pieces already in progress get more requests, and
// pieces_in_progress() counts what needs a buffer (until set_have or hash_failed).
TEST(Order, NoNewPieceWhenStartNewIsFalse) {
  auto pp = make_picker("5555");  // 4 blocks a piece
  add_peer_bits(pp, 2, "*");
  EXPECT_EQ(pp.pieces_in_progress(), 0u);
  EXPECT_TRUE(pp.pick(2, 4, false, false).empty());  // nothing started yet: nothing given
  auto a = pp.pick(2, 2, false);                     // half of one piece
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(pp.pieces_in_progress(), 1u);
  auto b = pp.pick(2, 8, false, false);  // only the other half of the same piece
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(pieces_of(b), std::vector<std::uint32_t>{a[0].piece});
  EXPECT_EQ(pp.pieces_in_progress(), 1u);
  for (const auto& x : a) pp.on_block(2, x);
  for (const auto& x : b) EXPECT_TRUE(pp.on_block(2, x).piece_complete || &x != &b.back());
  EXPECT_EQ(pp.pieces_in_progress(), 1u);  // complete, awaiting its hash check
  pp.set_have(a[0].piece);
  EXPECT_EQ(pp.pieces_in_progress(), 0u);
  EXPECT_EQ(pp.pick(2, 4, false, true).size(), 4u);  // allowed again: a new piece
  EXPECT_EQ(pp.check_invariants(), "");
}

// free_blocks_in_progress(): blocks of started pieces nobody is asked for — what a peer that
// cannot supply them would be waiting on (the session's one-piece fallback looks at it).
TEST(Order, FreeBlocksInProgressCountsOnlyUnaskedBlocksOfStartedPieces) {
  auto pp = make_picker("5555");  // 4 blocks a piece
  add_peer_bits(pp, 2, "*");
  EXPECT_EQ(pp.free_blocks_in_progress(), 0u);  // nothing started: free blocks elsewhere
  auto a = pp.pick(2, 3, false);                // 3 of one piece's 4 blocks
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(pp.free_blocks_in_progress(), 1u);
  pp.on_block(2, a[0]);
  EXPECT_EQ(pp.free_blocks_in_progress(), 1u);  // received is not free
  ASSERT_EQ(pp.pick(2, 1, false, false).size(), 1u);
  EXPECT_EQ(pp.free_blocks_in_progress(), 0u);  // all asked for: nothing to wait on
  pp.remove_peer(2);                            // its requests are released
  EXPECT_EQ(pp.free_blocks_in_progress(), 3u);
  EXPECT_EQ(pp.check_invariants(), "");
}

// One call with room for many blocks starts no more pieces than the caller has buffers for.
TEST(Order, MaxNewPiecesCapsThePiecesOneCallStarts) {
  auto pp = make_picker("55555555");  // 8 pieces of 4 blocks
  add_peer_bits(pp, 2, "*");
  auto a = pp.pick(2, 100, false, true, 2);
  EXPECT_EQ(a.size(), 8u);
  EXPECT_EQ(pieces_of(a).size(), 2u);
  EXPECT_EQ(pp.pieces_in_progress(), 2u);
  EXPECT_EQ(pp.pick(2, 100, false, true, 0).size(), 0u);  // none to start, none partial
  auto b = pp.pick(2, 100, false);                        // no cap: the rest
  EXPECT_EQ(b.size(), 24u);
  EXPECT_EQ(pp.pieces_in_progress(), 8u);
  EXPECT_EQ(pp.check_invariants(), "");
}
