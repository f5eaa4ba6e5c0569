// BEP 48 scrape URLs and replies, the tracker URL policy, address classes, BEP 12 tiers.
#include <gtest/gtest.h>

#include <set>

#include "peerwire/tracker_policy.hpp"
#include "peerwire/tracker_scrape.hpp"
#include "peerwire/tracker_tiers.hpp"

namespace pt = peerwire::tracker;
using namespace std::chrono_literals;

TEST(ScrapeUrl, Bep48Examples) {
  auto ok = [](const char* in) {
    auto r = pt::scrape_url(in);
    return r ? *r : "ERROR: " + r.error().message;
  };
  EXPECT_EQ(ok("http://example.com/announce"), "http://example.com/scrape");
  EXPECT_EQ(ok("http://example.com/x/announce"), "http://example.com/x/scrape");
  EXPECT_EQ(ok("http://example.com/announce.php"), "http://example.com/scrape.php");
  EXPECT_EQ(ok("http://example.com/announce?x2%0644"), "http://example.com/scrape?x2%0644");
  EXPECT_EQ(ok("https://t.example:8443/pk/announce?a=/b/announce"),
            "https://t.example:8443/pk/scrape?a=/b/announce");
  EXPECT_EQ(ok("udp://t.example:1337/announce"), "udp://t.example:1337/announce");
  for (const char* none : {"http://example.com/a", "http://example.com/x%064announce",
                           "http://example.com/announce/", "http://example.com"}) {
    auto r = pt::scrape_url(none);
    ASSERT_FALSE(r) << none;
    EXPECT_NE(r.error().message.find("does not support scrape"), std::string::npos);
  }
  EXPECT_FALSE(pt::scrape_url("file:///etc/passwd/announce"));
}

TEST(ScrapeUrl, RequestUrl) {
  peerwire::sha1_hash a, b;
  a.bytes.fill(0x41);
  b.bytes.fill(0xff);
  std::vector<peerwire::sha1_hash> hs{a, b};
  std::string all_ff;
  for (int i = 0; i < 20; ++i) all_ff += "%FF";
  EXPECT_EQ(pt::scrape_request_url("http://t/scrape", hs),
            "http://t/scrape?info_hash=AAAAAAAAAAAAAAAAAAAA&info_hash=" + all_ff);
  EXPECT_EQ(pt::scrape_request_url("http://t/scrape?pk=1", {&a, 1}),
            "http://t/scrape?pk=1&info_hash=AAAAAAAAAAAAAAAAAAAA");
  EXPECT_EQ(pt::scrape_request_url("http://t/scrape?", {&a, 1}),
            "http://t/scrape?info_hash=AAAAAAAAAAAAAAAAAAAA");
}

TEST(ScrapeResponse, BinaryKeys) {
  std::string key(20, '\0');
  key[0] = 'd';
  key[19] = '\xff';
  std::string body = "d5:filesd20:" + key + "d8:completei3e10:downloadedi9e10:incompletei2eeee";
  auto r = pt::parse_scrape_response(body);
  ASSERT_TRUE(r) << r.error().describe();
  ASSERT_EQ(r->files.size(), 1u);
  EXPECT_EQ(r->files[0].info_hash.bytes[0], 'd');
  EXPECT_EQ(r->files[0].info_hash.bytes[19], 0xff);
  EXPECT_EQ(r->files[0].seeders, 3);
  EXPECT_EQ(r->files[0].leechers, 2);
  EXPECT_EQ(r->files[0].completed, 9);
  EXPECT_TRUE(r->notes.empty());
}

TEST(ScrapeResponse, BadEntriesSkippedWithNotes) {
  std::string key(20, 'k');
  std::string body = "d5:filesd3:abcde20:" + key + "d8:completei-1e4:name3:\x01xye" +
                     "20:" + std::string(20, 'z') + "i5eee";
  auto r = pt::parse_scrape_response(body);
  ASSERT_TRUE(r) << r.error().describe();
  ASSERT_EQ(r->files.size(), 1u);
  EXPECT_EQ(r->files[0].seeders, 0);
  EXPECT_EQ(r->files[0].name, "?xy");
  EXPECT_EQ(r->notes.size(), 3u);
}

