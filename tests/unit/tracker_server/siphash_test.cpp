// SipHash-2-4 against the reference test vectors of the SipHash paper (appendix A / the
// reference implementation's vectors.h): key 00 01 .. 0f, messages 00 01 .. (n-1).
#include <gtest/gtest.h>

#include <vector>

#include "../../../src/tracker_server/siphash.hpp"

namespace d = peerwire::tracker_server::detail;

TEST(SipHash, ReferenceVectors) {
  std::array<std::uint8_t, 16> key;
  for (int i = 0; i < 16; ++i) key[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(i);
  const auto k = d::sip_key::from(key.data());
  auto message = [](std::size_t n) {
    std::vector<std::uint8_t> m(n);
    for (std::size_t i = 0; i < n; ++i) m[i] = static_cast<std::uint8_t>(i);
    return m;
  };
  EXPECT_EQ(d::siphash24(k, message(0)), 0x726fdb47dd0e0e31ULL);
  EXPECT_EQ(d::siphash24(k, message(1)), 0x74f839c593dc67fdULL);
  EXPECT_EQ(d::siphash24(k, message(8)), 0x93f5f5799a932462ULL);
  EXPECT_EQ(d::siphash24(k, message(15)), 0xa129ca6149be45e5ULL);  // the paper's example
}
