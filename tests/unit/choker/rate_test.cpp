// Rate meter and token bucket under simulated time.
#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "peerwire/rate.hpp"

using namespace peerwire::choker;
using namespace std::chrono_literals;

namespace {

const time_point t0 = time_point{} + 100h;

}  // namespace

struct steady_case {
  std::string name;
  std::uint64_t chunk;
  std::chrono::milliseconds every;
};

TEST(RateMeter, SteadyInputReadsTheTrueRate) {
  const std::vector<steady_case> cases = {
      {"16 KiB every 100 ms", 16384, 100ms},
      {"1 byte every ms", 1, 1ms},
      {"1 MiB every 250 ms", 1 << 20, 250ms},
      {"1 KiB every 3 s (slower than a bucket)", 1024, 3000ms},
  };
  for (const auto& tc : cases) {
    SCOPED_TRACE(tc.name);
    const double truth = static_cast<double>(tc.chunk) / (tc.every.count() / 1000.0);
    rate_meter m;
    auto now = t0;
    std::uint64_t sent = 0;
    for (; now < t0 + 60s; now += tc.every) {
      m.add(tc.chunk, now);
      sent += tc.chunk;
      if (now >= t0 + 20s) {
        // Within one chunk of the truth over the 10 s window.
        EXPECT_NEAR(m.rate(now), truth, static_cast<double>(tc.chunk) / 8.0);
      }
    }
    EXPECT_EQ(m.total(), sent);
  }
}

TEST(RateMeter, NewMeterIsNotBiasedLow) {
  rate_meter m;
  auto now = t0;
  for (int i = 0; i < 20; ++i, now += 100ms) m.add(10000, now);  // 100 kB/s for 2 s
  EXPECT_NEAR(m.rate(now), 100000, 6000);
}

TEST(RateMeter, DecaysToZeroWhenIdle) {
  rate_meter m;
  auto now = t0;
  for (; now < t0 + 30s; now += 100ms) m.add(5000, now);
  const double busy = m.rate(now);
  EXPECT_NEAR(busy, 50000, 1000);
  const double half = m.rate(now + 5s);
  EXPECT_LT(half, busy * 0.6);
  EXPECT_GT(half, busy * 0.3);
  EXPECT_EQ(m.rate(now + 11s), 0.0);
  EXPECT_EQ(m.rate(now + 1h), 0.0);
  EXPECT_EQ(m.total(), 300u * 5000u);
  // And it comes back after a long idle gap.
  const auto later = now + 1h;
  for (auto t = later; t < later + 20s; t += 100ms) m.add(1000, t);
  EXPECT_NEAR(m.rate(later + 20s), 10000, 500);
}

TEST(RateMeter, FollowsARateChangeWithinOneWindow) {
  rate_meter m;
  auto now = t0;
  for (; now < t0 + 20s; now += 100ms) m.add(1000, now);
  for (; now < t0 + 40s; now += 100ms) m.add(3000, now);
  EXPECT_NEAR(m.rate(now), 30000, 400);
}

TEST(RateMeter, EmptyAndBackwardsTimeAreHarmless) {
  rate_meter m;
  EXPECT_EQ(m.rate(t0), 0.0);
  m.add(1000, t0 + 5s);
  m.add(1000, t0);  // earlier: counted as the latest time
  EXPECT_EQ(m.total(), 2000u);
  EXPECT_GT(m.rate(t0), 0.0);
  EXPECT_EQ(m.window(), 10s);
}

TEST(TokenBucket, UnlimitedLetsEverythingThrough) {
  token_bucket b;
  EXPECT_TRUE(b.unlimited());
  b.consume(1u << 30, t0);
  EXPECT_EQ(b.available(t0), std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(b.wait_for(1u << 30, t0), 0ns);
}

TEST(TokenBucket, BurstThenPacedByRate) {
  token_bucket b(1000, 5000);
  EXPECT_EQ(b.available(t0), 5000u);
  b.consume(5000, t0);
  EXPECT_EQ(b.available(t0), 0u);
  EXPECT_EQ(b.wait_for(1000, t0), 1s);
  EXPECT_EQ(b.available(t0 + 500ms), 500u);
  EXPECT_EQ(b.available(t0 + 1h), 5000u);  // idling never saves more than the burst
}

TEST(TokenBucket, OverdrawIsADebtPaidBackFirst) {
  token_bucket b(1000, 2000);
  b.consume(5000, t0);  // 3000 in debt
  EXPECT_EQ(b.available(t0 + 2s), 0u);
  EXPECT_EQ(b.wait_for(1, t0 + 2s), 1001ms);
  EXPECT_EQ(b.available(t0 + 4s), 1000u);
}

TEST(TokenBucket, RequestLargerThanBurstWaitsForAFullBucket) {
  token_bucket b(1000, 2000);
  b.consume(2000, t0);
  EXPECT_EQ(b.wait_for(1000000, t0), 2s);
}

TEST(TokenBucket, DefaultBurstIsOneSecondAndAtLeastOneBlock) {
  EXPECT_EQ(token_bucket(100000).burst(), 100000);
  EXPECT_EQ(token_bucket(100).burst(), 16384);
}

struct pace_case {
  double rate;
  double burst;
  std::uint64_t packet;
  bool use_wait_for;  // sleep exactly wait_for() instead of polling every millisecond
};

TEST(TokenBucket, LongRunRateIsTheConfiguredRate) {
  const std::vector<pace_case> cases = {
      {1000, 2000, 100, false},    {50000, 16384, 1500, false}, {1.5e6, 65536, 16384, false},
      {1000, 2000, 100, true},     {50000, 16384, 16384, true}, {3e6, 1 << 20, 16384, true},
      {12345.6, 20000, 777, true},
  };
  for (const auto& tc : cases) {
    SCOPED_TRACE(std::to_string(tc.rate) + (tc.use_wait_for ? " wait_for" : " polling"));
    token_bucket b(tc.rate, tc.burst);
    const auto end = t0 + 200s;
    auto now = t0;
    std::uint64_t sent = 0;
    while (now < end) {
      if (tc.use_wait_for) {
        now += b.wait_for(tc.packet, now);
        if (now >= end) break;
        ASSERT_GE(b.available(now), tc.packet);
        b.consume(tc.packet, now);
        sent += tc.packet;
      } else {
        while (b.available(now) >= tc.packet) {
          b.consume(tc.packet, now);
          sent += tc.packet;
        }
        now += 1ms;
      }
    }
    const double ideal = tc.rate * 200;
    EXPECT_LE(static_cast<double>(sent), ideal + tc.burst);
    EXPECT_GE(static_cast<double>(sent), ideal - static_cast<double>(tc.packet));
  }
}

TEST(TokenBucket, SetRateSwitchesModes) {
  token_bucket b;
  b.set_rate(1000);
  EXPECT_FALSE(b.unlimited());
  EXPECT_EQ(b.available(t0), 16384u);  // a limit starts with a full bucket
  b.consume(16384, t0);
  b.set_rate(2000);
  EXPECT_EQ(b.available(t0 + 1s), 2000u);
  b.set_rate(0);
  EXPECT_TRUE(b.unlimited());
  EXPECT_EQ(b.wait_for(1 << 20, t0 + 1s), 0ns);
}