TEST(ScrapeResponse, FailureAndErrors) {
  auto f = pt::parse_scrape_response("d14:failure reason6:nope!!e");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->failure_reason, "nope!!");
  EXPECT_FALSE(pt::parse_scrape_response(""));
  EXPECT_FALSE(pt::parse_scrape_response("de"));
  EXPECT_FALSE(pt::parse_scrape_response("d5:filesi1ee"));
  EXPECT_FALSE(pt::parse_scrape_response("li1ee"));
  EXPECT_FALSE(pt::parse_scrape_response("d5:filesde"));  // the outer dict is not closed
}

TEST(ScrapeResponse, EmptyFilesIsValid) {
  auto r = pt::parse_scrape_response("d5:filesdee");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->files.empty());
}

TEST(TrackerPolicy, Schemes) {
  EXPECT_EQ(*pt::tracker_url_kind("http://t/announce"), pt::url_kind::http);
  EXPECT_EQ(*pt::tracker_url_kind("HTTPS://t/announce"), pt::url_kind::https);
  EXPECT_EQ(*pt::tracker_url_kind("udp://t:1"), pt::url_kind::udp);
  for (const char* bad : {"file:///etc/passwd", "gopher://t:70/1", "wss://t/a", "ftp://x/y",
                          "dict://127.0.0.1:11211/stat"}) {
    auto r = pt::tracker_url_kind(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message.find("refused: only http, https and udp"), std::string::npos)
        << r.error().message;
  }
  auto rel = pt::tracker_url_kind("/announce");
  ASSERT_FALSE(rel);
  EXPECT_NE(rel.error().message.find("not an absolute URL"), std::string::npos);
}

TEST(TrackerPolicy, SplitUdpUrl) {
  auto a = pt::split_udp_url("udp://tracker.example:1337/announce");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "tracker.example");
  EXPECT_EQ(a->port, 1337);
  auto b = pt::split_udp_url("udp://[::1]:6969");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "::1");
  EXPECT_FALSE(pt::split_udp_url("udp://t/announce"));  // no port
  EXPECT_FALSE(pt::split_udp_url("udp://t:0"));
  EXPECT_FALSE(pt::split_udp_url("udp://t:70000"));
  EXPECT_FALSE(pt::split_udp_url("udp://u:p@t:1"));
  EXPECT_FALSE(pt::split_udp_url("http://t:1"));
}

TEST(TrackerPolicy, AddressClasses) {
  auto cls = [](const char* a) { return pt::address_class_name(*pt::classify_address(a)); };
  EXPECT_STREQ(cls("127.0.0.1"), "loopback");
  EXPECT_STREQ(cls("127.255.0.9"), "loopback");
  EXPECT_STREQ(cls("10.1.2.3"), "private");
  EXPECT_STREQ(cls("172.16.0.1"), "private");
  EXPECT_STREQ(cls("172.31.255.255"), "private");
  EXPECT_STREQ(cls("172.32.0.1"), "public");
  EXPECT_STREQ(cls("192.168.1.1"), "private");
  EXPECT_STREQ(cls("100.64.0.1"), "private");
  EXPECT_STREQ(cls("169.254.169.254"), "link-local");
  EXPECT_STREQ(cls("0.0.0.0"), "unspecified");
  EXPECT_STREQ(cls("224.0.0.1"), "multicast");
  EXPECT_STREQ(cls("255.255.255.255"), "multicast");
  EXPECT_STREQ(cls("8.8.8.8"), "public");
  EXPECT_STREQ(cls("::1"), "loopback");
  EXPECT_STREQ(cls("::"), "unspecified");
  EXPECT_STREQ(cls("fd00::1"), "private");
  EXPECT_STREQ(cls("fe80::1"), "link-local");
  EXPECT_STREQ(cls("ff02::1"), "multicast");
  EXPECT_STREQ(cls("2001:db8::1"), "public");
  EXPECT_STREQ(cls("::ffff:127.0.0.1"), "loopback");
  EXPECT_STREQ(cls("::ffff:10.0.0.1"), "private");
  EXPECT_STREQ(cls("::ffff:8.8.8.8"), "public");
  EXPECT_FALSE(pt::classify_address("localhost"));
  EXPECT_FALSE(pt::classify_address(std::string_view("127.0.0.1\0x", 11)));
}

