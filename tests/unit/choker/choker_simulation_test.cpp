// Many rechokes in simulated time: peers reciprocate only while we unchoke them, so the choker
// has to discover the fast ones through the optimistic slot and then keep them.
#include <gtest/gtest.h>

#include <map>

#include "choker_test_util.hpp"

using namespace choker_test;

namespace {

// What one run of 30 rechokes looked like.
struct history {
  std::vector<std::set<peer_key>> regular;  // per rechoke
  std::set<peer_key> ever_optimistic;
  std::map<peer_key, int> regular_rounds;
  std::size_t max_unchoked = 0;
};

// capacity: what the peer sends us (leeching) or can take from us (seeding) while unchoked.
// The rate seen at a rechoke is what it did during the previous 10 s.
history simulate(const std::vector<std::pair<peer_key, double>>& capacity, bool seeding,
                 settings cfg, std::uint64_t seed, int rounds = 30) {
  choker c(cfg, seed);
  swarm s;
  for (const auto& [key, cap] : capacity) s.peers.push_back(interested_peer(key));
  history h;
  for (int round = 0; round < rounds; ++round) {
    const auto d = c.rechoke(s.peers, seeding, at(10 * round));
    s.apply(d);
    h.regular.push_back(s.regular(d));
    for (auto k : s.regular(d)) ++h.regular_rounds[k];
    if (d.optimistic) h.ever_optimistic.insert(*d.optimistic);
    h.max_unchoked = std::max(h.max_unchoked, s.unchoked().size());
    for (const auto& [key, cap] : capacity) {
      auto& p = s[key];
      const double rate = p.choked_by_us ? 0 : cap;
      (seeding ? p.upload_rate : p.download_rate) = rate;
    }
  }
  return h;
}

const std::vector<std::pair<peer_key, double>> mixed_swarm = {
    {1, 200e3}, {2, 150e3}, {3, 120e3}, {4, 100e3},                        // fast
    {5, 8e3},   {6, 6e3},   {7, 5e3},   {8, 4e3},   {9, 2e3}, {10, 1e3}};  // slow

}  // namespace

TEST(ChokerSimulation, FastUploadersKeepTheirSlotsAndEveryoneGetsAnOptimisticTurn) {
  // Several seeds, so the property does not hang on one lucky random sequence.
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    SCOPED_TRACE(seed);
    const auto h = simulate(mixed_swarm, false, {}, seed);
    EXPECT_LE(h.max_unchoked, 5u);
    // Discovery takes a few optimistic rotations; after that the fast four never move.
    const std::set<peer_key> fast{1, 2, 3, 4};
    for (std::size_t round = 20; round < h.regular.size(); ++round) {
      EXPECT_EQ(h.regular[round], fast) << "round " << round;
    }
    for (peer_key k = 5; k <= 10; ++k) {
      EXPECT_TRUE(h.ever_optimistic.contains(k)) << "peer " << k << " never optimistic";
    }
  }
}

TEST(ChokerSimulation, SeedingRoundRobinSharesSlotsFairly) {
  // Unequal capacities on purpose: a fast peer must not keep the seed to itself.
  for (std::uint64_t seed = 0; seed < 10; ++seed) {
    SCOPED_TRACE(seed);
    const auto h = simulate(mixed_swarm, true, {}, seed);
    EXPECT_LE(h.max_unchoked, 5u);
    ASSERT_EQ(h.regular_rounds.size(), 10u);  // every peer had regular slots
    for (const auto& [key, rounds] : h.regular_rounds) {
      // 30 rounds x 4 slots over 10 peers = 12 each on average.
      EXPECT_GE(rounds, 8) << "peer " << key;
      EXPECT_LE(rounds, 15) << "peer " << key;
    }
    // A turn lasts seed_turn (30 s = 3 rechokes) when others wait; then it passes on.
    std::map<peer_key, int> streak;
    for (const auto& reg : h.regular) {
      for (peer_key k = 1; k <= 10; ++k) {
        streak[k] = reg.contains(k) ? streak[k] + 1 : 0;
        EXPECT_LE(streak[k], 3) << "peer " << k;
      }
    }
  }
}

TEST(ChokerSimulation, SeedingFastestUploadKeepsTheFastestPeers) {
  const auto h = simulate(mixed_swarm, true, {.seeding = seed_policy::fastest_upload}, 3);
  const std::set<peer_key> fast{1, 2, 3, 4};
  for (std::size_t round = 20; round < h.regular.size(); ++round) {
    EXPECT_EQ(h.regular[round], fast) << "round " << round;
  }
  for (peer_key k = 5; k <= 10; ++k) EXPECT_TRUE(h.ever_optimistic.contains(k)) << k;
}

TEST(ChokerSimulation, PeersComingAndGoingNeverBreakTheSlotLimit) {
  choker c({}, 77);
  swarm s;
  peer_key next = 1;
  for (; next <= 6; ++next) s.peers.push_back(interested_peer(next, 1000.0 * next));
  for (int round = 0; round < 60; ++round) {
    if (round % 4 == 1 && !s.peers.empty()) {
      const peer_key gone = s.peers[static_cast<std::size_t>(round) % s.peers.size()].key;
      c.peer_left(gone);
      s.remove(gone);
    }
    if (round % 3 == 0) {
      s.peers.push_back(interested_peer(next, 500.0 * (next % 7)));
      s.peers.back().connected_at = at(10 * round);
      ++next;
    }
    if (round % 5 == 2 && !s.peers.empty()) s.peers.front().interested ^= true;
    const auto d = c.rechoke(s.peers, round % 2 == 0, at(10 * round));
    s.apply(d);
    ASSERT_LE(s.unchoked().size(), 5u) << "round " << round;
    for (auto k : s.unchoked()) {
      EXPECT_TRUE(s[k].interested) << "uninterested peer " << k << " left unchoked";
    }
    if (d.optimistic) {
      EXPECT_TRUE(s[*d.optimistic].interested);
    }
  }
}
