#include <gtest/gtest.h>

#include <set>

#include "peerwire/ext_fast.hpp"

using namespace peerwire;

namespace {

sha1_hash all_aa() {
  sha1_hash h;
  h.bytes.fill(0xaa);
  return h;
}

constexpr std::uint32_t ip_80_4_4_200 = (80u << 24) | (4u << 16) | (4u << 8) | 200u;

}  // namespace

// The example published in BEP 6.
TEST(AllowedFast, Bep6ExampleSeven) {
  EXPECT_EQ(ext::allowed_fast_set(ip_80_4_4_200, all_aa(), 1313, 7),
            (std::vector<std::uint32_t>{1059, 431, 808, 1217, 287, 376, 1188}));
}

TEST(AllowedFast, Bep6ExampleNine) {
  EXPECT_EQ(ext::allowed_fast_set(ip_80_4_4_200, all_aa(), 1313, 9),
            (std::vector<std::uint32_t>{1059, 431, 808, 1217, 287, 376, 1188, 353, 508}));
}

TEST(AllowedFast, SameSlash24SameSet) {
  const std::uint32_t neighbour = (80u << 24) | (4u << 16) | (4u << 8) | 1u;
  EXPECT_EQ(ext::allowed_fast_set(neighbour, all_aa(), 1313, 9),
            ext::allowed_fast_set(ip_80_4_4_200, all_aa(), 1313, 9));
  const std::uint32_t other = (80u << 24) | (4u << 16) | (5u << 8) | 200u;
  EXPECT_NE(ext::allowed_fast_set(other, all_aa(), 1313, 9),
            ext::allowed_fast_set(ip_80_4_4_200, all_aa(), 1313, 9));
}

TEST(AllowedFast, ClampedToPieceCount) {
  EXPECT_TRUE(ext::allowed_fast_set(ip_80_4_4_200, all_aa(), 0, 10).empty());
  EXPECT_TRUE(ext::allowed_fast_set(ip_80_4_4_200, all_aa(), 1313, 0).empty());
  auto few = ext::allowed_fast_set(ip_80_4_4_200, all_aa(), 3, 10);
  EXPECT_EQ(std::set<std::uint32_t>(few.begin(), few.end()), (std::set<std::uint32_t>{0, 1, 2}));
  EXPECT_EQ(ext::allowed_fast_set(ip_80_4_4_200, all_aa(), 1, 5), std::vector<std::uint32_t>{0});
}

TEST(AllowedFast, DistinctAndInRange) {
  auto set = ext::allowed_fast_set(0x0A000001u, all_aa(), 20, 20);
  ASSERT_EQ(set.size(), 20u);
  std::set<std::uint32_t> unique(set.begin(), set.end());
  EXPECT_EQ(unique.size(), 20u);
  EXPECT_EQ(*unique.rbegin(), 19u);
}
