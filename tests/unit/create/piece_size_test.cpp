#include <gtest/gtest.h>

#include "peerwire/create.hpp"

using namespace peerwire;

namespace {
constexpr std::int64_t KiB = 1024;
constexpr std::int64_t MiB = 1024 * KiB;
constexpr std::int64_t GiB = 1024 * MiB;
}  // namespace

TEST(AutoPieceLength, Table) {
  struct row {
    std::int64_t total, expected;
  } rows[] = {
      {0, 16 * KiB},
      {1, 16 * KiB},
      {1 * MiB, 16 * KiB},
      {2000 * 16 * KiB, 16 * KiB},      // exactly 2000 pieces
      {2000 * 16 * KiB + 1, 32 * KiB},  // one byte more would make 2001
      {100 * MiB, 64 * KiB},
      {700 * MiB, 512 * KiB},
      {1 * GiB, 1 * MiB},
      {2 * GiB, 2 * MiB},
      {4 * GiB, 4 * MiB},
      {8 * GiB, 8 * MiB},
      {30 * GiB, 16 * MiB},
      {1000 * GiB, 16 * MiB},  // capped: more pieces rather than huge ones
  };
  for (auto r : rows) EXPECT_EQ(auto_piece_length(r.total), r.expected) << r.total;
}

TEST(AutoPieceLength, AlwaysValid) {
  for (std::int64_t total = 1; total < (std::int64_t{1} << 50); total = total * 3 + 7) {
    EXPECT_FALSE(piece_length_problem(auto_piece_length(total))) << total;
  }
}

TEST(PieceLengthProblem, Rules) {
  EXPECT_FALSE(piece_length_problem(16 * KiB));
  EXPECT_FALSE(piece_length_problem(2 * MiB));
  EXPECT_FALSE(piece_length_problem(512 * MiB));
  EXPECT_TRUE(piece_length_problem(0));
  EXPECT_TRUE(piece_length_problem(-16 * KiB));
  EXPECT_TRUE(piece_length_problem(8 * KiB));
  EXPECT_TRUE(piece_length_problem(1024 * MiB));
  auto p = piece_length_problem(3 * MiB);
  ASSERT_TRUE(p);
  EXPECT_NE(p->find("power of two"), std::string::npos) << *p;
}

TEST(ParsePieceLength, Accepted) {
  struct row {
    const char* text;
    std::int64_t expected;
  } rows[] = {
      {"auto", 0},          {"AUTO", 0},           {"262144", 256 * KiB}, {"256K", 256 * KiB},
      {"256k", 256 * KiB},  {"256KiB", 256 * KiB}, {"256kb", 256 * KiB},  {"1M", 1 * MiB},
      {"4MiB", 4 * MiB},    {"16MB", 16 * MiB},    {"16384", 16 * KiB},   {"512M", 512 * MiB},
      {"16384B", 16 * KiB},
  };
  for (auto r : rows) {
    auto got = parse_piece_length(r.text);
    ASSERT_TRUE(got) << r.text << ": " << got.error().describe();
    EXPECT_EQ(*got, r.expected) << r.text;
  }
}

TEST(ParsePieceLength, Rejected) {
  for (const char* text : {"", "K", "-1M", "1.5M", "3M", "8K", "1G", "1T", "2 M", "2MiBs", "0",
                           "99999999999999999999", "4294967296K", "0x100000"}) {
    EXPECT_FALSE(parse_piece_length(text)) << text;
  }
}

TEST(ParsePieceLength, HintsAtExponent) {
  auto got = parse_piece_length("21");
  ASSERT_FALSE(got);
  EXPECT_NE(got.error().message.find("2M"), std::string::npos) << got.error().message;
}
