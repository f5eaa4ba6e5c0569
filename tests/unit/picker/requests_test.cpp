// Blocks arriving and failing, endgame, hash failures, peers leaving, choking and
// allowed-fast pieces.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "picker_fixture.hpp"

using namespace picker_test;

namespace {

constexpr peer_key a = 1, b = 2, c = 3;

TEST(Blocks, AcceptedThenDuplicateAndUnrequested) {
  auto pp = make_picker("1111");
  add_peer_bits(pp, a, "*");
  add_peer_bits(pp, b, "*");
  auto picked = pp.pick(a, 4, false);
  ASSERT_EQ(picked.size(), 4u);
  EXPECT_EQ(pp.outstanding(a), 4u);
  EXPECT_EQ(pp.on_block(b, picked[0]).status, received::unrequested);  // asked a, not b
  auto r = pp.on_block(a, picked[0]);
  EXPECT_EQ(r.status, received::accepted);
  EXPECT_FALSE(r.piece_complete);
  EXPECT_TRUE(r.cancel_at.empty());
  EXPECT_EQ(pp.on_block(a, picked[0]).status, received::duplicate);
  EXPECT_EQ(pp.outstanding(a), 3u);
  // Malformed coordinates from the network.
  for (block bad : {block{9, 0, kib16}, block{picked[1].piece, 1, kib16},
                    block{picked[1].piece, kib16, 100}, block{picked[1].piece, 4 * kib16, kib16}})
    EXPECT_EQ(pp.on_block(a, bad).status, received::unrequested);
  EXPECT_EQ(pp.check_invariants(), "");
}

TEST(Blocks, PieceCompletesThenHave) {
  auto pp = make_picker("1111");
  add_peer_bits(pp, a, "*");
  auto picked = pp.pick(a, 4, false);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(pp.on_block(a, picked[i]).piece_complete, i == 3);
  EXPECT_EQ(pp.on_block(a, picked[0]).status, received::duplicate);  // awaiting hash
  const std::uint64_t left = pp.bytes_left();
  pp.set_have(picked[0].piece);
  EXPECT_TRUE(pp.have(picked[0].piece));
  EXPECT_EQ(pp.have_count(), 1u);
  EXPECT_EQ(pp.bytes_left(), left - 4 * kib16);
  EXPECT_EQ(pp.on_block(a, picked[0]).status, received::duplicate);
  EXPECT_EQ(pp.check_invariants(), "");
}

TEST(Blocks, FailedRequestGoesBackAndLateArrivalIsUnrequested) {
  auto pp = make_picker("1");
  add_peer_bits(pp, a, "*");
  add_peer_bits(pp, b, "*");
  auto first = pp.pick(a, 2, false);
  pp.on_request_failed(a, first[1]);  // timeout or reject
  EXPECT_EQ(pp.outstanding(a), 1u);
  auto again = pp.pick(b, 1, false);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0], first[1]);
  EXPECT_EQ(pp.on_block(a, first[1]).status, received::unrequested);
  pp.release_peer_requests(a);  // choke without the fast extension
  EXPECT_EQ(pp.outstanding(a), 0u);
  EXPECT_EQ(pp.pick(b, 4, false),
            (std::vector<block>{first[0], block{0, 2 * kib16, kib16}, block{0, 3 * kib16, kib16}}));
  EXPECT_EQ(pp.check_invariants(), "");
}

TEST(Endgame, OnlyWhenNothingIsFree) {
  auto pp = make_picker("13");  // 8 blocks; piece 0 is the rarer
  add_peer_bits(pp, a, "*");
  add_peer_bits(pp, b, "*");
  add_peer_bits(pp, c, "10");
  ASSERT_EQ(pp.pick(a, 7, false).size(), 7u);
  EXPECT_FALSE(pp.in_endgame());
  EXPECT_TRUE(pp.pick(c, 8, false).empty());  // piece 0 fully requested, c lacks piece 1
  auto got = pp.pick(b, 3, false);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], (block{1, 3 * kib16, kib16}));  // the last free block, then duplicates
  EXPECT_TRUE(pp.in_endgame());
  EXPECT_EQ(pp.outstanding(b), 3u);
  EXPECT_EQ(pp.check_invariants(), "");
}

