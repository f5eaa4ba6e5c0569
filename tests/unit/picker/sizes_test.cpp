// Torrent geometry: short last piece and block, a one-piece torrent, the 2^21-piece limit.
#include <gtest/gtest.h>

#include <stdexcept>

#include "picker_fixture.hpp"

using namespace picker_test;

namespace {

TEST(Sizes, ShortLastPieceWithShortLastBlock) {
  // 3 full pieces of 4 blocks, then 20000 bytes: a full block and 3616 bytes.
  piece_picker pp(4, 4 * kib16, 3 * 4 * kib16 + 20000, 1);
  EXPECT_EQ(pp.piece_size(0), 4 * kib16);
  EXPECT_EQ(pp.piece_size(3), 20000u);
  EXPECT_EQ(pp.block_count(0), 4u);
  EXPECT_EQ(pp.block_count(3), 2u);
  EXPECT_EQ(pp.block_at(3, 1), (block{3, kib16, 3616}));
  pp.add_peer(1);
  pp.peer_has(1, 3);
  auto got = pp.pick(1, 10, false);
  EXPECT_EQ(got, (std::vector<block>{{3, 0, kib16}, {3, kib16, 3616}}));
  EXPECT_EQ(pp.on_block(1, {3, kib16, kib16}).status, received::unrequested);  // wrong length
  EXPECT_EQ(pp.on_block(1, got[1]).status, received::accepted);
  EXPECT_TRUE(pp.on_block(1, got[0]).piece_complete);
  pp.set_have(3);
  EXPECT_EQ(pp.bytes_left(), 3u * 4 * kib16);
  EXPECT_EQ(pp.check_invariants(), "");
}

TEST(Sizes, OnePieceTorrent) {
  piece_picker pp(1, 32 * 1024, 100, 1);
  EXPECT_EQ(pp.block_count(0), 1u);
  pp.add_peer(1);
  EXPECT_FALSE(pp.interesting(1));
  pp.peer_has_all(1);
  EXPECT_TRUE(pp.interesting(1));
  auto got = pp.pick(1, 4, false);
  ASSERT_EQ(got, (std::vector<block>{{0, 0, 100}}));
  EXPECT_TRUE(pp.in_endgame());  // the only block is in flight
  EXPECT_TRUE(pp.pick(1, 4, false).empty());
  EXPECT_TRUE(pp.on_block(1, got[0]).piece_complete);
  pp.set_have(0);
  EXPECT_TRUE(pp.complete());
  EXPECT_FALSE(pp.in_endgame());
  EXPECT_EQ(pp.bytes_left(), 0u);
  EXPECT_TRUE(pp.pick(1, 4, false).empty());
  EXPECT_EQ(pp.check_invariants(), "");
}

TEST(Sizes, PieceSmallerThanBlockAndOddBlockSize) {
  piece_picker small(3, 1000, 2500, 1);
  EXPECT_EQ(small.block_count(0), 1u);
  EXPECT_EQ(small.block_at(2, 0), (block{2, 0, 500}));
  piece_picker odd(2, 10000, 15000, 1, 3000);
  EXPECT_EQ(odd.block_count(0), 4u);
  EXPECT_EQ(odd.block_at(0, 3), (block{0, 9000, 1000}));
  EXPECT_EQ(odd.block_count(1), 2u);
  EXPECT_EQ(odd.block_at(1, 1), (block{1, 3000, 2000}));
}

TEST(Sizes, RejectsInconsistentGeometry) {
  EXPECT_THROW(piece_picker(0, 16384, 1, 1), std::invalid_argument);
  EXPECT_THROW(piece_picker(2, 16384, 16384, 1), std::invalid_argument);  // too small
  EXPECT_THROW(piece_picker(2, 16384, 3 * 16384, 1), std::invalid_argument);
  EXPECT_THROW(piece_picker(1, 0, 1, 1), std::invalid_argument);
  EXPECT_THROW(piece_picker(1, 16384, 1, 1, 0), std::invalid_argument);
  EXPECT_THROW(piece_picker(max_pieces + 1, 16384, std::uint64_t{max_pieces + 1} * 16384, 1),
               std::invalid_argument);
}

TEST(Sizes, MaxPiecesWorks) {
  // Not a benchmark: the largest torrent builds, takes peers and picks (a few MB of state).
  const std::uint64_t total = std::uint64_t{max_pieces} * kib16;
  piece_picker pp(max_pieces, kib16, total, 42);
  pp.add_peer(1);
  pp.peer_has_all(1);
  pp.add_peer(2);
  for (std::uint32_t i = 0; i < max_pieces; i += 2) pp.peer_has(2, i);
  pp.add_peer(3);
  pp.peer_has(3, max_pieces - 1);
  // Rarest: piece max-1 (and the odd ones) are held by one non-seed or none.
  auto got = pp.pick(1, 8, false);
  ASSERT_EQ(got.size(), 8u);
  for (const block& b : got) EXPECT_EQ(b.piece % 2, 1u);
  EXPECT_EQ(pp.pick(3, 1, false), (std::vector<block>{{max_pieces - 1, 0, kib16}}));
  for (std::uint32_t i = 0; i < 1000; ++i) pp.set_have(i);
  EXPECT_EQ(pp.have_count(), 1000u);
  pp.remove_peer(2);
  EXPECT_EQ(pp.availability(0), 1u);
  EXPECT_TRUE(pp.interesting(1));
}

}  // namespace
