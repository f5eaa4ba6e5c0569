#include <gtest/gtest.h>

#include "peerwire/ext_pex.hpp"

using namespace peerwire;
using namespace std::chrono_literals;
using ext::pex_endpoint;
using ext::pex_peer;

namespace {

result<ext::pex_message> parse(std::string_view s, const ext::pex_limits& lim = {}) {
  return ext::parse_pex(std::span(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()), lim);
}

std::string v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d, std::uint16_t port) {
  return {static_cast<char>(a), static_cast<char>(b),         static_cast<char>(c),
          static_cast<char>(d), static_cast<char>(port >> 8), static_cast<char>(port & 0xFF)};
}

std::string v6_loopback(std::uint16_t port) {
  std::string s(15, '\0');
  s += '\x01';
  s += static_cast<char>(port >> 8);
  s += static_cast<char>(port & 0xFF);
  return s;
}

std::string bstr(const std::string& s) {
  return std::to_string(s.size()) + ":" + s;
}

pex_peer peer(std::string addr, std::uint16_t port, std::uint8_t flags = 0) {
  return pex_peer{pex_endpoint{std::move(addr), port}, flags};
}

// n distinct IPv4 peers 10.0.x.y:6881.
std::vector<pex_peer> many(std::size_t n, std::size_t offset = 0) {
  std::vector<pex_peer> out;
  for (std::size_t i = offset; i < offset + n; ++i)
    out.push_back(peer("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256), 6881));
  return out;
}

}  // namespace

TEST(UtPex, ParsesAllLists) {
  std::string added = v4(1, 2, 3, 4, 6881) + v4(5, 6, 7, 8, 51413);
  std::string flags = std::string{ext::pex_flag::seed | ext::pex_flag::supports_utp, 0x10};
  std::string payload = "d5:added" + bstr(added) + "7:added.f" + bstr(flags) + "6:added6" +
                        bstr(v6_loopback(80)) + "8:added6.f" + bstr(std::string(1, '\x01')) +
                        "7:dropped" + bstr(v4(9, 9, 9, 9, 1)) + "8:dropped6" +
                        bstr(v6_loopback(81)) + "e";
  auto m = parse(payload);
  ASSERT_TRUE(m) << m.error().describe();
  ASSERT_EQ(m->added.size(), 3u);
  EXPECT_EQ(m->added[0], peer("1.2.3.4", 6881, 0x06));
  EXPECT_EQ(m->added[1], peer("5.6.7.8", 51413, 0x10));
  EXPECT_EQ(m->added[2], peer("::1", 80, 0x01));
  EXPECT_EQ(m->dropped, (std::vector<pex_endpoint>{{"9.9.9.9", 1}, {"::1", 81}}));
  EXPECT_TRUE(m->notes.empty());
}

TEST(UtPex, EmptyAndUnknownKeys) {
  auto m = parse("de");
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->added.empty());
  EXPECT_TRUE(m->dropped.empty());
  auto u = parse("d3:fooi1e5:added0:e");
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->added.empty());
}

TEST(UtPex, WholeMessageErrors) {
  EXPECT_FALSE(parse(""));
  EXPECT_FALSE(parse("le"));
  EXPECT_FALSE(parse("d5:addedi1ee"));        // not a string
  EXPECT_FALSE(parse("d5:added5:12345e"));    // not a multiple of 6
  EXPECT_FALSE(parse("d6:added66:123456e"));  // not a multiple of 18
  EXPECT_FALSE(parse("d7:dropped7:1234567e"));
  EXPECT_FALSE(parse("d8:dropped66:123456e"));
  EXPECT_FALSE(parse("d5:added" + bstr(v4(1, 2, 3, 4, 5)) + "e", {.max_payload = 10}));
  auto bad = parse("d5:added5:12345e");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("multiple of 6"), std::string::npos);
}

TEST(UtPex, SkipsPortZeroCapsAndToleratesBadFlags) {
  std::string added = v4(1, 1, 1, 1, 0) + v4(2, 2, 2, 2, 2) + v4(3, 3, 3, 3, 3);
  auto m = parse("d5:added" + bstr(added) + "7:added.f1:\x02" + "e");
  ASSERT_TRUE(m) << m.error().describe();
  // Flags cover only the first (skipped) entry; the others default to 0.
  EXPECT_EQ(m->added, (std::vector<pex_peer>{peer("2.2.2.2", 2), peer("3.3.3.3", 3)}));
  EXPECT_EQ(m->notes.size(), 2u);  // flag count mismatch, port 0

  std::string lots;
  for (int i = 1; i <= 250; ++i) lots += v4(10, 0, 0, static_cast<std::uint8_t>(i), 1);
  auto capped = parse("d7:dropped" + bstr(lots) + "e");
  ASSERT_TRUE(capped);
  EXPECT_EQ(capped->dropped.size(), 200u);
  ASSERT_EQ(capped->notes.size(), 1u);
  EXPECT_NE(capped->notes[0].find("50 entries"), std::string::npos);
  auto small = parse("d7:dropped" + bstr(lots) + "e", {.max_entries = 3});
  ASSERT_TRUE(small);
  EXPECT_EQ(small->dropped.size(), 3u);

  auto wrong_type = parse("d5:added" + bstr(v4(1, 2, 3, 4, 5)) + "7:added.fi1ee");
  ASSERT_TRUE(wrong_type);
  EXPECT_EQ(wrong_type->added, std::vector<pex_peer>{peer("1.2.3.4", 5)});
  EXPECT_EQ(wrong_type->notes.size(), 1u);
}

