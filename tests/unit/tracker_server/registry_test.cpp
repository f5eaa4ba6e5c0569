// The swarm registry: add/refresh/remove, counts, numwant selection, expiry, bounds and the
// allow-list, with a clock the test controls.
#include <gtest/gtest.h>

#include <set>

#include "peerwire/tracker_server.hpp"

namespace ts = peerwire::tracker_server;
using namespace std::chrono_literals;

namespace {

const std::array<std::uint8_t, 16> key{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
const ts::time_point t0 = ts::time_point{} + 1000h;

peerwire::sha1_hash hash_of(int n) {
  peerwire::sha1_hash h;
  h.bytes[0] = static_cast<std::uint8_t>(n);
  h.bytes[1] = static_cast<std::uint8_t>(n >> 8);
  h.bytes[19] = 0xee;
  return h;
}

ts::announce_input peer(int torrent, int n, std::int64_t left = 100, bool v6 = false) {
  ts::announce_input in;
  in.info_hash = hash_of(torrent);
  in.id[0] = static_cast<std::uint8_t>(n);
  in.peer = v6 ? ts::endpoint::v6_from({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                        static_cast<std::uint8_t>(n)},
                                       static_cast<std::uint16_t>(6000 + n))
               : ts::endpoint::v4_from({10, 0, 0, static_cast<std::uint8_t>(n)},
                                       static_cast<std::uint16_t>(6000 + n));
  in.left = left;
  return in;
}

}  // namespace

TEST(Registry, AnnounceAddsPeersAndCountsSeedersAndLeechers) {
  ts::registry r({}, key, 1);
  ts::announce_output out;
  EXPECT_EQ(r.announce(peer(1, 1, 0), t0, ts::families::both, out), ts::refusal::none);
  EXPECT_EQ(out.counts.complete, 1u);
  EXPECT_EQ(out.counts.incomplete, 0u);
  EXPECT_TRUE(out.peers.empty()) << "the announcer itself is never returned";
  EXPECT_EQ(r.announce(peer(1, 2, 50), t0, ts::families::both, out), ts::refusal::none);
  EXPECT_EQ(out.counts.complete, 1u);
  EXPECT_EQ(out.counts.incomplete, 1u);
  ASSERT_EQ(out.peers.size(), 1u);
  EXPECT_EQ(out.peers[0].addr, peer(1, 1).peer);
  EXPECT_EQ(out.peers[0].id, peer(1, 1).id);
  EXPECT_EQ(r.peer_count(), 2u);
  EXPECT_EQ(r.torrent_count(), 1u);
}

TEST(Registry, ReannounceRefreshesInsteadOfDuplicating) {
  ts::registry r({}, key, 1);
  ts::announce_output out;
  for (int i = 0; i < 5; ++i) (void)r.announce(peer(1, 1), t0 + i * 1s, ts::families::both, out);
  EXPECT_EQ(r.peer_count(), 1u);
  // Becoming a seeder moves the peer from incomplete to complete; `completed` is counted once.
  auto done = peer(1, 1, 0);
  done.ev = ts::event::completed;
  (void)r.announce(done, t0 + 10s, ts::families::both, out);
  (void)r.announce(done, t0 + 11s, ts::families::both, out);
  EXPECT_EQ(out.counts.complete, 1u);
  EXPECT_EQ(out.counts.incomplete, 0u);
  EXPECT_EQ(out.counts.downloaded, 1u);
}

TEST(Registry, StoppedRemovesThePeer) {
  ts::registry r({}, key, 1);
  ts::announce_output out;
  (void)r.announce(peer(1, 1), t0, ts::families::both, out);
  (void)r.announce(peer(1, 2), t0, ts::families::both, out);
  auto stop = peer(1, 1);
  stop.ev = ts::event::stopped;
  EXPECT_EQ(r.announce(stop, t0, ts::families::both, out), ts::refusal::none);
  EXPECT_TRUE(out.peers.empty());
  EXPECT_EQ(out.counts.incomplete, 1u);
  EXPECT_EQ(r.peer_count(), 1u);
  // Stopping on an unknown torrent creates nothing.
  auto stray = peer(9, 1);
  stray.ev = ts::event::stopped;
  EXPECT_EQ(r.announce(stray, t0, ts::families::both, out), ts::refusal::none);
  EXPECT_EQ(r.torrent_count(), 1u);
}

TEST(Registry, NumwantIsHonouredClampedAndRandomlyStarted) {
  ts::settings s;
  s.max_numwant = 30;
  ts::registry r(s, key, 42);
  ts::announce_output out;
  for (int i = 1; i <= 100; ++i) (void)r.announce(peer(1, i), t0, ts::families::both, out);
  auto asker = peer(1, 1);
  asker.numwant = 10;
  (void)r.announce(asker, t0, ts::families::both, out);
  EXPECT_EQ(out.peers.size(), 10u);
  asker.numwant = 1000;
  (void)r.announce(asker, t0, ts::families::both, out);
  EXPECT_EQ(out.peers.size(), 30u) << "clamped to max_numwant";
  asker.numwant = -1;
  (void)r.announce(asker, t0, ts::families::both, out);
  EXPECT_EQ(out.peers.size(), 30u) << "default 50, clamped to max 30";
  asker.numwant = 0;
  (void)r.announce(asker, t0, ts::families::both, out);
  EXPECT_TRUE(out.peers.empty());
  // Different announces see different subsets; no duplicates within one reply.
  std::set<std::uint16_t> first_ports;
  asker.numwant = 5;
  for (int k = 0; k < 20; ++k) {
    (void)r.announce(asker, t0, ts::families::both, out);
    std::set<std::uint16_t> ports;
    for (const auto& p : out.peers) ports.insert(p.addr.port);
    EXPECT_EQ(ports.size(), out.peers.size());
    first_ports.insert(out.peers[0].addr.port);
  }
  EXPECT_GT(first_ports.size(), 3u);
}

TEST(Registry, SeedersAreNotSentToSeeders) {
  ts::registry r({}, key, 1);
  ts::announce_output out;
  (void)r.announce(peer(1, 1, 0), t0, ts::families::both, out);
  (void)r.announce(peer(1, 2, 0), t0, ts::families::both, out);
  EXPECT_TRUE(out.peers.empty());
  (void)r.announce(peer(1, 3, 10), t0, ts::families::both, out);
  EXPECT_EQ(out.peers.size(), 2u);
  (void)r.announce(peer(1, 1, 0), t0, ts::families::both, out);
  ASSERT_EQ(out.peers.size(), 1u);
  EXPECT_EQ(out.peers[0].addr.port, 6003);
}

TEST(Registry, FamiliesFilterPeers) {
  ts::registry r({}, key, 1);
  ts::announce_output out;
  (void)r.announce(peer(1, 1, 5, false), t0, ts::families::both, out);
  (void)r.announce(peer(1, 2, 5, true), t0, ts::families::both, out);
  (void)r.announce(peer(1, 3, 5, false), t0, ts::families::v4, out);
  ASSERT_EQ(out.peers.size(), 1u);
  EXPECT_FALSE(out.peers[0].addr.v6);
  (void)r.announce(peer(1, 3, 5, false), t0, ts::families::v6, out);
  ASSERT_EQ(out.peers.size(), 1u);
  EXPECT_TRUE(out.peers[0].addr.v6);
  (void)r.announce(peer(1, 3, 5, false), t0, ts::families::both, out);
  EXPECT_EQ(out.peers.size(), 2u);
}

TEST(Registry, PeersExpireAfterTwoMissedIntervals) {
  ts::settings s;
  s.interval = 100s;
  ts::registry r(s, key, 1);
  ts::announce_output out;
  (void)r.announce(peer(1, 1), t0, ts::families::both, out);
  (void)r.announce(peer(1, 2), t0 + 150s, ts::families::both, out);
  // At t0+199 s peer 1 is still there; after t0+200 s it is gone.
  (void)r.announce(peer(1, 3), t0 + 199s, ts::families::both, out);
  EXPECT_EQ(out.peers.size(), 2u);
  (void)r.announce(peer(1, 3), t0 + 201s, ts::families::both, out);
  ASSERT_EQ(out.peers.size(), 1u);
  EXPECT_EQ(out.peers[0].addr.port, 6002);
  EXPECT_EQ(out.counts.incomplete, 2u);
  // The global sweep drops whole torrents once empty.
  (void)r.announce(peer(2, 1), t0 + 201s, ts::families::both, out);
  r.expire(t0 + 500s);
  EXPECT_EQ(r.torrent_count(), 0u);
  EXPECT_EQ(r.peer_count(), 0u);
}

TEST(Registry, BoundsOnTorrentsAndPeers) {
  ts::settings s;
  s.max_torrents = 3;
  s.max_peers = 5;
  ts::registry r(s, key, 1);
  ts::announce_output out;
  for (int t = 1; t <= 3; ++t) {
    EXPECT_EQ(r.announce(peer(t, 1), t0, ts::families::both, out), ts::refusal::none);
  }
  EXPECT_EQ(r.announce(peer(4, 1), t0, ts::families::both, out), ts::refusal::too_many_torrents);
  EXPECT_EQ(r.announce(peer(1, 2), t0, ts::families::both, out), ts::refusal::none);
  EXPECT_EQ(r.announce(peer(1, 3), t0, ts::families::both, out), ts::refusal::none);
  EXPECT_EQ(r.announce(peer(1, 4), t0, ts::families::both, out), ts::refusal::too_many_peers);
  // Known peers still refresh when full.
  EXPECT_EQ(r.announce(peer(1, 3), t0, ts::families::both, out), ts::refusal::none);
  EXPECT_EQ(r.peer_count(), 5u);
  EXPECT_FALSE(ts::describe(ts::refusal::too_many_peers).empty());
}

TEST(Registry, AllowListServesOnlyListedTorrents) {
  ts::registry r({}, key, 1);
  ts::announce_output out;
  (void)r.announce(peer(1, 1), t0, ts::families::both, out);
  (void)r.announce(peer(2, 1), t0, ts::families::both, out);
  r.set_allow_list(std::vector<peerwire::sha1_hash>{hash_of(2)});
  EXPECT_EQ(r.torrent_count(), 1u) << "torrent 1 dropped when the list is applied";
  EXPECT_EQ(r.peer_count(), 1u);
  EXPECT_EQ(r.announce(peer(1, 1), t0, ts::families::both, out), ts::refusal::not_allowed);
  EXPECT_EQ(r.announce(peer(2, 2), t0, ts::families::both, out), ts::refusal::none);
  EXPECT_FALSE(r.counts(hash_of(1)));
  EXPECT_TRUE(r.counts(hash_of(2)));
  r.set_allow_list(std::nullopt);
  EXPECT_EQ(r.announce(peer(1, 1), t0, ts::families::both, out), ts::refusal::none);
}

TEST(Registry, ScrapeCounts) {
  ts::registry r({}, key, 1);
  ts::announce_output out;
  (void)r.announce(peer(1, 1, 0), t0, ts::families::both, out);
  (void)r.announce(peer(1, 2, 7), t0, ts::families::both, out);
  (void)r.announce(peer(2, 2, 7), t0, ts::families::both, out);
  auto c = r.counts(hash_of(1));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->complete, 1u);
  EXPECT_EQ(c->incomplete, 1u);
  EXPECT_FALSE(r.counts(hash_of(3)));
  EXPECT_EQ(r.all_counts().size(), 2u);
}

TEST(AllowList, ParsesHexBase32CommentsAndBlankLines) {
  auto hex = hash_of(7).hex();
  auto b32 = hash_of(8).base32();
  auto list = ts::parse_allow_list("# comment\n\n  " + hex + "  \r\n" + b32 + "\n");
  ASSERT_TRUE(list) << list.error().describe();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0], hash_of(7));
  EXPECT_EQ((*list)[1], hash_of(8));
  auto bad = ts::parse_allow_list(hex + "\nnot-a-hash\n");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("line 2"), std::string::npos);
}

TEST(Endpoint, Text) {
  EXPECT_EQ(ts::to_string(ts::endpoint::v4_from({127, 0, 0, 1}, 6881)), "127.0.0.1:6881");
  std::array<std::uint8_t, 16> one{};
  one[15] = 1;
  EXPECT_EQ(ts::to_string(ts::endpoint::v6_from(one, 80)), "[::1]:80");
}
