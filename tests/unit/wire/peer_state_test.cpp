#include <gtest/gtest.h>

#include "peerwire/wire_peer_state.hpp"

using namespace peerwire::wire;

TEST(PeerState, StartsChokedAndUninterested) {
  peer_state s(10);
  EXPECT_TRUE(s.am_choking);
  EXPECT_FALSE(s.am_interested);
  EXPECT_TRUE(s.peer_choking);
  EXPECT_FALSE(s.peer_interested);
  EXPECT_FALSE(s.pieces_known());
}

TEST(PeerState, FlagsFollowMessages) {
  peer_state s(10);
  EXPECT_FALSE(s.on_receive(unchoke{}));
  EXPECT_FALSE(s.peer_choking);
  EXPECT_FALSE(s.on_receive(interested{}));
  EXPECT_TRUE(s.peer_interested);
  EXPECT_FALSE(s.on_receive(not_interested{}));
  EXPECT_FALSE(s.peer_interested);
  EXPECT_FALSE(s.on_receive(choke{}));
  EXPECT_TRUE(s.peer_choking);
  s.on_send(unchoke{});
  s.on_send(interested{});
  EXPECT_FALSE(s.am_choking);
  EXPECT_TRUE(s.am_interested);
}

TEST(PeerState, BitfieldThenHaves) {
  peer_state s(10);
  std::uint8_t bits[2] = {0b10100000, 0b01000000};  // pieces 0, 2, 9
  EXPECT_FALSE(s.on_receive(bitfield{bits}));
  EXPECT_TRUE(s.pieces_known());
  EXPECT_EQ(s.peer_piece_count(), 3u);
  EXPECT_TRUE(s.peer_has(0));
  EXPECT_FALSE(s.peer_has(1));
  EXPECT_TRUE(s.peer_has(9));
  EXPECT_FALSE(s.on_receive(have{1}));
  EXPECT_FALSE(s.on_receive(have{1}));  // repeated have counts once
  EXPECT_EQ(s.peer_piece_count(), 4u);
  EXPECT_FALSE(s.peer_is_seed());
}

TEST(PeerState, HaveAllMakesASeed) {
  peer_state s(5);
  EXPECT_FALSE(s.on_receive(keep_alive{}));  // keep-alives do not count as the first message
  EXPECT_FALSE(s.on_receive(have_all{}));
  EXPECT_TRUE(s.peer_is_seed());
}

TEST(PeerState, PiecesAreAnnouncedOnce) {
  std::uint8_t bits[1] = {0x80};
  peer_state a(3);
  EXPECT_FALSE(a.on_receive(have{0}));
  EXPECT_TRUE(a.on_receive(bitfield{bits}));  // would rewrite the have
  peer_state b(3);
  EXPECT_FALSE(b.on_receive(bitfield{bits}));
  auto second = b.on_receive(have_all{});
  ASSERT_TRUE(second);
  EXPECT_NE(second->find("already announced"), std::string::npos);
  // Other messages may come first: libtorrent sends its extension handshake before have-all.
  peer_state c(3);
  std::uint8_t payload[] = {'d', 'e'};
  EXPECT_FALSE(c.on_receive(extended{0, payload}));
  EXPECT_FALSE(c.on_receive(unchoke{}));
  EXPECT_FALSE(c.on_receive(have_all{}));
  EXPECT_TRUE(c.peer_is_seed());
}

TEST(PeerState, UnknownPieceCountTracksNothing) {
  peer_state s(0);
  EXPECT_FALSE(s.on_receive(have{7}));
  EXPECT_FALSE(s.peer_has(7));
  EXPECT_FALSE(s.peer_is_seed());
}
