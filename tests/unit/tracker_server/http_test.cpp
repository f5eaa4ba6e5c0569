// HTTP announce/scrape: query parsing (percent-decoding, binary info_hash, bad input) and the
// bencoded replies, decoded back with the project's bencode decoder.
#include <gtest/gtest.h>

#include <set>

#include "peerwire/bencode.hpp"
#include "peerwire/tracker_server_proto.hpp"

namespace ts = peerwire::tracker_server;
namespace bc = peerwire::bencode;
using namespace std::chrono_literals;

namespace {

const std::array<std::uint8_t, 32> secret{7};
const ts::time_point t0 = ts::time_point{} + 1000h;

// Independent of the code under test: every byte as %XX.
std::string escape_all(std::string_view bytes) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : bytes) {
    out += '%';
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

std::string twenty(char fill) {
  return std::string(20, fill);
}

std::string announce_query(const std::string& ih, const std::string& pid, int port,
                           const std::string& extra = "", int left = 10) {
  return "info_hash=" + escape_all(ih) + "&peer_id=" + escape_all(pid) +
         "&port=" + std::to_string(port) + "&uploaded=0&downloaded=0&left=" + std::to_string(left) +
         extra;
}

ts::endpoint local(std::uint8_t last = 1) {
  return ts::endpoint::v4_from({127, 0, 0, last}, 40000);
}

std::string failure_of(const std::string& body) {
  auto doc = bc::decode(body);
  if (!doc) return "<not bencode>";
  auto root = doc->root();
  auto f = root.find("failure reason");
  return f ? std::string(f->as_string()) : "";
}

}  // namespace

TEST(PercentDecode, DecodesEscapesAndRejectsBadOnes) {
  EXPECT_EQ(*ts::percent_decode("a%20b%00%ff+"), std::string("a b\0\xff+", 6));
  EXPECT_FALSE(ts::percent_decode("%"));
  EXPECT_FALSE(ts::percent_decode("abc%4"));
  EXPECT_FALSE(ts::percent_decode("%zz"));
}

TEST(AnnounceQuery, ParsesEveryField) {
  std::string ih = "\x01\x02\x03+&=%\x7f\x80\xff" + std::string(10, 'x');
  // Unreserved bytes may come unescaped, mixed with escapes.
  std::string q = "info_hash=" + escape_all(ih) + "&peer_id=-PW0001-abcdefghijkl&port=6881" +
                  "&uploaded=5&downloaded=6&left=7&event=started&numwant=12&compact=0" +
                  "&no_peer_id=1&key=abc&ip=1.2.3.4&unknown";
  auto a = ts::parse_announce_query(q);
  ASSERT_TRUE(a) << a.error().describe();
  EXPECT_EQ(std::string(a->info_hash.bytes.begin(), a->info_hash.bytes.end()), ih);
  EXPECT_EQ(std::string(a->id.begin(), a->id.end()), "-PW0001-abcdefghijkl");
  EXPECT_EQ(a->port, 6881);
  EXPECT_EQ(a->uploaded, 5);
  EXPECT_EQ(a->downloaded, 6);
  EXPECT_EQ(a->left, 7);
  EXPECT_EQ(a->ev, ts::event::started);
  EXPECT_EQ(a->numwant, 12);
  EXPECT_FALSE(a->compact);
  EXPECT_TRUE(a->no_peer_id);
}

TEST(AnnounceQuery, RejectsBadRequestsWithAReason) {
  const auto ih = twenty('a'), pid = twenty('b');
  struct bad_case {
    std::string query, expect;
  };
  std::vector<bad_case> cases = {
      {"", "missing info_hash"},
      {"peer_id=" + pid + "&port=1", "missing info_hash"},
      {"info_hash=" + ih + "&port=1", "missing peer_id"},
      {"info_hash=" + ih + "&peer_id=" + pid, "missing port"},
      {"info_hash=abc&peer_id=" + pid + "&port=1", "info_hash must be 20 bytes"},
      {"info_hash=" + ih + "&peer_id=" + pid + "x&port=1", "peer_id must be 20 bytes"},
      {announce_query(ih, pid, 0), "port"},
      {announce_query(ih, pid, 65536), "port"},
      {"info_hash=" + ih + "&peer_id=" + pid + "&port=-1", "port"},
      {"info_hash=" + ih + "&peer_id=" + pid + "&port=1x", "port"},
      {announce_query(ih, pid, 1, "&event=bogus"), "unknown event"},
      {announce_query(ih, pid, 1, "&left=-5"), "left"},
      {announce_query(ih, pid, 1, "&numwant=x"), "numwant"},
      {announce_query(ih, pid, 1, "&info_hash=" + ih), "repeated parameter info_hash"},
      {"info_hash=%zz" + std::string(18, 'a') + "&peer_id=" + pid + "&port=1", "escape"},
      {"info_hash=" + ih + "%" + "&peer_id=" + pid + "&port=1", "escape"},
  };
  for (const auto& c : cases) {
    auto a = ts::parse_announce_query(c.query);
    ASSERT_FALSE(a) << c.query;
    EXPECT_NE(a.error().message.find(c.expect), std::string::npos)
        << c.query << " -> " << a.error().message;
  }
  std::string many;
  for (int i = 0; i < 100; ++i) many += "x" + std::to_string(i) + "=1&";
  EXPECT_FALSE(ts::parse_announce_query(many + announce_query(ih, pid, 1)));
}