TEST(UtPex, EncodeRoundTrip) {
  ext::pex_message m;
  m.added = {peer("1.2.3.4", 6881, ext::pex_flag::prefers_encryption),
             peer("2001:db8::7", 443, ext::pex_flag::reachable), peer("5.6.7.8", 1, 0)};
  m.dropped = {{"9.8.7.6", 5}, {"::1", 6}};
  std::string bytes = ext::encode_pex(m);
  auto back = parse(bytes);
  ASSERT_TRUE(back) << back.error().describe();
  // IPv4 first, then IPv6, each in the given order.
  EXPECT_EQ(back->added, (std::vector<pex_peer>{m.added[0], m.added[2], m.added[1]}));
  EXPECT_EQ(back->dropped, m.dropped);

  EXPECT_EQ(ext::encode_pex({}), "d5:added0:7:added.f0:7:dropped0:e");
  ext::pex_message junk;
  junk.added = {peer("example.org", 80)};
  EXPECT_EQ(ext::encode_pex(junk), "d5:added0:7:added.f0:7:dropped0:e");
}

TEST(PexTracker, DueOncePerMinute) {
  const auto t0 = std::chrono::steady_clock::time_point{} + 1000s;
  ext::pex_tracker t(t0, 5s);
  EXPECT_FALSE(t.due(t0));
  EXPECT_TRUE(t.due(t0 + 5s));
  auto peers = many(2);
  EXPECT_TRUE(t.make_message(peers, t0 + 5s));
  EXPECT_EQ(t.next_due(), t0 + 65s);
  EXPECT_FALSE(t.due(t0 + 64s));
  // Nothing changed: no message, but the next check is still a minute away.
  EXPECT_FALSE(t.make_message(peers, t0 + 65s));
  EXPECT_EQ(t.next_due(), t0 + 125s);

  ext::pex_tracker immediate(t0);
  EXPECT_TRUE(immediate.due(t0));
}

TEST(PexTracker, DiffAddedAndDropped) {
  const auto t0 = std::chrono::steady_clock::time_point{};
  ext::pex_tracker t(t0);
  std::vector<pex_peer> first{peer("1.1.1.1", 1, 0x02), peer("2.2.2.2", 2), peer("1.1.1.1", 1)};
  auto m1 = t.make_message(first, t0);
  ASSERT_TRUE(m1);
  EXPECT_EQ(m1->added, (std::vector<pex_peer>{peer("1.1.1.1", 1, 0x02), peer("2.2.2.2", 2)}));
  EXPECT_TRUE(m1->dropped.empty());
  EXPECT_EQ(t.told_count(), 2u);

  std::vector<pex_peer> second{peer("2.2.2.2", 2), peer("::1", 3)};
  auto m2 = t.make_message(second, t0 + 60s);
  ASSERT_TRUE(m2);
  EXPECT_EQ(m2->added, std::vector<pex_peer>{peer("::1", 3)});
  EXPECT_EQ(m2->dropped, (std::vector<pex_endpoint>{{"1.1.1.1", 1}}));

  // A peer that leaves and comes back is added again.
  auto m3 = t.make_message(first, t0 + 120s);
  ASSERT_TRUE(m3);
  EXPECT_EQ(m3->added, std::vector<pex_peer>{peer("1.1.1.1", 1, 0x02)});
  EXPECT_EQ(m3->dropped, (std::vector<pex_endpoint>{{"::1", 3}}));
}

TEST(PexTracker, FiftyPerListRestLater) {
  const auto t0 = std::chrono::steady_clock::time_point{};
  ext::pex_tracker t(t0);
  auto all = many(120);
  auto m1 = t.make_message(all, t0);
  ASSERT_TRUE(m1);
  EXPECT_EQ(m1->added.size(), 50u);
  auto m2 = t.make_message(all, t0 + 60s);
  ASSERT_TRUE(m2);
  EXPECT_EQ(m2->added.size(), 50u);
  auto m3 = t.make_message(all, t0 + 120s);
  ASSERT_TRUE(m3);
  EXPECT_EQ(m3->added.size(), 20u);
  EXPECT_EQ(t.told_count(), 120u);
  EXPECT_FALSE(t.make_message(all, t0 + 180s));

  // Everyone leaves, 5 others arrive: 50 dropped + 5 added, then 50, then 20.
  auto others = many(5, 1000);
  auto d1 = t.make_message(others, t0 + 240s);
  ASSERT_TRUE(d1);
  EXPECT_EQ(d1->dropped.size(), 50u);
  EXPECT_EQ(d1->added.size(), 5u);
  auto d2 = t.make_message(others, t0 + 300s);
  ASSERT_TRUE(d2);
  EXPECT_EQ(d2->dropped.size(), 50u);
  EXPECT_TRUE(d2->added.empty());
  auto d3 = t.make_message(others, t0 + 360s);
  ASSERT_TRUE(d3);
  EXPECT_EQ(d3->dropped.size(), 20u);
  EXPECT_EQ(t.told_count(), 5u);

  // Each message is within BEP 11's limits and encodes to something we parse back.
  auto back = parse(ext::encode_pex(*m1));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->added, m1->added);
}
