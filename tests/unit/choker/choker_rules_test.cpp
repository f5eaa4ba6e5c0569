// One rule of the choker per test: who gets regular slots, the optimistic slot, changes only,
// limits, snubbing, determinism.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>

#include "choker_test_util.hpp"

using namespace choker_test;

TEST(Choker, FirstRechokeIsDueThenEveryInterval) {
  choker c;
  EXPECT_TRUE(c.due(at(0)));
  swarm s{{interested_peer(1)}};
  c.rechoke(s.peers, false, at(0));
  EXPECT_FALSE(c.due(at(9)));
  EXPECT_TRUE(c.due(at(10)));
  EXPECT_EQ(c.next_rechoke(), at(10));
}

struct slot_case {
  std::string name;
  std::vector<peer_info> peers;
  bool seeding;
  std::set<peer_key> regular;  // expected holders of the regular slots
};

TEST(Choker, RegularSlotsGoToInterestedNonSnubbedPeersBestRateFirst) {
  auto uninterested = [](peer_info p) {
    p.interested = false;
    return p;
  };
  auto snubbed = [](peer_info p) {
    p.snubbed = true;
    return p;
  };
  const std::vector<slot_case> cases = {
      {"fastest four of six",
       {interested_peer(1, 10), interested_peer(2, 60), interested_peer(3, 20),
        interested_peer(4, 50), interested_peer(5, 40), interested_peer(6, 30)},
       false,
       {2, 4, 5, 6}},
      {"uninterested fast peer gets nothing",
       {uninterested(interested_peer(1, 1000)), interested_peer(2, 1), interested_peer(3, 2),
        interested_peer(4, 3), interested_peer(5, 4), interested_peer(6, 5)},
       false,
       {3, 4, 5, 6}},
      {"snubbed fast peer gets no regular slot",
       {snubbed(interested_peer(1, 1000)), interested_peer(2, 1), interested_peer(3, 2),
        interested_peer(4, 3), interested_peer(5, 4), interested_peer(6, 5)},
       false,
       {3, 4, 5, 6}},
      {"fewer candidates than slots",
       {interested_peer(1, 5), uninterested(interested_peer(2, 9)), interested_peer(3, 1)},
       false,
       {1, 3}},
      {"leeching ignores upload rate",
       {interested_peer(1, 1, 900), interested_peer(2, 2, 800), interested_peer(3, 3, 700),
        interested_peer(4, 4, 600), interested_peer(5, 5, 500), interested_peer(6, 6, 400)},
       false,
       {3, 4, 5, 6}},
  };
  for (const auto& tc : cases) {
    SCOPED_TRACE(tc.name);
    choker c({}, 7);
    swarm s{tc.peers};
    const auto d = c.rechoke(s.peers, tc.seeding, at(0));
    s.apply(d);
    EXPECT_EQ(s.regular(d), tc.regular);
    if (d.optimistic) {
      EXPECT_FALSE(tc.regular.contains(*d.optimistic));
    }
  }
}

TEST(Choker, SeedingFastestUploadRanksByUploadRate) {
  choker c({.seeding = seed_policy::fastest_upload}, 1);
  swarm s{{interested_peer(1, 900, 1), interested_peer(2, 800, 2), interested_peer(3, 700, 3),
           interested_peer(4, 600, 4), interested_peer(5, 500, 5), interested_peer(6, 400, 6)}};
  const auto d = c.rechoke(s.peers, true, at(0));
  s.apply(d);
  EXPECT_EQ(s.regular(d), (std::set<peer_key>{3, 4, 5, 6}));
}

TEST(Choker, OptimisticSlotIsExtraAndGoesToAChokedInterestedPeer) {
  choker c({}, 3);
  swarm s;
  for (peer_key k = 1; k <= 8; ++k) s.peers.push_back(interested_peer(k, 100.0 * k));
  s.peers.push_back(interested_peer(9, 5000));
  s[9].interested = false;
  const auto d = c.rechoke(s.peers, false, at(0));
  s.apply(d);
  ASSERT_TRUE(d.optimistic);
  EXPECT_EQ(s.unchoked().size(), 5u);
  EXPECT_EQ(s.regular(d), (std::set<peer_key>{5, 6, 7, 8}));
  EXPECT_TRUE(*d.optimistic >= 1 && *d.optimistic <= 4);
}

