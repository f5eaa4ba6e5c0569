// Request-queue sizing and snub detection tables.
#include <gtest/gtest.h>

#include <limits>

#include "peerwire/picker.hpp"

using namespace peerwire::picker;
using namespace std::chrono_literals;

namespace {

struct queue_case {
  double rate;
  std::optional<std::uint32_t> reqq;
  std::size_t expected;
};

class DesiredQueue : public ::testing::TestWithParam<queue_case> {};

TEST_P(DesiredQueue, Table) {
  const auto& c = GetParam();
  EXPECT_EQ(desired_queue(c.rate, c.reqq), c.expected) << c.rate;
}

constexpr double kib = 1024;
INSTANTIATE_TEST_SUITE_P(
    Rates, DesiredQueue,
    ::testing::Values(queue_case{0, std::nullopt, 2},   // new peer: the floor
                      queue_case{-5, std::nullopt, 2},  // nonsense in: the floor
                      queue_case{std::numeric_limits<double>::quiet_NaN(), std::nullopt, 2},
                      queue_case{std::numeric_limits<double>::infinity(), std::nullopt, 2},
                      queue_case{16 * kib, std::nullopt, 3},      // 3 s of one block/s
                      queue_case{100 * kib, std::nullopt, 19},    // ceil(300/16)
                      queue_case{1024 * kib, std::nullopt, 192},  // 1 MiB/s
                      queue_case{10 * 1024 * kib, std::nullopt, 500},
                      queue_case{1024 * kib, 250u, 192},  // reqq above what we want
                      queue_case{1024 * kib, 100u, 100},  // reqq caps it
                      queue_case{0, 1u, 1},               // reqq below the floor wins
                      queue_case{1024 * kib, 0u, 192}));  // reqq 0: as if unknown

TEST(DesiredQueue, BlockSizeAndQueueTime) {
  EXPECT_EQ(desired_queue(1024 * kib, std::nullopt, 32 * 1024), 96u);
  EXPECT_EQ(desired_queue(1024 * kib, std::nullopt, 16 * 1024, 1.0), 64u);
  EXPECT_EQ(desired_queue(1024 * kib, std::nullopt, 0), 2u);
}

struct snub_case {
  bool choking;
  std::size_t outstanding;
  std::chrono::milliseconds now, since;
  bool expected;
};

class Snub : public ::testing::TestWithParam<snub_case> {};

TEST_P(Snub, Table) {
  const auto& c = GetParam();
  EXPECT_EQ(is_snubbed(c.choking, c.outstanding, c.now, c.since), c.expected);
}

INSTANTIATE_TEST_SUITE_P(Cases, Snub,
                         ::testing::Values(snub_case{false, 4, 100s, 0s, true},
                                           snub_case{false, 4, 60s, 0s, true},  // exactly 60 s
                                           snub_case{false, 4, 59s, 0s, false},
                                           snub_case{false, 0, 100s, 0s, false},  // nothing asked
                                           snub_case{true, 4, 100s, 0s, false},   // choking us
                                           snub_case{false, 1, 130s, 100s, false},
                                           snub_case{false, 1, 1h, 0s, true}));

TEST(Snub, CustomThreshold) {
  EXPECT_TRUE(is_snubbed(false, 1, 20s, 0s, 15s));
  EXPECT_FALSE(is_snubbed(false, 1, 10s, 0s, 15s));
}

}  // namespace
