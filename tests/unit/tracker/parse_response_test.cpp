// Announce response parsing: every peer format, every advisory key, every malformed case.
#include <gtest/gtest.h>

#include <string>

#include "peerwire/tracker.hpp"

namespace pt = peerwire::tracker;
using namespace std::chrono_literals;
using namespace std::string_literals;

namespace {

std::string bstr(const std::string& s) {
  return std::to_string(s.size()) + ":" + s;
}

std::string compact4(unsigned char a, unsigned char b, unsigned char c, unsigned char d,
                     std::uint16_t port) {
  return {static_cast<char>(a), static_cast<char>(b),         static_cast<char>(c),
          static_cast<char>(d), static_cast<char>(port >> 8), static_cast<char>(port & 0xff)};
}

pt::announce_response ok(const std::string& body, const pt::response_limits& lim = {}) {
  auto r = pt::parse_announce_response(body, lim);
  EXPECT_TRUE(r) << r.error().describe();
  return r ? *r : pt::announce_response{};
}

std::string error_of(const std::string& body) {
  auto r = pt::parse_announce_response(body);
  EXPECT_FALSE(r) << "accepted: " << body;
  return r ? "" : r.error().describe();
}

bool has_note(const pt::announce_response& r, std::string_view part) {
  for (const auto& n : r.notes) {
    if (n.find(part) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST(ParseResponse, CompactV4) {
  std::string peers = compact4(1, 2, 3, 4, 6881) + compact4(10, 0, 0, 255, 80);
  auto r = ok("d8:intervali1800e5:peers" + bstr(peers) + "e");
  ASSERT_EQ(r.peers.size(), 2u);
  EXPECT_EQ(r.peers[0], (pt::peer_endpoint{"1.2.3.4", 6881, {}}));
  EXPECT_EQ(r.peers[1], (pt::peer_endpoint{"10.0.0.255", 80, {}}));
  EXPECT_EQ(r.interval, 1800s);
  EXPECT_FALSE(r.failure_reason);
  EXPECT_TRUE(r.notes.empty());
}

TEST(ParseResponse, Peers6AfterV4) {
  std::string v6(16, '\0');
  v6[15] = 1;  // ::1
  std::string doc(16, '\0');
  doc[0] = 0x20, doc[1] = 0x01, doc[2] = 0x0d, doc[3] = static_cast<char>(0xb8), doc[15] = 1;
  std::string p6 = v6 + "\x1a\xe1" + doc + std::string("\x00\x50", 2);
  auto r =
      ok("d8:intervali60e5:peers" + bstr(compact4(5, 6, 7, 8, 1)) + "6:peers6" + bstr(p6) + "e");
  ASSERT_EQ(r.peers.size(), 3u);
  EXPECT_EQ(r.peers[0].address, "5.6.7.8");
  EXPECT_EQ(r.peers[1], (pt::peer_endpoint{"::1", 6881, {}}));
  EXPECT_EQ(r.peers[2], (pt::peer_endpoint{"2001:db8::1", 80, {}}));
}

TEST(ParseResponse, DictionaryPeersWithAndWithoutId) {
  std::string id = "-qB4250-abcdefghijkl";
  auto r =
      ok("d8:intervali900e5:peersl"
         "d2:ip7:1.2.3.47:peer id" +
         bstr(id) +
         "4:porti6881ee"
         "d2:ip3:::14:porti80ee"
         "d2:ip11:2001:DB8::14:porti1e7:peer id5:shorte"
         "ee");
  ASSERT_EQ(r.peers.size(), 3u);
  EXPECT_EQ(r.peers[0].address, "1.2.3.4");
  EXPECT_EQ(r.peers[0].port, 6881);
  ASSERT_TRUE(r.peers[0].id);
  EXPECT_EQ(std::string(r.peers[0].id->begin(), r.peers[0].id->end()), id);
  EXPECT_EQ(r.peers[1], (pt::peer_endpoint{"::1", 80, {}}));
  EXPECT_EQ(r.peers[2].address, "2001:db8::1");  // canonical form
  EXPECT_FALSE(r.peers[2].id);                   // wrong-length id is not an id
}

TEST(ParseResponse, DictionaryPeersSkipBadEntriesWithNotes) {
  auto r =
      ok("d8:intervali900e5:peersl"
         "i5e"                            // not a dict
         "d4:porti1ee"                    // no ip
         "d2:ip7:1.2.3.44:porti70000ee"   // port out of range
         "d2:ip7:1.2.3.44:port1:xe"       // port not an int
         "d2:ip11:example.org4:porti1ee"  // host name
         "d2:ip7:1.2.3.44:porti0ee"       // port 0
         "d2:ip7:9.9.9.94:porti9ee"       // the one good peer
         "ee");
  ASSERT_EQ(r.peers.size(), 1u);
  EXPECT_EQ(r.peers[0].address, "9.9.9.9");
  EXPECT_TRUE(has_note(r, "skipped 4 malformed peer entries"));
  EXPECT_TRUE(has_note(r, "skipped 1 peers given by host name"));
  EXPECT_TRUE(has_note(r, "skipped 1 peers with port 0"));
}

TEST(ParseResponse, FailureReasonIgnoresEverythingElse) {
  auto r = ok("d14:failure reason12:unregistered8:intervali-5e5:peers1:xe");
  ASSERT_TRUE(r.failure_reason);
  EXPECT_EQ(*r.failure_reason, "unregistered");
  EXPECT_TRUE(r.peers.empty());
  EXPECT_TRUE(r.notes.empty());
  EXPECT_NE(error_of("d14:failure reasoni1ee").find("failure reason"), std::string::npos);
}

TEST(ParseResponse, WarningAndTextMadePrintable) {
  auto r = ok("d15:warning message10:be \x1b[31mok8:intervali1800e5:peers0:e");
  ASSERT_TRUE(r.warning_message);
  EXPECT_EQ(*r.warning_message, "be ?[31mok");
  auto long_text = std::string(5000, 'w');
  auto l = ok("d14:failure reason" + bstr(long_text) + "e");
  EXPECT_EQ(l.failure_reason->size(), 1024u + 3);
  auto wrong = ok("d15:warning messagei3e8:intervali1800ee");
  EXPECT_FALSE(wrong.warning_message);
  EXPECT_TRUE(has_note(wrong, "warning message"));
}

TEST(ParseResponse, IntervalsClampedWithNotes) {
  EXPECT_EQ(ok("d8:intervali120ee").interval, 120s);
  auto zero = ok("d8:intervali0ee");
  EXPECT_EQ(zero.interval, 60s);
  EXPECT_TRUE(has_note(zero, "interval 0 clamped to 60 s"));
  EXPECT_EQ(ok("d8:intervali-30ee").interval, 60s);
  auto huge = ok("d8:intervali9223372036854775807ee");
  EXPECT_EQ(huge.interval, 86400s);
  EXPECT_TRUE(has_note(huge, "clamped to 86400 s"));
  auto missing = ok("d5:peers0:e");
  EXPECT_EQ(missing.interval, 1800s);
  EXPECT_TRUE(has_note(missing, "no interval"));

  auto m = ok("d8:intervali1800e12:min intervali300ee");
  ASSERT_TRUE(m.min_interval);
  EXPECT_EQ(*m.min_interval, 300s);
  EXPECT_EQ(*ok("d8:intervali1800e12:min intervali0ee").min_interval, 60s);
  EXPECT_FALSE(ok("d8:intervali1800ee").min_interval);
}

TEST(ParseResponse, TrackerIdAndCounts) {
  auto r = ok("d8:completei12e10:incompletei3e8:intervali1800e10:tracker id4:ab\x00z5:peers0:e"s);
  ASSERT_TRUE(r.tracker_id);
  EXPECT_EQ(*r.tracker_id, "ab\0z"s);
  EXPECT_EQ(r.complete, 12);
  EXPECT_EQ(r.incomplete, 3);

  auto odd = ok("d8:complete1:x10:incompletei-1e8:intervali1800ee");
  EXPECT_FALSE(odd.complete);
  EXPECT_FALSE(odd.incomplete);
  EXPECT_TRUE(has_note(odd, "\"complete\""));
  EXPECT_TRUE(has_note(odd, "\"incomplete\""));

  auto big_id = ok("d8:intervali1800e10:tracker id" + bstr(std::string(2000, 'i')) + "e");
  EXPECT_FALSE(big_id.tracker_id);
  EXPECT_TRUE(has_note(big_id, "tracker id"));
}

TEST(ParseResponse, MalformedIsAnErrorWithAReason) {
  struct bad_case {
    std::string body, reason_part;
  };
  const bad_case cases[] = {
      {"", "empty"},
      {"<html>nope</html>", "not bencoded"},
      {"d8:intervali1800e", "not bencoded"},  // truncated
      {"d8:intervali1800e5:peers6:abce", "not bencoded"},
      {"d8:intervali1800eextra", "not bencoded"},
      {"li1ee", "list, not a dictionary"},
      {"i5e", "integer, not a dictionary"},
      {"de", "none of"},
      {"d3:fooi1ee", "none of"},
      {"d8:interval4:1800e", "\"interval\" is a string, expected an integer"},
      {"d8:intervali1800e12:min interval1:1e", "\"min interval\""},
      {"d8:intervali1800e10:tracker idi1ee", "\"tracker id\""},
      {"d8:intervali1800e5:peersi1ee", "\"peers\" is an integer"},
      {"d8:intervali1800e5:peersd2:ipi1eee", "\"peers\" is a dict"},
      {"d8:intervali1800e5:peers7:1234567e", "7 bytes, not a multiple of 6"},
      {"d8:intervali1800e6:peers617:12345678901234567e", "not a multiple of 18"},
      {"d8:intervali1800e6:peers6lee", "\"peers6\" is a list"},
  };
  for (const auto& c : cases) {
    auto reason = error_of(c.body);
    EXPECT_NE(reason.find(c.reason_part), std::string::npos)
        << "body: " << c.body << "\nreason: " << reason;
  }
}

TEST(ParseResponse, BodyOverTheLimit) {
  pt::response_limits lim;
  lim.max_body = 32;
  auto r = pt::parse_announce_response(
      "d8:intervali1800e5:peers" + bstr(std::string(30, 'x')) + "e", lim);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("over the limit"), std::string::npos);
}

TEST(ParseResponse, HugePeerListsAreBounded) {
  std::string many;
  for (int i = 0; i < 25'000; ++i) {
    many += compact4(10, static_cast<unsigned char>(i >> 8), static_cast<unsigned char>(i), 1,
                     static_cast<std::uint16_t>(1000 + i % 50'000));
  }
  auto r = ok("d8:intervali1800e5:peers" + bstr(many) + "e");
  EXPECT_EQ(r.peers.size(), 10'000u);
  EXPECT_TRUE(has_note(r, "dropped 15000 peers over the limit of 10000"));

  pt::response_limits lim;
  lim.max_peers = 3;
  std::string v6(18 * 4, '\x01');
  auto mixed =
      ok("d8:intervali1800e5:peers" + bstr(many.substr(0, 12)) + "6:peers6" + bstr(v6) + "e", lim);
  ASSERT_EQ(mixed.peers.size(), 3u);
  EXPECT_EQ(mixed.peers[2].address, "101:101:101:101:101:101:101:101");
  EXPECT_TRUE(has_note(mixed, "dropped 3 peers"));

  std::string dict_list = "d8:intervali1800e5:peersl";
  for (int i = 0; i < 12'000; ++i) dict_list += "d2:ip7:1.2.3.44:porti7ee";
  auto d = ok(dict_list + "ee");
  EXPECT_EQ(d.peers.size(), 10'000u);
  EXPECT_TRUE(has_note(d, "dropped 2000 peers"));
}