TEST(Endgame, DuplicatesOnlyBlocksInFlightAndCancelsOnArrival) {
  auto pp = make_picker("11");
  add_peer_bits(pp, a, "*");
  add_peer_bits(pp, b, "*");
  auto all = pp.pick(a, 8, false);
  ASSERT_EQ(all.size(), 8u);
  for (int i = 0; i < 6; ++i) pp.on_block(a, all[i]);
  auto dup = pp.pick(b, 8, false);
  EXPECT_EQ(dup, (std::vector<block>{all[6], all[7]}));  // only what is still in flight
  EXPECT_TRUE(pp.pick(b, 8, false).empty());             // never twice to the same peer
  auto r = pp.on_block(b, all[7]);
  EXPECT_EQ(r.status, received::accepted);
  EXPECT_EQ(r.cancel_at, std::vector<peer_key>{a});
  EXPECT_EQ(pp.outstanding(a), 1u);
  EXPECT_EQ(pp.on_block(a, all[7]).status, received::duplicate);  // cancel raced the block
  r = pp.on_block(a, all[6]);
  EXPECT_EQ(r.cancel_at, std::vector<peer_key>{b});
  EXPECT_TRUE(r.piece_complete);
  EXPECT_EQ(pp.outstanding(b), 0u);
  EXPECT_EQ(pp.check_invariants(), "");
}

TEST(Endgame, FewestRequestersFirstAndRequesterLeaving) {
  auto pp = make_picker("11");
  add_peer_bits(pp, a, "*");
  add_peer_bits(pp, b, "*");
  add_peer_bits(pp, c, "*");
  ASSERT_EQ(pp.pick(a, 8, false).size(), 8u);
  ASSERT_EQ(pieces_of(pp.pick(b, 4, false)), std::vector<std::uint32_t>{0});
  EXPECT_EQ(pieces_of(pp.pick(c, 4, false)), std::vector<std::uint32_t>{1});
  // a leaves: b and c keep their blocks; nothing becomes free.
  pp.remove_peer(a);
  EXPECT_TRUE(pp.in_endgame());
  EXPECT_EQ(pp.check_invariants(), "");
  // b fails one: that block has no requester left, so it is free again.
  pp.on_request_failed(b, {0, 0, kib16});
  EXPECT_FALSE(pp.in_endgame());
  EXPECT_EQ(pp.pick(c, 1, false), (std::vector<block>{{0, 0, kib16}}));
  EXPECT_EQ(pp.check_invariants(), "");
}

TEST(HashFailed, BlocksBackAndContributorsReported) {
  auto pp = make_picker("1");
  add_peer_bits(pp, a, "*");
  add_peer_bits(pp, b, "*");
  ASSERT_EQ(pp.pick(a, 3, false).size(), 3u);
  ASSERT_EQ(pp.pick(b, 1, false).size(), 1u);
  deliver_all(pp, a);
  EXPECT_EQ(deliver_all(pp, b), std::vector<std::uint32_t>{0});
  EXPECT_TRUE(pp.in_endgame());  // nothing free: the piece awaits its hash check
  EXPECT_EQ(pp.hash_failed(0), (std::vector<peer_key>{a, b}));
  EXPECT_FALSE(pp.in_endgame());
  EXPECT_FALSE(pp.have(0));
  EXPECT_EQ(pp.bytes_left(), 4 * kib16);
  EXPECT_EQ(pp.check_invariants(), "");
  EXPECT_EQ(pp.pick(b, 8, false).size(), 4u);  // every block again
  EXPECT_TRUE(pp.hash_failed(0).empty());      // nothing received: nothing to blame
}

