// BEP 15 over the pure server: connect, announce (IPv4 6-byte and IPv6 18-byte peers), scrape,
// errors for bad requests with a valid connection id, silent drops for garbage, and the
// lifetime of connection ids.
#include <gtest/gtest.h>

#include "peerwire/tracker_server_proto.hpp"

namespace ts = peerwire::tracker_server;
using namespace std::chrono_literals;
using bytes = std::vector<std::uint8_t>;

namespace {

const std::array<std::uint8_t, 32> secret{9, 9, 9};
const ts::time_point t0 = ts::time_point{} + 1000h;

// Packet builders written from BEP 15 independently of the code under test.
void be(bytes& b, std::uint64_t v, int n) {
  for (int i = n - 1; i >= 0; --i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
std::uint32_t rd32(const bytes& b, std::size_t at) {
  return (std::uint32_t{b[at]} << 24) | (std::uint32_t{b[at + 1]} << 16) |
         (std::uint32_t{b[at + 2]} << 8) | b[at + 3];
}
std::uint64_t rd64(const bytes& b, std::size_t at) {
  return (std::uint64_t{rd32(b, at)} << 32) | rd32(b, at + 4);
}

bytes connect_packet(std::uint32_t tid) {
  bytes b;
  be(b, 0x41727101980ULL, 8);
  be(b, 0, 4);
  be(b, tid, 4);
  return b;
}

bytes announce_packet(std::uint64_t cid, std::uint32_t tid, char ih, char pid, std::uint64_t left,
                      std::uint32_t ev, std::int32_t numwant, std::uint16_t port) {
  bytes b;
  be(b, cid, 8);
  be(b, 1, 4);
  be(b, tid, 4);
  b.insert(b.end(), 20, static_cast<std::uint8_t>(ih));
  b.insert(b.end(), 20, static_cast<std::uint8_t>(pid));
  be(b, 0, 8);     // downloaded
  be(b, left, 8);  // left
  be(b, 0, 8);     // uploaded
  be(b, ev, 4);
  be(b, 0, 4);  // ip
  be(b, 0x1234, 4);
  be(b, static_cast<std::uint32_t>(numwant), 4);
  be(b, port, 2);
  return b;
}

bytes scrape_packet(std::uint64_t cid, std::uint32_t tid, std::vector<char> hashes) {
  bytes b;
  be(b, cid, 8);
  be(b, 2, 4);
  be(b, tid, 4);
  for (char h : hashes) b.insert(b.end(), 20, static_cast<std::uint8_t>(h));
  return b;
}

ts::endpoint v4(std::uint8_t last, std::uint16_t port = 40000) {
  return ts::endpoint::v4_from({127, 0, 0, last}, port);
}
ts::endpoint v6(std::uint8_t last, std::uint16_t port = 40000) {
  std::array<std::uint8_t, 16> a{};
  a[15] = last;
  return ts::endpoint::v6_from(a, port);
}

std::uint64_t connect(ts::server& srv, const ts::endpoint& from, ts::time_point now = t0) {
  bytes out;
  EXPECT_TRUE(srv.udp(connect_packet(77), from, now, out));
  EXPECT_EQ(out.size(), 16u);
  EXPECT_EQ(rd32(out, 0), 0u);
  EXPECT_EQ(rd32(out, 4), 77u);
  return rd64(out, 8);
}

}  // namespace

TEST(Udp, ConnectAnnounceAndPeers) {
  ts::server srv({}, secret, 1);
  bytes out;
  auto c1 = connect(srv, v4(1));
  ASSERT_TRUE(srv.udp(announce_packet(c1, 5, 'h', '1', 0, 2, -1, 6881), v4(1), t0, out));
  ASSERT_EQ(out.size(), 20u);
  EXPECT_EQ(rd32(out, 0), 1u);
  EXPECT_EQ(rd32(out, 4), 5u);
  EXPECT_EQ(rd32(out, 8), 1800u);
  EXPECT_EQ(rd32(out, 12), 0u);  // leechers
  EXPECT_EQ(rd32(out, 16), 1u);  // seeders

  auto c2 = connect(srv, v4(2));
  ASSERT_TRUE(srv.udp(announce_packet(c2, 6, 'h', '2', 100, 2, 50, 6882), v4(2), t0, out));
  ASSERT_EQ(out.size(), 26u);
  EXPECT_EQ(rd32(out, 12), 1u);
  EXPECT_EQ(rd32(out, 16), 1u);
  EXPECT_EQ(bytes(out.begin() + 20, out.end()), (bytes{127, 0, 0, 1, 0x1a, 0xe1}));

  // An IPv6 client gets only IPv6 peers, 18 bytes each.
  auto c3 = connect(srv, v6(1));
  ASSERT_TRUE(srv.udp(announce_packet(c3, 7, 'h', '3', 100, 2, 50, 7000), v6(1), t0, out));
  EXPECT_EQ(out.size(), 20u);
  auto c4 = connect(srv, v6(2));
  ASSERT_TRUE(srv.udp(announce_packet(c4, 8, 'h', '4', 100, 0, 50, 7001), v6(2), t0, out));
  ASSERT_EQ(out.size(), 38u);
  EXPECT_EQ(out[20 + 15], 1);
  EXPECT_EQ(rd32(out, 12), 3u);  // counts cover every family
}

TEST(Udp, ScrapeReturnsCountsInRequestOrder) {
  ts::server srv({}, secret, 1);
  bytes out;
  auto c = connect(srv, v4(1));
  (void)srv.udp(announce_packet(c, 1, 'a', '1', 0, 2, -1, 1), v4(1), t0, out);
  (void)srv.udp(announce_packet(c, 1, 'a', '2', 5, 2, -1, 2), v4(1), t0, out);
  auto one = announce_packet(c, 1, 'a', '1', 0, 1, -1, 2);  // port 2 completes
  ASSERT_TRUE(srv.udp(one, v4(1), t0, out));
  ASSERT_TRUE(srv.udp(scrape_packet(c, 9, {'z', 'a'}), v4(1), t0, out));
  ASSERT_EQ(out.size(), 8u + 24u);
  EXPECT_EQ(rd32(out, 0), 2u);
  EXPECT_EQ(rd32(out, 4), 9u);
  EXPECT_EQ(rd32(out, 8), 0u);
  EXPECT_EQ(rd32(out, 20), 2u);  // seeders of 'a'
  EXPECT_EQ(rd32(out, 24), 1u);  // completed
  EXPECT_EQ(rd32(out, 28), 0u);  // leechers
}

TEST(Udp, GarbageIsDroppedSilently) {
  ts::server srv({}, secret, 1);
  bytes out;
  EXPECT_FALSE(srv.udp(bytes{}, v4(1), t0, out));
  EXPECT_FALSE(srv.udp(bytes(15, 0), v4(1), t0, out));
  auto bad_magic = connect_packet(1);
  bad_magic[0] ^= 1;
  EXPECT_FALSE(srv.udp(bad_magic, v4(1), t0, out));
  EXPECT_FALSE(srv.udp(bytes(2000, 0), v4(1), t0, out)) << "oversized";
  // A valid-looking announce with a connection id we never minted: no reply (no reflection).
  EXPECT_FALSE(srv.udp(announce_packet(12345, 1, 'a', '1', 0, 2, -1, 1), v4(1), t0, out));
  // An id minted for another address is not valid here.
  auto c = connect(srv, v4(1));
  EXPECT_FALSE(srv.udp(announce_packet(c, 1, 'a', '1', 0, 2, -1, 1), v4(2), t0, out));
  EXPECT_FALSE(srv.udp(announce_packet(c, 1, 'a', '1', 0, 2, -1, 1), v4(1, 40001), t0, out));
}

TEST(Udp, BadRequestsWithAValidIdGetAnError) {
  ts::settings s;
  s.max_scrape_hashes = 10;
  ts::server srv(s, secret, 1);
  bytes out;
  auto c = connect(srv, v4(1));
  auto expect_error = [&](const bytes& packet, std::string_view what) {
    out.clear();
    ASSERT_TRUE(srv.udp(packet, v4(1), t0, out)) << what;
    ASSERT_GE(out.size(), 8u);
    EXPECT_EQ(rd32(out, 0), 3u) << what;
    EXPECT_EQ(rd32(out, 4), 42u) << what;
    std::string msg(out.begin() + 8, out.end());
    EXPECT_NE(msg.find(what), std::string::npos) << msg;
  };
  auto shortened = announce_packet(c, 42, 'a', '1', 0, 2, -1, 1);
  shortened.resize(97);
  expect_error(shortened, "too short");
  expect_error(announce_packet(c, 42, 'a', '1', 0, 9, -1, 1), "unknown event");
  expect_error(announce_packet(c, 42, 'a', '1', 0, 2, -1, 0), "port");
  auto odd_scrape = scrape_packet(c, 42, {'a'});
  odd_scrape.push_back(0);
  expect_error(odd_scrape, "whole 20-byte");
  expect_error(scrape_packet(c, 42, {}), "whole 20-byte");
  expect_error(scrape_packet(c, 42, std::vector<char>(11, 'q')), "too many");
  EXPECT_FALSE(srv.udp(scrape_packet(c, 42, std::vector<char>(75, 'q')), v4(1), t0, out))
      << "over 1500 bytes: dropped";
  bytes unknown;
  be(unknown, c, 8);
  be(unknown, 7, 4);
  be(unknown, 42, 4);
  expect_error(unknown, "unknown action");
  srv.swarms().set_allow_list(std::vector<peerwire::sha1_hash>{});
  expect_error(announce_packet(c, 42, 'a', '1', 0, 2, -1, 1), "not served");
  // BEP 41 options after the 98 bytes are accepted.
  srv.swarms().set_allow_list(std::nullopt);
  auto with_options = announce_packet(c, 42, 'a', '1', 0, 2, -1, 1);
  with_options.insert(with_options.end(), {2, 3, '/', 'x', 'y', 0});
  ASSERT_TRUE(srv.udp(with_options, v4(1), t0, out));
  EXPECT_EQ(rd32(out, 0), 1u);
}

TEST(Udp, ConnectionIdsLastTwoMinutesAtLeast) {
  ts::connection_ids ids(std::array<std::uint8_t, 16>{1});
  for (int start = 0; start < 240; start += 7) {
    auto now = t0 + std::chrono::seconds(start);
    auto id = ids.mint(v4(1), now);
    EXPECT_TRUE(ids.check(id, v4(1), now + 119s)) << start;
    EXPECT_FALSE(ids.check(id, v4(1), now + 241s)) << start;
    EXPECT_FALSE(ids.check(id ^ 1, v4(1), now)) << start;
  }
  ts::connection_ids other(std::array<std::uint8_t, 16>{2});
  EXPECT_NE(ids.mint(v4(1), t0), other.mint(v4(1), t0)) << "keyed by the secret";
  EXPECT_NE(ids.mint(v4(1), t0), ids.mint(v6(1), t0));
}

TEST(Udp, RepliesFitOneDatagram) {
  ts::settings s;
  s.max_numwant = 1000;
  ts::server srv(s, secret, 1);
  bytes out;
  for (int i = 1; i <= 250; ++i) {
    auto from = v6(static_cast<std::uint8_t>(i), static_cast<std::uint16_t>(1000 + i));
    auto c = connect(srv, from);
    (void)srv.udp(announce_packet(c, 1, 'a', static_cast<char>(i), 9, 2, 1000, 5000), from, t0,
                  out);
  }
  EXPECT_LE(out.size(), 1400u);
  EXPECT_EQ((out.size() - 20) % 18, 0u);
}
