// Randomized swarm: fake peers with random bitfields, blocks arriving in random order,
// requests failing, chokes, peers leaving and coming back, corrupt pieces. The torrent must
// always complete, the picker's invariants hold after every step, its view of outstanding
// requests matches the model's, and duplicates happen only in endgame.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <tuple>

#include "picker_fixture.hpp"

using namespace picker_test;

namespace {

struct sim_peer {
  std::vector<bool> bits;
  bool seed = false;
  bool choking = false;
  std::vector<std::uint32_t> allowed_fast;
  std::vector<block> in_flight;  // the model's view of its outstanding requests
  std::vector<block> late;       // cancelled, but may still arrive
};

class swarm {
 public:
  explicit swarm(std::uint64_t seed) : rng_(seed) {
    const std::uint32_t n = between(1, 40);
    const std::uint32_t piece_length = between(1, 5) * kib16;
    const std::uint64_t total = std::uint64_t{n - 1} * piece_length + between(1, piece_length);
    pp_.emplace(n, piece_length, total, seed);
    pp_->set_sequential(chance(4));
    // Resume data: some pieces we already have.
    for (std::uint32_t i = 0; i < n; ++i)
      if (chance(8)) pp_->set_have(i);
    const std::uint32_t peers = between(1, 6);
    std::vector<bool> covered(n, false);
    for (std::uint32_t k = 0; k < peers; ++k) {
      sim_peer p;
      p.seed = chance(5);
      p.bits.assign(n, p.seed);
      for (std::uint32_t i = 0; i < n; ++i)
        if (chance(2)) p.bits[i] = true;
      // The last peer fills the gaps so the swarm as a whole has everything.
      if (k + 1 == peers)
        for (std::uint32_t i = 0; i < n; ++i)
          if (!covered[i]) p.bits[i] = true;
      for (std::uint32_t i = 0; i < n; ++i) covered[i] = covered[i] || p.bits[i];
      for (int f = 0; f < 3; ++f) p.allowed_fast.push_back(between(0, n - 1));
      join(std::move(p));
    }
  }

  // One random event (some are no-ops in the current state).
  void step() {
    auto it = std::next(peers_.begin(), between(0, static_cast<std::uint32_t>(peers_.size()) - 1));
    const peer_key key = it->first;
    sim_peer& p = it->second;
    switch (between(0, 19)) {
      case 0: {  // leaves and a new connection with the same pieces arrives
        sim_peer again = p;
        pp_->remove_peer(key);
        peers_.erase(it);
        again.in_flight.clear();
        again.late.clear();
        join(std::move(again));
        return;
      }
      case 1:  // choke without the fast extension: everything outstanding is dropped
        p.choking = true;
        pp_->release_peer_requests(key);
        p.in_flight.clear();
        return;
      case 2:
        p.choking = false;
        return;
      case 3:
      case 4:  // timeout or reject
        if (p.in_flight.empty()) return;
        {
          const auto i = between(0, static_cast<std::uint32_t>(p.in_flight.size()) - 1);
          pp_->on_request_failed(key, p.in_flight[i]);
          p.in_flight.erase(p.in_flight.begin() + i);
        }
        return;
      case 5:  // a cancelled block arrives anyway
        if (p.late.empty()) return;
        {
          const block b = p.late.back();
          p.late.pop_back();
          if (std::find(p.in_flight.begin(), p.in_flight.end(), b) != p.in_flight.end()) return;
          EXPECT_NE(pp_->on_block(key, b).status, received::accepted);
        }
        return;
      case 6:
      case 7:
      case 8:
      case 9:
      case 10:
        request(key, p);
        return;
      default:
        deliver(key, p);
    }
  }

  void request(peer_key key, sim_peer& p) {
    const std::size_t want = between(1, 8);
    if (p.in_flight.size() >= want) return;
    const bool endgame_before = pp_->in_endgame();
    auto got = pp_->pick(key, want - p.in_flight.size(), p.choking);
    bool duplicate_seen = false;
    for (const block& b : got) {
      ASSERT_TRUE(p.bits[b.piece]) << "picked a piece the peer lacks";
      ASSERT_FALSE(pp_->have(b.piece)) << "picked a piece we have";
      if (p.choking) {
        ASSERT_NE(std::find(p.allowed_fast.begin(), p.allowed_fast.end(), b.piece),
                  p.allowed_fast.end());
      }
      ASSERT_EQ(std::count(p.in_flight.begin(), p.in_flight.end(), b), 0);
      bool elsewhere = false;
      for (const auto& [k, q] : peers_)
        elsewhere = elsewhere || std::count(q.in_flight.begin(), q.in_flight.end(), b) > 0;
      // Duplicates come after every free block of this call, and only in endgame.
      if (elsewhere) duplicate_seen = true;
      ASSERT_TRUE(!duplicate_seen || elsewhere) << "free block after a duplicate";
      if (elsewhere) {
        ASSERT_TRUE(pp_->in_endgame() || endgame_before);
      }
      p.in_flight.push_back(b);
      ++requested_;
    }
  }

