// BEP 15 packet encoding and reply decoding.
#include <gtest/gtest.h>

#include "peerwire/tracker_udp.hpp"

namespace pt = peerwire::tracker;
namespace udp = peerwire::tracker::udp;
using bytes = std::vector<std::uint8_t>;

namespace {

void put32(bytes& b, std::uint32_t v) {
  for (int i = 3; i >= 0; --i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void put64(bytes& b, std::uint64_t v) {
  put32(b, static_cast<std::uint32_t>(v >> 32));
  put32(b, static_cast<std::uint32_t>(v));
}
std::uint32_t get32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         p[3];
}

bytes header(std::uint32_t act, std::uint32_t tid) {
  bytes b;
  put32(b, act);
  put32(b, tid);
  return b;
}

peerwire::sha1_hash hash_of(std::uint8_t fill) {
  peerwire::sha1_hash h;
  h.bytes.fill(fill);
  return h;
}

}  // namespace

TEST(UdpCodec, ConnectRequestLayout) {
  auto p = udp::encode_connect(0xdeadbeef);
  EXPECT_EQ(p.size(), 16u);
  EXPECT_EQ(get32(p.data()), 0x417u);
  EXPECT_EQ(get32(p.data() + 4), 0x27101980u);
  EXPECT_EQ(get32(p.data() + 8), 0u);
  EXPECT_EQ(get32(p.data() + 12), 0xdeadbeefu);
}

TEST(UdpCodec, AnnounceRequestLayout) {
  pt::announce_request req;
  req.info_hash = hash_of(0xab);
  req.peer_id.fill('P');
  req.downloaded = 5;
  req.left = 0x100000000LL;
  req.uploaded = 7;
  req.ev = pt::event::started;
  req.key = 0x01020304;
  req.numwant = -1;
  req.port = 6881;
  auto p = udp::encode_announce(0x1122334455667788ULL, 42, req);
  ASSERT_TRUE(p);
  ASSERT_EQ(p->size(), 98u);
  const auto* d = p->data();
  EXPECT_EQ(get32(d), 0x11223344u);
  EXPECT_EQ(get32(d + 4), 0x55667788u);
  EXPECT_EQ(get32(d + 8), 1u);
  EXPECT_EQ(get32(d + 12), 42u);
  EXPECT_EQ(d[16], 0xab);
  EXPECT_EQ(d[36], 'P');
  EXPECT_EQ(get32(d + 60), 5u);  // downloaded (low half)
  EXPECT_EQ(get32(d + 64), 1u);  // left (high half)
  EXPECT_EQ(get32(d + 76), 7u);  // uploaded (low half)
  EXPECT_EQ(get32(d + 80), 2u);  // started
  EXPECT_EQ(get32(d + 84), 0u);  // IP: the sender's
  EXPECT_EQ(get32(d + 88), 0x01020304u);
  EXPECT_EQ(get32(d + 92), 0xffffffffu);  // num_want -1
  EXPECT_EQ(d[96], 6881 >> 8);
  EXPECT_EQ(d[97], 6881 & 0xff);
}

TEST(UdpCodec, AnnounceEventCodes) {
  pt::announce_request req;
  auto code = [&](pt::event e) {
    req.ev = e;
    return get32(udp::encode_announce(0, 0, req)->data() + 80);
  };
  EXPECT_EQ(code(pt::event::none), 0u);
  EXPECT_EQ(code(pt::event::completed), 1u);
  EXPECT_EQ(code(pt::event::started), 2u);
  EXPECT_EQ(code(pt::event::stopped), 3u);
}

TEST(UdpCodec, AnnounceRejectsNegativeCounts) {
  pt::announce_request req;
  req.left = -1;
  EXPECT_FALSE(udp::encode_announce(0, 0, req));
}

TEST(UdpCodec, ScrapeRequestLayoutAndLimits) {
  std::vector<peerwire::sha1_hash> hs{hash_of(1), hash_of(2)};
  auto p = udp::encode_scrape(7, 9, hs);
  ASSERT_TRUE(p);
  ASSERT_EQ(p->size(), 56u);
  EXPECT_EQ(get32(p->data() + 8), 2u);
  EXPECT_EQ(get32(p->data() + 12), 9u);
  EXPECT_EQ((*p)[16], 1);
  EXPECT_EQ((*p)[36], 2);
  EXPECT_FALSE(udp::encode_scrape(7, 9, {}));
  std::vector<peerwire::sha1_hash> many(udp::max_scrape_hashes + 1);
  EXPECT_FALSE(udp::encode_scrape(7, 9, many));
  many.pop_back();
  EXPECT_TRUE(udp::encode_scrape(7, 9, many));
}

TEST(UdpCodec, ConnectReply) {
  bytes b = header(0, 5);
  put64(b, 0xcafef00d12345678ULL);
  auto r = udp::decode_reply(b, udp::action::connect, 5, udp::family::v4);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->act, udp::action::connect);
  EXPECT_EQ(r->connection_id, 0xcafef00d12345678ULL);
  b.pop_back();
  EXPECT_FALSE(udp::decode_reply(b, udp::action::connect, 5, udp::family::v4));
}

TEST(UdpCodec, WrongTransactionIdIsAnError) {
  bytes b = header(0, 5);
  put64(b, 1);
  auto r = udp::decode_reply(b, udp::action::connect, 6, udp::family::v4);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("transaction id"), std::string::npos);
}

TEST(UdpCodec, WrongActionIsAnError) {
  bytes b = header(2, 5);
  put64(b, 1);
  auto r = udp::decode_reply(b, udp::action::connect, 5, udp::family::v4);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("scrape"), std::string::npos) << r.error().message;
  EXPECT_FALSE(udp::decode_reply(header(77, 5), udp::action::announce, 5, udp::family::v4));
}