TEST(Peers, RemoveReleasesBlocksAndAvailability) {
  auto pp = make_picker("0000");
  add_peer_bits(pp, a, "1100");
  add_peer_bits(pp, b, "*");
  EXPECT_EQ(pp.availability(0), 2u);
  EXPECT_EQ(pp.availability(2), 1u);
  auto got = pp.pick(a, 8, false);
  ASSERT_EQ(got.size(), 8u);
  pp.remove_peer(a);
  EXPECT_FALSE(pp.has_peer(a));
  EXPECT_EQ(pp.availability(0), 1u);
  pp.remove_peer(b);
  EXPECT_EQ(pp.availability(0), 0u);
  EXPECT_EQ(pp.check_invariants(), "");
  add_peer_bits(pp, c, "1000");
  EXPECT_EQ(pp.pick(c, 8, false).size(), 4u);
  EXPECT_THROW(pp.pick(a, 1, false), std::invalid_argument);
}

TEST(Peers, InterestingAndBecomingSeed) {
  auto pp = make_picker("0000", "xx..");
  add_peer_bits(pp, a, "1100");
  EXPECT_FALSE(pp.interesting(a));  // only pieces we have
  pp.peer_has(a, 2);
  EXPECT_TRUE(pp.interesting(a));
  pp.peer_has(a, 3);  // all four: now counted as a seed
  EXPECT_TRUE(pp.peer_has_piece(a, 3));
  EXPECT_EQ(pp.availability(3), 1u);
  EXPECT_EQ(pp.check_invariants(), "");
  pp.set_have(2);
  pp.set_have(3);
  EXPECT_FALSE(pp.interesting(a));
  EXPECT_TRUE(pp.complete());
  EXPECT_TRUE(pp.pick(a, 4, false).empty());
  pp.peer_has(a, 99);  // out of range from the network: ignored
  EXPECT_EQ(pp.check_invariants(), "");
}

TEST(Choked, OnlyAllowedFastPieces) {
  auto pp = make_picker("0000", "x...");
  add_peer_bits(pp, a, "1110");
  EXPECT_TRUE(pp.pick(a, 8, true).empty());
  pp.set_allowed_fast(a, 0);  // we have it
  pp.set_allowed_fast(a, 3);  // the peer lacks it
  pp.set_allowed_fast(a, 2);
  pp.set_allowed_fast(a, 2);
  auto got = pp.pick(a, 8, true);
  EXPECT_EQ(pieces_of(got), std::vector<std::uint32_t>{2});
  EXPECT_EQ(got.size(), 4u);
  EXPECT_EQ(pieces_of(pp.pick(a, 8, false)), std::vector<std::uint32_t>{1});  // unchoked
  EXPECT_EQ(pp.check_invariants(), "");
}

TEST(Choked, EndgameStaysInsideAllowedFast) {
  auto pp = make_picker("11");
  add_peer_bits(pp, a, "*");
  add_peer_bits(pp, b, "*");
  ASSERT_EQ(pp.pick(a, 8, false).size(), 8u);
  pp.set_allowed_fast(b, 1);
  EXPECT_EQ(pieces_of(pp.pick(b, 8, true)), std::vector<std::uint32_t>{1});
}

TEST(Have, SetHaveWhileRequestedForgetsRequests) {
  auto pp = make_picker("1");
  add_peer_bits(pp, a, "*");
  auto got = pp.pick(a, 4, false);
  pp.on_block(a, got[0]);
  pp.set_have(0);  // e.g. resume data or another source
  EXPECT_EQ(pp.outstanding(a), 0u);
  EXPECT_TRUE(pp.complete());
  EXPECT_FALSE(pp.in_endgame());
  EXPECT_EQ(pp.on_block(a, got[1]).status, received::duplicate);
  EXPECT_EQ(pp.check_invariants(), "");
}

}  // namespace
