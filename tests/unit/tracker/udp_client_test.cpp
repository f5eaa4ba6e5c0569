// The UDP tracker client and the shared socket against a scripted UDP tracker on loopback:
// connection-id reuse, retransmission, transaction-id and source checks, error replies,
// truncated replies, silence, IPv6 peers, scrape.
#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <functional>

#include "udp_io.hpp"
#include "udp_socket.hpp"

namespace pt = peerwire::tracker;
namespace asio = boost::asio;
using udp = asio::ip::udp;
using bytes = std::vector<std::uint8_t>;
using namespace std::chrono_literals;

namespace {

void put32(bytes& b, std::uint32_t v) {
  for (int i = 3; i >= 0; --i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
std::uint32_t get32(const bytes& b, std::size_t at) {
  return (std::uint32_t{b[at]} << 24) | (std::uint32_t{b[at + 1]} << 16) |
         (std::uint32_t{b[at + 2]} << 8) | b[at + 3];
}

// A scripted tracker: for each request, `respond` returns the datagrams to send back.
class fake_tracker {
 public:
  using responder = std::function<std::vector<bytes>(const bytes& request, int index)>;

  fake_tracker(asio::io_context& ioc, responder r, const char* address = "127.0.0.1")
      : socket_(ioc, udp::endpoint(asio::ip::make_address(address), 0)), respond_(std::move(r)) {
    asio::co_spawn(ioc, loop(), asio::detached);
  }
  std::string url() const {
    auto ep = socket_.local_endpoint();
    std::string host =
        ep.address().is_v6() ? "[" + ep.address().to_string() + "]" : ep.address().to_string();
    return "udp://" + host + ":" + std::to_string(ep.port()) + "/announce";
  }
  const std::vector<bytes>& requests() const { return requests_; }
  int count(std::uint32_t action) const {
    int n = 0;
    for (const auto& r : requests_) n += r.size() >= 12 && get32(r, 8) == action;
    return n;
  }
  void stop() {
    boost::system::error_code ignored;
    socket_.close(ignored);
  }
  udp::endpoint last_client;

 private:
  asio::awaitable<void> loop() {
    bytes buf(65536);
    for (;;) {
      udp::endpoint from;
      auto [ec, n] = co_await socket_.async_receive_from(asio::buffer(buf), from,
                                                         asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      last_client = from;
      bytes req(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
      requests_.push_back(req);
      for (auto& reply : respond_(req, static_cast<int>(requests_.size()) - 1)) {
        co_await socket_.async_send_to(asio::buffer(reply), from,
                                       asio::as_tuple(asio::use_awaitable));
      }
    }
  }
  udp::socket socket_;
  responder respond_;
  std::vector<bytes> requests_;
};

bytes connect_reply(const bytes& req, std::uint64_t id = 0x1234) {
  bytes b;
  put32(b, 0);
  put32(b, get32(req, 12));
  put32(b, static_cast<std::uint32_t>(id >> 32));
  put32(b, static_cast<std::uint32_t>(id));
  return b;
}

bytes announce_reply(const bytes& req, const bytes& peers) {
  bytes b;
  put32(b, 1);
  put32(b, get32(req, 12));
  put32(b, 900);
  put32(b, 2);
  put32(b, 5);
  b.insert(b.end(), peers.begin(), peers.end());
  return b;
}

// A well-behaved tracker: connect, announce with one peer 10.0.0.1:6881, scrape 3/4/5.
std::vector<bytes> honest(const bytes& req) {
  std::uint32_t act = get32(req, 8);
  if (act == 0) return {connect_reply(req)};
  if (act == 1) return {announce_reply(req, {10, 0, 0, 1, 0x1a, 0xe1})};
  bytes b;
  put32(b, 2);
  put32(b, get32(req, 12));
  for (std::size_t i = 16; i < req.size(); i += 20) {
    put32(b, 3);
    put32(b, 4);
    put32(b, 5);
  }
  return {b};
}

template <class T>
T run(asio::io_context& ioc, asio::awaitable<T> work) {
  std::optional<T> out;
  asio::co_spawn(
      ioc, [&]() -> asio::awaitable<void> { out.emplace(co_await std::move(work)); },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!out && std::chrono::steady_clock::now() < deadline) {
    ioc.run_one_for(100ms);
  }
  if (!out) throw std::runtime_error("test call did not finish in 20 s");
  return std::move(*out);
}

pt::udp_options quick() {
  pt::udp_options o;
  o.base_timeout = 50ms;
  o.max_retransmits = 2;
  return o;
}

struct fixture : ::testing::Test {
  asio::io_context ioc;
  // The shared socket, named as the demultiplexer it is; the tracker's transactions on it.
  peerwire::net::udp_socket mux{ioc.get_executor()};
  pt::udp_transactions transactions{mux};
  pt::udp_tracker client{transactions};
  void SetUp() override { ASSERT_TRUE(mux.open("127.0.0.1", 0)); }
};

}  // namespace

using UdpClient = fixture;

TEST_F(UdpClient, AnnounceAndReuseConnectionId) {
  fake_tracker srv(ioc, [](const bytes& r, int) { return honest(r); });
  pt::announce_request req;
  req.port = 6881;
  req.ev = pt::event::started;
  auto r = run(ioc, client.announce(srv.url(), req, quick()));
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->peers.size(), 1u);
  EXPECT_EQ(r->peers[0], (pt::peer_endpoint{"10.0.0.1", 6881, {}}));
  EXPECT_EQ(r->interval.count(), 900);
  EXPECT_EQ(r->complete, 5);
  EXPECT_EQ(r->incomplete, 2);
  auto again = run(ioc, client.announce(srv.url(), req, quick()));
  ASSERT_TRUE(again);
  EXPECT_EQ(srv.count(0), 1) << "connection id reused within a minute";
  EXPECT_EQ(srv.count(1), 2);
  ASSERT_EQ(srv.requests().size(), 3u);
  EXPECT_EQ(get32(srv.requests()[1], 0), 0u);
  EXPECT_EQ(get32(srv.requests()[1], 4), 0x1234u) << "announce carries the connection id";
  EXPECT_NE(get32(srv.requests()[0], 12), get32(srv.requests()[1], 12)) << "fresh transaction ids";
}

TEST_F(UdpClient, RetransmitsAfterALostPacket) {
  fake_tracker srv(ioc, [](const bytes& r, int i) {
    return i == 0 ? std::vector<bytes>{} : honest(r);  // the first connect is "lost"
  });
  auto r = run(ioc, client.announce(srv.url(), {}, quick()));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(srv.count(0), 2);
}

TEST_F(UdpClient, WrongTransactionIdIsIgnored) {
  fake_tracker srv(ioc, [](const bytes& r, int i) {
    auto replies = honest(r);
    if (i == 0) replies[0][7] ^= 0x5a;  // corrupt the transaction id of the first reply
    return replies;
  });
  auto r = run(ioc, client.announce(srv.url(), {}, quick()));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(srv.count(0), 2) << "the bad reply was not accepted, the connect was retried";
  EXPECT_GE(mux.dropped(), 1u);
}

TEST_F(UdpClient, ReplyFromAnotherSourceIsIgnored) {
  udp::socket forger(ioc, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  fake_tracker* self = nullptr;
  fake_tracker srv(ioc, [&](const bytes& r, int i) {
    if (i == 0) {  // a third party answers the first connect in the tracker's place
      auto forged = connect_reply(r, 0x6666);
      forger.send_to(asio::buffer(forged), self->last_client);
      return std::vector<bytes>{};
    }
    return honest(r);
  });
  self = &srv;
  auto r = run(ioc, client.announce(srv.url(), {}, quick()));
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(srv.count(1), 1);
  EXPECT_EQ(get32(srv.requests().back(), 4), 0x1234u) << "the forged connection id was not used";
}

TEST_F(UdpClient, ErrorActionIsAFailureReason) {
  fake_tracker srv(ioc, [](const bytes& r, int) {
    if (get32(r, 8) == 0) return honest(r);
    bytes b;
    put32(b, 3);
    put32(b, get32(r, 12));
    for (char c : std::string("torrent not registered")) b.push_back(static_cast<std::uint8_t>(c));
    return std::vector<bytes>{b};
  });
  auto r = run(ioc, client.announce(srv.url(), {}, quick()));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->failure_reason, "torrent not registered");
}

TEST_F(UdpClient, ErrorOnConnectIsAnError) {
  fake_tracker srv(ioc, [](const bytes& r, int) {
    bytes b;
    put32(b, 3);
    put32(b, get32(r, 12));
    b.push_back('n');
    return std::vector<bytes>{b};
  });
  auto r = run(ioc, client.announce(srv.url(), {}, quick()));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "tracker says: n");
}

TEST_F(UdpClient, TruncatedReplyIsAnError) {
  fake_tracker srv(ioc, [](const bytes& r, int) {
    auto replies = honest(r);
    if (get32(r, 8) == 1) replies[0].resize(replies[0].size() - 1);
    return replies;
  });
  auto r = run(ioc, client.announce(srv.url(), {}, quick()));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("bad reply"), std::string::npos) << r.error().message;
}

TEST_F(UdpClient, SilentTrackerTimesOutAfterBoundedRetries) {
  fake_tracker srv(ioc, [](const bytes&, int) { return std::vector<bytes>{}; });
  auto started = std::chrono::steady_clock::now();
  auto r = run(ioc, client.announce(srv.url(), {}, quick()));
  auto took = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("no reply from"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("3 tries"), std::string::npos) << r.error().message;
  EXPECT_EQ(srv.count(0), 3);
  EXPECT_GE(took, 340ms);  // 50 + 100 + 200 ms
  EXPECT_LT(took, 5s);
}

TEST_F(UdpClient, DeadlineCapsTheCall) {
  fake_tracker srv(ioc, [](const bytes&, int) { return std::vector<bytes>{}; });
  auto o = quick();
  o.base_timeout = 10s;
  o.deadline = 200ms;
  auto started = std::chrono::steady_clock::now();
  auto r = run(ioc, client.announce(srv.url(), {}, o));
  EXPECT_FALSE(r);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
}

TEST_F(UdpClient, Scrape) {
  fake_tracker srv(ioc, [](const bytes& r, int) { return honest(r); });
  peerwire::sha1_hash a, b;
  a.bytes.fill(1);
  b.bytes.fill(2);
  auto r = run(ioc, client.scrape(srv.url(), {a, b}, quick()));
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[1].info_hash, b);
  EXPECT_EQ((*r)[1].seeders, 3);
  EXPECT_EQ((*r)[1].completed, 4);
  EXPECT_EQ((*r)[1].leechers, 5);
  ASSERT_EQ(srv.requests().back().size(), 56u);
}