TEST(Choker, NeverMoreThanSlotsPlusOneUnchoked) {
  choker c({}, 11);
  swarm s;
  for (peer_key k = 1; k <= 12; ++k) {
    s.peers.push_back(interested_peer(k, static_cast<double>(k)));
    s.peers.back().choked_by_us = false;  // somebody unchoked everyone
  }
  const auto d = c.rechoke(s.peers, false, at(0));
  EXPECT_TRUE(d.unchoke.empty());
  EXPECT_EQ(d.choke.size(), 7u);
  s.apply(d);
  EXPECT_EQ(s.unchoked().size(), 5u);
}

TEST(Choker, ReturnsOnlyChanges) {
  choker c({}, 5);
  swarm s;
  for (peer_key k = 1; k <= 7; ++k) s.peers.push_back(interested_peer(k, 10.0 * k));
  const auto first = c.rechoke(s.peers, false, at(0));
  EXPECT_EQ(first.unchoke.size(), 5u);
  EXPECT_TRUE(first.choke.empty());
  s.apply(first);
  // Nothing changed and the optimistic period has not ended: nothing to do.
  for (int t : {10, 20}) {
    const auto d = c.rechoke(s.peers, false, at(t));
    EXPECT_TRUE(d.unchoke.empty()) << t;
    EXPECT_TRUE(d.choke.empty()) << t;
    EXPECT_EQ(d.optimistic, first.optimistic);
  }
}

TEST(Choker, PeerThatLosesInterestLosesItsSlotAtTheNextRechoke) {
  choker c({}, 2);
  swarm s;
  for (peer_key k = 1; k <= 6; ++k) s.peers.push_back(interested_peer(k, 10.0 * k));
  s.apply(c.rechoke(s.peers, false, at(0)));
  ASSERT_FALSE(s[6].choked_by_us);
  s[6].interested = false;
  const auto d = c.rechoke(s.peers, false, at(10));
  s.apply(d);
  EXPECT_TRUE(s[6].choked_by_us);
  EXPECT_EQ(std::count(d.choke.begin(), d.choke.end(), 6u), 1);
  EXPECT_EQ(s.regular(d).size(), 4u);  // the next best took the slot
}

TEST(Choker, OptimisticIsKeptUntilItsIntervalThenRotated) {
  choker c({}, 9);
  swarm s;
  for (peer_key k = 1; k <= 8; ++k) s.peers.push_back(interested_peer(k, 100.0 * k));
  std::vector<std::optional<peer_key>> picks;
  for (int t = 0; t <= 60; t += 10) {
    const auto d = c.rechoke(s.peers, false, at(t));
    s.apply(d);
    picks.push_back(d.optimistic);
  }
  ASSERT_TRUE(picks[0]);
  EXPECT_EQ(picks[1], picks[0]);
  EXPECT_EQ(picks[2], picks[0]);
  EXPECT_NE(picks[3], picks[0]);  // rotated at 30 s
  EXPECT_EQ(picks[4], picks[3]);
  EXPECT_EQ(picks[5], picks[3]);
  EXPECT_NE(picks[6], picks[3]);
}

TEST(Choker, OptimisticIsReplacedAtOnceWhenItLeavesOrLosesInterest) {
  choker c({}, 4);
  swarm s;
  for (peer_key k = 1; k <= 8; ++k) s.peers.push_back(interested_peer(k, 100.0 * k));
  auto d = c.rechoke(s.peers, false, at(0));
  s.apply(d);
  const peer_key first = *d.optimistic;

  s[first].interested = false;
  d = c.rechoke(s.peers, false, at(10));
  s.apply(d);
  ASSERT_TRUE(d.optimistic);
  EXPECT_NE(*d.optimistic, first);
  EXPECT_TRUE(s[first].choked_by_us);

  const peer_key second = *d.optimistic;
  c.peer_left(second);
  EXPECT_FALSE(c.optimistic());
  s.remove(second);
  d = c.rechoke(s.peers, false, at(12));
  ASSERT_TRUE(d.optimistic);
  EXPECT_NE(*d.optimistic, second);
}

