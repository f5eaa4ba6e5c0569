// ip_text against the C library it replaces: every answer must be inet_ntop's / inet_pton's.
#include "peerwire/ip_text.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <random>

namespace {

using peerwire::ipv4_text;
using peerwire::ipv6_text;
using peerwire::parse_ipv4;
using peerwire::parse_ipv6;

std::string libc_text(int af, const std::uint8_t* raw) {
  char buf[INET6_ADDRSTRLEN] = {};
  EXPECT_NE(inet_ntop(af, raw, buf, sizeof buf), nullptr);
  return buf;
}

// Addresses built from the words that steer the formatting (0, 1, ffff) and random ones.
std::array<std::uint8_t, 16> structured(std::mt19937& rng) {
  static const unsigned pick[] = {0, 0, 0, 1, 0xffff, 0x10, 0xabc};
  std::array<std::uint8_t, 16> a{};
  for (int w = 0; w < 8; ++w) {
    unsigned v = rng() % 3 == 0 ? rng() & 0xffff : pick[rng() % std::size(pick)];
    a[2 * w] = static_cast<std::uint8_t>(v >> 8);
    a[2 * w + 1] = static_cast<std::uint8_t>(v);
  }
  return a;
}

TEST(ip_text, formats_like_inet_ntop) {
  std::mt19937 rng(7);
  for (int n = 0; n < 200000; ++n) {
    auto a = structured(rng);
    ASSERT_EQ(ipv6_text(a), libc_text(AF_INET6, a.data())) << n;
    ASSERT_EQ(ipv4_text(std::span<const std::uint8_t, 4>(a.data(), 4)),
              libc_text(AF_INET, a.data()));
  }
  std::array<std::uint8_t, 16> zero{};
  EXPECT_EQ(ipv6_text(zero), "::");
  zero[15] = 1;
  EXPECT_EQ(ipv6_text(zero), "::1");
}

void expect_parses_like_libc(const std::string& s) {
  std::uint8_t raw4[4], raw6[16];
  bool ok4 = inet_pton(AF_INET, s.c_str(), raw4) == 1;
  bool ok6 = inet_pton(AF_INET6, s.c_str(), raw6) == 1;
  auto v4 = parse_ipv4(s);
  auto v6 = parse_ipv6(s);
  ASSERT_EQ(v4.has_value(), ok4) << s;
  ASSERT_EQ(v6.has_value(), ok6) << s;
  if (ok4) {
    ASSERT_EQ(std::memcmp(v4->data(), raw4, 4), 0) << s;
  }
  if (ok6) {
    ASSERT_EQ(std::memcmp(v6->data(), raw6, 16), 0) << s;
  }
}

TEST(ip_text, parses_like_inet_pton) {
  for (const char* s : {"",
                        ":",
                        "::",
                        ":::",
                        "::1",
                        "1::",
                        "1:2:3:4:5:6:7:8",
                        "1:2:3:4:5:6:7:8:9",
                        "1:2:3:4:5:6:7::",
                        "::1:2:3:4:5:6:7",
                        "1::2::3",
                        "1:",
                        ":1",
                        "12345::",
                        "::ffff:1.2.3.4",
                        "::1.2.3.4",
                        "1:2:3:4:5:6:1.2.3.4",
                        "1:2:3:4:5:6:7:1.2.3.4",
                        "::1.2.3",
                        "::1.2.3.4.5",
                        "::01.2.3.4",
                        "1.2.3.4",
                        "0.0.0.0",
                        "255.255.255.255",
                        "256.1.1.1",
                        "01.2.3.4",
                        "1.2.3.",
                        ".1.2.3",
                        "1..2.3",
                        "1.2.3.4 ",
                        " 1.2.3.4",
                        "fe80::1%eth0",
                        "[::1]",
                        "FFFF::ABCD",
                        "1.2.3.4:5"}) {
    expect_parses_like_libc(s);
  }
  // Random strings over the characters that matter, and mutations of real addresses.
  std::mt19937 rng(11);
  const std::string alphabet = "0123456789abcdefABCDEF:.:.:0x";
  for (int n = 0; n < 300000; ++n) {
    std::string s;
    if (n % 2 == 0) {
      auto a = structured(rng);
      s = rng() % 2 ? ipv6_text(a) : ipv4_text(std::span<const std::uint8_t, 4>(a.data(), 4));
      for (unsigned k = rng() % 3; k > 0 && !s.empty(); --k) {
        std::size_t at = rng() % s.size();
        if (rng() % 2)
          s[at] = alphabet[rng() % alphabet.size()];
        else
          s.insert(at, 1, alphabet[rng() % alphabet.size()]);
      }
    } else {
      for (unsigned len = rng() % 20; len > 0; --len) s += alphabet[rng() % alphabet.size()];
    }
    expect_parses_like_libc(s);
  }
}

}  // namespace
