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

TEST(PeerState, LaterAnnouncementsAreMerged) {
  // aria2 sends a fresh bitfield instead of a batch of haves, at any time.
  std::uint8_t first[1] = {0x80};  // piece 0
  std::uint8_t later[1] = {0x60};  // pieces 1 and 2
  peer_state a(3);
  EXPECT_FALSE(a.on_receive(have_none{}));
  EXPECT_FALSE(a.on_receive(have{0}));
  EXPECT_FALSE(a.on_receive(bitfield{later}));
  EXPECT_EQ(a.peer_piece_count(), 3u);  // the have is kept, the bitfield adds
  EXPECT_TRUE(a.peer_is_seed());
  peer_state b(3);
  EXPECT_FALSE(b.on_receive(bitfield{first}));
  EXPECT_FALSE(b.on_receive(have_none{}));  // cannot take pieces back
  EXPECT_TRUE(b.peer_has(0));
  EXPECT_FALSE(b.on_receive(have_all{}));
  EXPECT_TRUE(b.peer_is_seed());
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

// Magnet downloads: announcements made before the metadata are kept and checked afterwards.
TEST(PeerState, AnnouncementsBeforeMetadataApplyWhenSized) {
  peer_state s(0);
  std::uint8_t bits[2] = {0b10000000, 0b01000000};  // pieces 0 and 9
  EXPECT_FALSE(s.on_receive(bitfield{bits}));
  EXPECT_FALSE(s.on_receive(have{3}));
  EXPECT_EQ(s.peer_piece_count(), 0u);
  EXPECT_FALSE(s.set_piece_count(10));
  EXPECT_EQ(s.piece_count(), 10u);
  EXPECT_EQ(s.peer_piece_count(), 3u);
  EXPECT_TRUE(s.peer_has(0));
  EXPECT_TRUE(s.peer_has(3));
  EXPECT_TRUE(s.peer_has(9));
  EXPECT_FALSE(s.peer_has(1));
}

TEST(PeerState, HaveAllBeforeMetadataMakesASeed) {
  peer_state s(0);
  EXPECT_FALSE(s.on_receive(have_all{}));
  EXPECT_FALSE(s.set_piece_count(13));
  EXPECT_TRUE(s.peer_is_seed());
}

TEST(PeerState, BadAnnouncementsBeforeMetadataAreCaughtWhenSized) {
  {
    peer_state s(0);
    std::uint8_t bits[3] = {0xff, 0xff, 0x00};
    EXPECT_FALSE(s.on_receive(bitfield{bits}));
    auto err = s.set_piece_count(10);  // needs 2 bytes
    ASSERT_TRUE(err);
    EXPECT_NE(err->find("3 bytes"), std::string::npos) << *err;
  }
  {
    peer_state s(0);
    std::uint8_t bits[2] = {0xff, 0xff};  // 16 bits set, 10 pieces: spare bits
    EXPECT_FALSE(s.on_receive(bitfield{bits}));
    auto err = s.set_piece_count(10);
    ASSERT_TRUE(err);
    EXPECT_NE(err->find("spare"), std::string::npos) << *err;
  }
  {
    peer_state s(0);
    EXPECT_FALSE(s.on_receive(have{12}));
    EXPECT_TRUE(s.set_piece_count(10));
  }
  {
    peer_state s(0);
    EXPECT_FALSE(s.on_receive(have{0xfffffff0u}));  // kept as a flag, not as 512 MB of bits
    EXPECT_TRUE(s.set_piece_count(10));
  }
}