TEST(Choker, OptimisticPromotedToRegularFreesTheOptimisticSlot) {
  choker c({}, 6);
  swarm s;
  for (peer_key k = 1; k <= 8; ++k) s.peers.push_back(interested_peer(k, 100.0 * k));
  auto d = c.rechoke(s.peers, false, at(0));
  s.apply(d);
  const peer_key lucky = *d.optimistic;
  s[lucky].download_rate = 1e6;  // it reciprocated generously
  d = c.rechoke(s.peers, false, at(10));
  s.apply(d);
  EXPECT_TRUE(s.regular(d).contains(lucky));
  ASSERT_TRUE(d.optimistic);
  EXPECT_NE(*d.optimistic, lucky);
  EXPECT_EQ(s.unchoked().size(), 5u);
}

TEST(Choker, SnubbedPeerCanStillWinTheOptimisticSlot) {
  choker c({}, 8);
  swarm s;
  for (peer_key k = 1; k <= 4; ++k) s.peers.push_back(interested_peer(k, 100.0 * k));
  s.peers.push_back(interested_peer(5, 1e6));
  s[5].snubbed = true;
  const auto d = c.rechoke(s.peers, false, at(0));
  s.apply(d);
  EXPECT_EQ(d.optimistic, peer_key{5});
  EXPECT_EQ(s.regular(d), (std::set<peer_key>{1, 2, 3, 4}));
}

TEST(Choker, ZeroSlotsLeavesOnlyTheOptimisticUnchoke) {
  choker c({.slots = 0}, 1);
  swarm s{{interested_peer(1, 5), interested_peer(2, 6)}};
  const auto d = c.rechoke(s.peers, false, at(0));
  EXPECT_EQ(d.unchoke.size(), 1u);
  EXPECT_EQ(d.unchoke.front(), d.optimistic);
}

TEST(Choker, NewPeersAreThreeTimesAsLikelyToWinTheOptimisticSlot) {
  int new_wins = 0;
  constexpr int trials = 4000;
  for (int seed = 0; seed < trials; ++seed) {
    choker c({}, static_cast<std::uint64_t>(seed));
    swarm s;
    for (peer_key k = 1; k <= 4; ++k) s.peers.push_back(interested_peer(k, 1000.0 * k));
    s.peers.push_back(interested_peer(5));  // old
    s.peers.push_back(interested_peer(6));
    s[6].connected_at = at(-30);  // younger than new_peer_age (60 s)
    const auto d = c.rechoke(s.peers, false, at(0));
    if (d.optimistic == peer_key{6}) ++new_wins;
  }
  EXPECT_NEAR(static_cast<double>(new_wins) / trials, 0.75, 0.03);
}

TEST(Choker, DecisionsAreDeterministicForASeedAndIgnoreSnapshotOrder) {
  auto run = [](std::uint64_t seed, bool shuffle_snapshot) {
    choker c({}, seed);
    swarm s;
    for (peer_key k = 1; k <= 10; ++k) s.peers.push_back(interested_peer(k, k % 3));
    std::mt19937 shuffler(1234);
    std::vector<std::optional<peer_key>> trace;
    for (int t = 0; t <= 300; t += 10) {
      if (shuffle_snapshot) std::shuffle(s.peers.begin(), s.peers.end(), shuffler);
      const auto d = c.rechoke(s.peers, false, at(t));
      s.apply(d);
      trace.push_back(d.optimistic);
      for (auto k : s.unchoked()) trace.push_back(k);
    }
    return trace;
  };
  EXPECT_EQ(run(42, false), run(42, false));
  EXPECT_EQ(run(42, false), run(42, true));
  EXPECT_NE(run(42, false), run(43, false));
}

TEST(Choker, EqualRatesTakeTurnsInRegularSlots) {
  choker c({}, 12);
  swarm s;
  for (peer_key k = 1; k <= 8; ++k) s.peers.push_back(interested_peer(k));  // all rate 0
  std::map<peer_key, int> regular_rounds;
  for (int t = 0; t < 100; t += 10) {
    const auto d = c.rechoke(s.peers, false, at(t));
    s.apply(d);
    for (auto k : s.regular(d)) ++regular_rounds[k];
  }
  // Whoever waited longest goes first, so 8 equal peers in 4 slots alternate exactly.
  ASSERT_EQ(regular_rounds.size(), 8u);
  for (const auto& [key, rounds] : regular_rounds) EXPECT_EQ(rounds, 5) << "peer " << key;
}