TEST(TrackerPolicy, RedirectFromPublicToInternalIsRefused) {
  using ac = pt::address_class;
  for (ac to : {ac::loopback, ac::private_net, ac::link_local, ac::unspecified, ac::multicast}) {
    auto r = pt::redirect_refusal(ac::public_net, to, "evil.example (10.0.0.1)");
    ASSERT_TRUE(r);
    EXPECT_NE(r->find("evil.example (10.0.0.1)"), std::string::npos) << *r;
    EXPECT_NE(r->find(pt::address_class_name(to)), std::string::npos) << *r;
  }
  EXPECT_FALSE(pt::redirect_refusal(ac::public_net, ac::public_net, "x"));
  EXPECT_FALSE(pt::redirect_refusal(ac::loopback, ac::loopback, "x"));
  EXPECT_FALSE(pt::redirect_refusal(ac::private_net, ac::public_net, "x"));
  EXPECT_FALSE(pt::redirect_refusal(ac::private_net, ac::loopback, "x"));
}

TEST(Tiers, ShuffledOncePerTierAndDeduplicated) {
  std::vector<std::vector<std::string>> in{
      {"a", "b", "c", "d", "e", "f", "g", "h"}, {}, {"x", ""}, {"y", "y"}};
  std::set<std::vector<std::string>> orders;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    pt::tier_list t(in, seed);
    ASSERT_EQ(t.tier_count(), 3u);
    auto u = t.urls(0);
    EXPECT_EQ(std::set<std::string>(u.begin(), u.end()).size(), 8u);
    orders.insert(u);
    EXPECT_EQ(t.urls(1), std::vector<std::string>{"x"});
    EXPECT_EQ(t.urls(2), std::vector<std::string>{"y"});
  }
  EXPECT_GT(orders.size(), 1u) << "tier 0 is shuffled";
}

TEST(Tiers, SuccessPromotesFailureBacksOff) {
  pt::tier_list t({{"a", "b", "c"}}, 1, {10s, 100s});
  auto now = std::chrono::steady_clock::time_point{} + 1000s;
  auto u = t.urls(0);
  t.succeeded(0, u[2]);
  EXPECT_EQ(t.urls(0)[0], u[2]);
  EXPECT_TRUE(t.worked(0, u[2]));
  EXPECT_FALSE(t.worked(0, u[0]));
  t.failed(0, u[0], now, "dead");
  EXPECT_FALSE(t.ready(0, u[0], now));
  EXPECT_FALSE(t.ready(0, u[0], now + 9s));
  EXPECT_TRUE(t.ready(0, u[0], now + 10s));
  EXPECT_EQ(t.tier(0)[1].last_error, "dead");
  EXPECT_EQ(t.next_ready(now), now);  // others are ready
  t.failed(0, u[0], now, "dead");
  t.failed(0, u[0], now, "dead");
  EXPECT_TRUE(t.ready(0, u[0], now + 40s));
  EXPECT_EQ(t.backoff_for(1), 10s);
  EXPECT_EQ(t.backoff_for(4), 80s);
  EXPECT_EQ(t.backoff_for(5), 100s);
  EXPECT_EQ(t.backoff_for(1000), 100s);
  t.succeeded(0, u[0]);
  EXPECT_TRUE(t.ready(0, u[0], now));
  EXPECT_FALSE(t.ready(0, "unknown", now));
  EXPECT_FALSE(t.ready(7, u[0], now));
}

TEST(Tiers, NextReadyIsTheEarliestBackOff) {
  pt::tier_list t({{"a"}, {"b"}}, 1, {10s, 100s});
  auto now = std::chrono::steady_clock::time_point{} + 1000s;
  t.failed(0, "a", now, "x");
  t.failed(1, "b", now, "x");
  t.failed(1, "b", now, "x");
  EXPECT_EQ(t.next_ready(now), now + 10s);
}