TEST(ScrapeQuery, CollectsHashesAndBoundsThem) {
  auto s = ts::parse_scrape_query(
      "info_hash=" + escape_all(twenty('a')) + "&info_hash=" + twenty('b') + "&other=1", 10);
  ASSERT_TRUE(s) << s.error().describe();
  ASSERT_EQ(s->size(), 2u);
  EXPECT_EQ((*s)[1].bytes[0], 'b');
  EXPECT_TRUE(ts::parse_scrape_query("", 10)->empty());
  EXPECT_FALSE(ts::parse_scrape_query("info_hash=short", 10));
  std::string three =
      "info_hash=" + twenty('a') + "&info_hash=" + twenty('b') + "&info_hash=" + twenty('c');
  EXPECT_FALSE(ts::parse_scrape_query(three, 2));
}

TEST(HttpServer, CompactAndDictionaryRepliesWithPeers6) {
  ts::server srv({}, secret, 1);
  const auto ih = twenty('h');
  std::array<std::uint8_t, 16> v6{0x20, 0x01, 0x0d, 0xb8};
  v6[15] = 9;
  (void)srv.http("/announce?" + announce_query(ih, twenty('1'), 1111), local(1), t0);
  (void)srv.http("/announce?" + announce_query(ih, twenty('2'), 2222), ts::endpoint::v6_from(v6, 5),
                 t0);
  auto r = srv.http("/announce?" + announce_query(ih, twenty('3'), 3333), local(3), t0);
  EXPECT_EQ(r.status, 200u);
  auto doc = bc::decode(r.body);
  ASSERT_TRUE(doc) << r.body;
  auto root = doc->root();
  EXPECT_EQ(root.find("interval")->as_int(), 1800);
  EXPECT_EQ(root.find("min interval")->as_int(), 900);
  EXPECT_EQ(root.find("incomplete")->as_int(), 3);
  EXPECT_EQ(root.find("complete")->as_int(), 0);
  EXPECT_EQ(root.find("peers")->as_string(), std::string("\x7f\x00\x00\x01\x04\x57", 6));
  auto p6 = root.find("peers6")->as_string();
  ASSERT_EQ(p6.size(), 18u);
  EXPECT_EQ(static_cast<unsigned char>(p6[15]), 9);
  EXPECT_EQ(static_cast<unsigned char>(p6[17]), 2222 & 0xff);

  auto d =
      srv.http("/announce?" + announce_query(ih, twenty('3'), 3333, "&compact=0"), local(3), t0);
  auto ddoc = bc::decode(d.body);
  ASSERT_TRUE(ddoc) << d.body;
  auto peers = ddoc->root().find("peers");
  ASSERT_TRUE(peers);
  std::set<std::string> ips;
  for (auto p : peers->items()) {
    ips.insert(std::string(p.find("ip")->as_string()));
    EXPECT_EQ(p.find("peer id")->as_string().size(), 20u);
    EXPECT_GT(p.find("port")->as_int(), 0);
  }
  EXPECT_EQ(ips, (std::set<std::string>{"127.0.0.1", "2001:db8::9"}));
}

TEST(HttpServer, FailuresAreBencodedAndUnknownPathsAre404) {
  ts::server srv({}, secret, 1);
  auto bad = srv.http("/announce?info_hash=abc", local(), t0);
  EXPECT_EQ(bad.status, 200u);
  EXPECT_NE(failure_of(bad.body).find("info_hash must be 20 bytes"), std::string::npos);
  auto nf = srv.http("/favicon.ico", local(), t0);
  EXPECT_EQ(nf.status, 404u);
  EXPECT_FALSE(failure_of(nf.body).empty());
  auto full = srv.http("/scrape", local(), t0);
  EXPECT_NE(failure_of(full.body).find("full scrape"), std::string::npos);
  srv.swarms().set_allow_list(std::vector<peerwire::sha1_hash>{});
  auto refused = srv.http("/announce?" + announce_query(twenty('a'), twenty('b'), 1), local(), t0);
  EXPECT_NE(failure_of(refused.body).find("not served"), std::string::npos);
}

TEST(HttpServer, ScrapeListsKnownAndUnknownTorrents) {
  ts::settings s;
  s.full_scrape = true;
  ts::server srv(s, secret, 1);
  (void)srv.http("/announce?" + announce_query(twenty('a'), twenty('1'), 1, "", 0), local(1), t0);
  (void)srv.http("/announce?" + announce_query(twenty('a'), twenty('2'), 2), local(2), t0);
  std::string log;
  auto r =
      srv.http("/scrape?info_hash=" + twenty('a') + "&info_hash=" + twenty('z'), local(), t0, &log);
  auto doc = bc::decode(r.body);
  ASSERT_TRUE(doc) << r.body;
  auto files = doc->root().find("files");
  ASSERT_TRUE(files);
  auto a = files->find(twenty('a'));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->find("complete")->as_int(), 1);
  EXPECT_EQ(a->find("incomplete")->as_int(), 1);
  EXPECT_EQ(a->find("downloaded")->as_int(), 0);
  auto z = files->find(twenty('z'));
  ASSERT_TRUE(z);
  EXPECT_EQ(z->find("complete")->as_int(), 0);
  EXPECT_NE(log.find("scrape"), std::string::npos);
  auto full_reply = srv.http("/scrape", local(), t0);
  auto full = bc::decode(full_reply.body);
  ASSERT_TRUE(full);
  EXPECT_TRUE(full->root().find("files")->find(twenty('a')));
}

TEST(HttpServer, VerboseLogLine) {
  ts::server srv({}, secret, 1);
  std::string log;
  (void)srv.http("/announce?" + announce_query(twenty('a'), twenty('1'), 6881, "&event=started"),
                 local(), t0, &log);
  EXPECT_NE(log.find("127.0.0.1:6881 announce 6161"), std::string::npos) << log;
  EXPECT_NE(log.find("started"), std::string::npos) << log;
}
