// encode(decode(x)) == x for canonical input, with randomly generated documents.
#include <gtest/gtest.h>

#include <random>

#include "peerwire/bencode.hpp"
#include "peerwire/bencode_value.hpp"

using namespace peerwire;

namespace {

bencode::value random_value(std::mt19937_64& rng, int depth) {
  std::uniform_int_distribution<int> kind(0, depth > 4 ? 1 : 3);
  switch (kind(rng)) {
    case 0: {
      std::uniform_int_distribution<int> pick(0, 3);
      switch (pick(rng)) {
        case 0:
          return bencode::value(std::int64_t{0});
        case 1:
          return bencode::value(static_cast<std::int64_t>(rng()));
        case 2:
          return bencode::value(INT64_MIN);
        default:
          return bencode::value(static_cast<std::int64_t>(rng() % 1000) - 500);
      }
    }
    case 1: {
      std::string s(rng() % 40, '\0');
      for (auto& c : s) c = static_cast<char>(rng());
      return bencode::value(std::move(s));
    }
    case 2: {
      bencode::list l;
      for (std::size_t n = rng() % 6; n > 0; --n) l.push_back(random_value(rng, depth + 1));
      return bencode::value(std::move(l));
    }
    default: {
      bencode::dict d;
      for (std::size_t n = rng() % 6; n > 0; --n) {
        std::string key(rng() % 8, '\0');
        for (auto& c : key) c = static_cast<char>(rng());
        d[key] = random_value(rng, depth + 1);
      }
      return bencode::value(std::move(d));
    }
  }
}

}  // namespace

TEST(RoundTrip, RandomCanonicalDocuments) {
  std::mt19937_64 rng(12345);
  for (int i = 0; i < 2000; ++i) {
    bencode::value v = random_value(rng, 0);
    std::string encoded = bencode::encode(v);
    auto doc = bencode::decode(encoded);
    ASSERT_TRUE(doc) << doc.error().describe();
    EXPECT_EQ(bencode::encode(doc->root()), encoded);
    EXPECT_EQ(doc->root().raw(), encoded);
    EXPECT_EQ(bencode::to_value(doc->root()), v);
  }
}

TEST(RoundTrip, EncoderSortsKeysAsUnsignedBytes) {
  bencode::dict d;
  d["\xff"] = 1;
  d["a"] = 2;
  d["B"] = 3;
  EXPECT_EQ(bencode::encode(bencode::value(d)), "d1:Bi3e1:ai2e1:\xffi1ee");
}

TEST(RoundTrip, NonCanonicalInputIsCanonicalisedOnReencode) {
  auto doc = bencode::decode("d1:bi1e1:ai2ee");
  ASSERT_TRUE(doc);
  EXPECT_EQ(bencode::encode(doc->root()), "d1:ai2e1:bi1ee");
}