  void deliver(peer_key key, sim_peer& p) {
    if (p.in_flight.empty()) return;
    const auto i = between(0, static_cast<std::uint32_t>(p.in_flight.size()) - 1);
    const block b = p.in_flight[i];
    p.in_flight.erase(p.in_flight.begin() + i);
    auto r = pp_->on_block(key, b);
    ASSERT_EQ(r.status, received::accepted);
    const std::pair<std::uint32_t, std::uint32_t> id{b.piece, b.offset};
    ASSERT_EQ(received_[id]++, 0) << "block accepted twice";
    for (peer_key other : r.cancel_at) {
      sim_peer& q = peers_.at(other);
      auto at = std::find(q.in_flight.begin(), q.in_flight.end(), b);
      ASSERT_NE(at, q.in_flight.end()) << "cancel for a block the peer was not asked for";
      q.in_flight.erase(at);
      if (chance(2)) q.late.push_back(b);
      ++cancels_;
    }
    if (!r.piece_complete) return;
    if (chance(6)) {  // corrupt: every block comes back, senders reported
      auto blamed = pp_->hash_failed(b.piece);
      ASSERT_TRUE(std::binary_search(blamed.begin(), blamed.end(), key));
      for (std::uint32_t k = 0; k < pp_->block_count(b.piece); ++k)
        received_.erase({b.piece, k * kib16});
      ++hash_failures_;
    } else {
      pp_->set_have(b.piece);
    }
  }

  void check() {
    ASSERT_EQ(pp_->check_invariants(), "");
    for (const auto& [key, p] : peers_) {
      auto model = p.in_flight;
      auto real = pp_->outstanding_blocks(key);
      auto less = [](const block& x, const block& y) {
        return std::tie(x.piece, x.offset) < std::tie(y.piece, y.offset);
      };
      std::sort(model.begin(), model.end(), less);
      std::sort(real.begin(), real.end(), less);
      ASSERT_EQ(model, real) << "peer " << key;
      bool lacking = false;
      for (std::uint32_t i = 0; i < p.bits.size(); ++i)
        lacking = lacking || (p.bits[i] && !pp_->have(i));
      ASSERT_EQ(pp_->interesting(key), lacking) << "peer " << key;
    }
  }

  piece_picker& picker() { return *pp_; }
  std::size_t requested() const { return requested_; }

 private:
  std::uint32_t between(std::uint32_t lo, std::uint32_t hi) {
    return std::uniform_int_distribution<std::uint32_t>(lo, hi)(rng_);
  }
  bool chance(std::uint32_t one_in) { return between(1, one_in) == 1; }

  void join(sim_peer p) {
    const peer_key key = next_key_++;
    pp_->add_peer(key);
    if (p.seed) {
      pp_->peer_has_all(key);
    } else {
      for (std::uint32_t i = 0; i < p.bits.size(); ++i)
        if (p.bits[i]) pp_->peer_has(key, i);
    }
    for (std::uint32_t f : p.allowed_fast) pp_->set_allowed_fast(key, f);
    peers_.emplace(key, std::move(p));
  }

  std::mt19937_64 rng_;
  std::optional<piece_picker> pp_;
  std::map<peer_key, sim_peer> peers_;
  std::map<std::pair<std::uint32_t, std::uint32_t>, int> received_;
  peer_key next_key_ = 1;
  std::size_t requested_ = 0, cancels_ = 0, hash_failures_ = 0;
};

class Simulation : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(Simulation, AlwaysCompletes) {
  swarm s(GetParam());
  const std::uint64_t total_left = s.picker().bytes_left();
  int steps = 0;
  while (!s.picker().complete() && steps < 200000) {
    s.step();
    if (::testing::Test::HasFatalFailure()) return;
    s.check();
    if (::testing::Test::HasFatalFailure()) return;
    ++steps;
  }
  EXPECT_TRUE(s.picker().complete()) << "stuck after " << steps << " steps";
  EXPECT_EQ(s.picker().bytes_left(), 0u);
  EXPECT_FALSE(s.picker().in_endgame());
  EXPECT_TRUE(total_left == 0 || s.requested() > 0);
}

INSTANTIATE_TEST_SUITE_P(Seeds, Simulation, ::testing::Range<std::uint64_t>(0, 200));

}  // namespace