TEST_F(UdpClient, BadUrls) {
  EXPECT_FALSE(run(ioc, client.announce("udp://127.0.0.1/announce", {}, quick())));
  EXPECT_FALSE(run(ioc, client.announce("http://127.0.0.1:1/announce", {}, quick())));
  EXPECT_FALSE(run(ioc, client.scrape("udp://127.0.0.1:1", {}, quick())));
}

TEST_F(UdpClient, UnclaimedDatagramsGoToListenersThenDropped) {
  int seen = 0;
  mux.on_datagram(peerwire::net::datagram_kind::unknown,
                  [&](const udp::endpoint&, std::span<const std::uint8_t> d) {
                    ++seen;
                    return d.size() == 3;  // takes 3-byte datagrams only
                  });
  fake_tracker srv(ioc, [](const bytes& r, int) { return honest(r); });
  ASSERT_TRUE(run(ioc, client.announce(srv.url(), {}, quick())));
  udp::socket other(ioc, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  other.send_to(asio::buffer(bytes{1, 2, 3}), srv.last_client);
  other.send_to(asio::buffer(bytes{1, 2, 3, 4}), srv.last_client);
  auto before = mux.dropped();
  for (int i = 0; i < 50 && seen < 2; ++i) ioc.run_one_for(20ms);
  EXPECT_EQ(seen, 2);
  EXPECT_EQ(mux.dropped(), before + 1);
}

TEST(UdpClientV6, AnnounceOverIpv6Has18BytePeers) {
  asio::io_context ioc;
  peerwire::net::udp_socket mux(ioc.get_executor());
  if (!mux.open("::", 0)) GTEST_SKIP() << "no IPv6 here";
  pt::udp_transactions transactions(mux);
  pt::udp_tracker client(transactions);
  std::unique_ptr<fake_tracker> srv;
  try {
    srv = std::make_unique<fake_tracker>(
        ioc,
        [](const bytes& r, int) {
          if (get32(r, 8) == 0) return std::vector<bytes>{connect_reply(r)};
          bytes peer(16, 0);
          peer[15] = 1;
          peer.push_back(0x1a);
          peer.push_back(0xe1);
          return std::vector<bytes>{announce_reply(r, peer)};
        },
        "::1");
  } catch (const std::exception&) {
    GTEST_SKIP() << "cannot bind ::1";
  }
  auto r = run(ioc, client.announce(srv->url(), {}, quick()));
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->peers.size(), 1u);
  EXPECT_EQ(r->peers[0], (pt::peer_endpoint{"::1", 6881, {}}));
  // The same dual-stack socket also reaches IPv4 trackers.
  fake_tracker v4(ioc, [](const bytes& q, int) { return honest(q); });
  auto r4 = run(ioc, client.announce(v4.url(), {}, quick()));
  ASSERT_TRUE(r4) << r4.error().message;
  EXPECT_EQ(r4->peers[0].address, "10.0.0.1");
}