TEST(UdpCodec, ErrorReplyCarriesPrintableMessage) {
  bytes b = header(3, 5);
  for (char c : std::string("torrent \x1b[31mnot registered"))
    b.push_back(static_cast<std::uint8_t>(c));
  auto r = udp::decode_reply(b, udp::action::announce, 5, udp::family::v4);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->act, udp::action::error);
  EXPECT_EQ(r->error, "torrent ?[31mnot registered");
  auto empty = udp::decode_reply(header(3, 5), udp::action::scrape, 5, udp::family::v4);
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->error, "(no message)");
}

TEST(UdpCodec, ShortPacketIsAnError) {
  bytes b{0, 0, 0};
  EXPECT_FALSE(udp::decode_reply(b, udp::action::connect, 0, udp::family::v4));
  EXPECT_FALSE(udp::peek_header(b));
}

TEST(UdpCodec, AnnounceReplyV4) {
  bytes b = header(1, 9);
  put32(b, 1800);
  put32(b, 3);                                                                        // leechers
  put32(b, 4);                                                                        // seeders
  for (std::uint8_t x : {1, 2, 3, 4, 0x1a, 0xe1, 10, 0, 0, 1, 0, 0}) b.push_back(x);  // 2nd: port 0
  auto r = udp::decode_reply(b, udp::action::announce, 9, udp::family::v4);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->announce.interval.count(), 1800);
  EXPECT_EQ(r->announce.incomplete, 3);
  EXPECT_EQ(r->announce.complete, 4);
  ASSERT_EQ(r->announce.peers.size(), 1u);
  EXPECT_EQ(r->announce.peers[0], (pt::peer_endpoint{"1.2.3.4", 6881, {}}));
  ASSERT_EQ(r->announce.notes.size(), 1u);
}

TEST(UdpCodec, AnnounceReplyV6PeersAre18Bytes) {
  bytes b = header(1, 9);
  put32(b, 30);  // clamped to the floor
  put32(b, 0);
  put32(b, 1);
  for (int i = 0; i < 15; ++i) b.push_back(0);
  b.push_back(1);
  b.push_back(0x1a);
  b.push_back(0xe2);
  auto r = udp::decode_reply(b, udp::action::announce, 9, udp::family::v6);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->announce.peers.size(), 1u);
  EXPECT_EQ(r->announce.peers[0], (pt::peer_endpoint{"::1", 6882, {}}));
  EXPECT_EQ(r->announce.interval.count(), 60);
  // The same 18 bytes read as IPv4 entries are 3 entries: valid; 20 bytes would not be.
  b.push_back(0);
  b.push_back(0);
  auto bad = udp::decode_reply(b, udp::action::announce, 9, udp::family::v6);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("multiple of 18"), std::string::npos);
}

TEST(UdpCodec, AnnounceReplyTruncatedPeerIsAnError) {
  bytes b = header(1, 9);
  put32(b, 1800);
  put32(b, 0);
  put32(b, 0);
  for (std::uint8_t x : {1, 2, 3, 4, 0x1a}) b.push_back(x);
  EXPECT_FALSE(udp::decode_reply(b, udp::action::announce, 9, udp::family::v4));
  bytes shorter = header(1, 9);
  put32(shorter, 1800);
  EXPECT_FALSE(udp::decode_reply(shorter, udp::action::announce, 9, udp::family::v4));
}

TEST(UdpCodec, AnnounceReplyPeersAreBounded) {
  bytes b = header(1, 9);
  put32(b, 1800);
  put32(b, 0);
  put32(b, 0);
  for (int i = 0; i < 5; ++i) {
    bytes peer{10, 0, 0, static_cast<std::uint8_t>(i + 1), 0, 80};
    b.insert(b.end(), peer.begin(), peer.end());
  }
  pt::response_limits lim;
  lim.max_peers = 2;
  auto r = udp::decode_reply(b, udp::action::announce, 9, udp::family::v4, {}, lim);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->announce.peers.size(), 2u);
  EXPECT_EQ(r->announce.notes.size(), 1u);
}

TEST(UdpCodec, ScrapeReply) {
  std::vector<peerwire::sha1_hash> hs{hash_of(1), hash_of(2)};
  bytes b = header(2, 4);
  for (std::uint32_t v : {5u, 6u, 7u, 1u, 2u, 3u}) put32(b, v);
  auto r = udp::decode_reply(b, udp::action::scrape, 4, udp::family::v4, hs);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->scrape.size(), 2u);
  EXPECT_EQ(r->scrape[0].info_hash, hs[0]);
  EXPECT_EQ(r->scrape[0].seeders, 5);
  EXPECT_EQ(r->scrape[0].completed, 6);
  EXPECT_EQ(r->scrape[0].leechers, 7);
  EXPECT_EQ(r->scrape[1].seeders, 1);
  // More entries than hashes asked, or a partial entry: errors.
  put32(b, 1);
  put32(b, 1);
  put32(b, 1);
  EXPECT_FALSE(udp::decode_reply(b, udp::action::scrape, 4, udp::family::v4, hs));
  b.resize(b.size() - 13);
  EXPECT_FALSE(udp::decode_reply(b, udp::action::scrape, 4, udp::family::v4, hs));
}

TEST(UdpCodec, PeekHeader) {
  auto h = udp::peek_header(header(1, 0x01020304));
  ASSERT_TRUE(h);
  EXPECT_EQ(h->act, 1u);
  EXPECT_EQ(h->transaction_id, 0x01020304u);
}
