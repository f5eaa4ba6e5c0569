#include <gtest/gtest.h>

#include "peerwire/bencode.hpp"

using namespace peerwire;

TEST(Decode, Integer) {
  auto d = bencode::decode("i42e");
  ASSERT_TRUE(d) << d.error().describe();
  EXPECT_EQ(d->root().as_int(), 42);
}
