// net::udp_socket over loopback: send_to between sockets, a burst received in batches, routing
// by kind with per-kind counters, sends to a closed port, family checks, dual-stack sources,
// and close() or destruction while a receive is pending. Every wait has a deadline and ends
// as soon as what it waits for happened.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "udp_socket.hpp"

namespace pn = peerwire::net;
namespace asio = boost::asio;
using udp = asio::ip::udp;
using bytes = std::vector<std::uint8_t>;
using kind = pn::datagram_kind;
using namespace std::chrono_literals;

namespace {

// Runs handlers until `done` or 5 s; returns `done()`.
bool pump(asio::io_context& ioc, const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    ioc.restart();
    ioc.run_one_for(10ms);
  }
  return done();
}

udp::endpoint loopback(std::uint16_t port) {
  return {asio::ip::make_address("127.0.0.1"), port};
}

// An `unknown` datagram carrying a number: 0xff first (no kind starts so), then 2 bytes.
bytes numbered(std::size_t i, std::size_t size = 100) {
  bytes b(size, 0xab);
  b[0] = 0xff;
  b[1] = static_cast<std::uint8_t>(i >> 8);
  b[2] = static_cast<std::uint8_t>(i);
  return b;
}

struct received {
  udp::endpoint from;
  bytes data;
};

struct UdpSocket : ::testing::Test {
  asio::io_context ioc;
  pn::udp_socket a{ioc.get_executor()};
  pn::udp_socket b{ioc.get_executor()};
  std::vector<received> at_b;
  void SetUp() override {
    ASSERT_TRUE(a.open("127.0.0.1", 0));
    ASSERT_TRUE(b.open("127.0.0.1", 0));
    b.on_datagram(kind::unknown,
                  [this](const udp::endpoint& from, std::span<const std::uint8_t> d) {
                    at_b.push_back({from, {d.begin(), d.end()}});
                    return true;
                  });
  }
};

}  // namespace

TEST_F(UdpSocket, SendToAndBack) {
  auto sent = a.send_to(loopback(b.local_port()), numbered(7));
  ASSERT_TRUE(sent) << sent.error().message;
  EXPECT_EQ(*sent, pn::send_status::sent);
  ASSERT_TRUE(pump(ioc, [&] { return at_b.size() == 1; }));
  EXPECT_EQ(at_b[0].from, loopback(a.local_port()));
  EXPECT_EQ(at_b[0].data, numbered(7));

  std::vector<received> at_a;
  a.on_datagram(kind::unknown, [&](const udp::endpoint& from, std::span<const std::uint8_t> d) {
    at_a.push_back({from, {d.begin(), d.end()}});
    return true;
  });
  ASSERT_TRUE(b.send_to(at_b[0].from, numbered(8, 60000)));  // a large one, to the source
  ASSERT_TRUE(pump(ioc, [&] { return at_a.size() == 1; }));
  EXPECT_EQ(at_a[0].data, numbered(8, 60000));
  EXPECT_EQ(a.counters().sent, 1u);
  EXPECT_EQ(b.counters().received[static_cast<std::size_t>(kind::unknown)], 1u);
}

TEST_F(UdpSocket, BurstArrivesInBatchesWithSources) {
  std::vector<std::size_t> batches;
  b.on_batch_end(kind::unknown, [&](std::size_t n) { batches.push_back(n); });
  pn::udp_socket c{ioc.get_executor()};
  ASSERT_TRUE(c.open("127.0.0.1", 0));
  // Rounds of 50 from two senders, each round sent before the receiver runs: the receive
  // loop then finds many datagrams waiting and takes them in batches. (Rounds, not one burst
  // of 200, so the kernel's receive buffer cannot overflow whatever its limits.)
  constexpr std::size_t rounds = 4, per_round = 50;
  for (std::size_t r = 0; r < rounds; ++r) {
    for (std::size_t i = 0; i < per_round; ++i) {
      std::size_t n = r * per_round + i;
      auto& from = n % 2 ? c : a;
      auto sent = from.send_to(loopback(b.local_port()), numbered(n, 200 + n));
      ASSERT_TRUE(sent) << sent.error().message;
    }
    ASSERT_TRUE(pump(ioc, [&] { return at_b.size() == (r + 1) * per_round; }))
        << at_b.size() << " datagrams arrived";
  }
  std::set<std::size_t> seen;
  for (const auto& d : at_b) {
    ASSERT_GE(d.data.size(), 3u);
    std::size_t n = std::size_t{d.data[1]} << 8 | d.data[2];
    EXPECT_TRUE(seen.insert(n).second) << "duplicate " << n;
    EXPECT_EQ(d.data, numbered(n, 200 + n));
    EXPECT_EQ(d.from, loopback((n % 2 ? c : a).local_port())) << n;
  }
  EXPECT_EQ(seen.size(), rounds * per_round);
  std::size_t total = 0, largest = 0;
  for (auto n : batches) {
    total += n;
    largest = std::max(largest, n);
  }
  EXPECT_EQ(total, rounds * per_round) << "every datagram was in some batch";
  EXPECT_GT(largest, 1u) << "a waiting burst is received several datagrams at a time";
  EXPECT_LE(largest, pn::udp_socket_options{}.batch);
  EXPECT_EQ(b.counters().batches, batches.size());
}

TEST_F(UdpSocket, RoutesByKindAndCountsWhatNobodyTakes) {
  std::vector<kind> order;
  auto record = [&](kind k, bool take) {
    return [&order, k, take](const udp::endpoint&, std::span<const std::uint8_t>) {
      order.push_back(k);
      return take;
    };
  };
  pn::udp_socket r{ioc.get_executor()};
  ASSERT_TRUE(r.open("127.0.0.1", 0));
  r.on_datagram(kind::krpc, record(kind::krpc, true));
  r.on_datagram(kind::utp, record(kind::utp, true));
  r.on_datagram(kind::tracker, record(kind::tracker, false));  // a reply nobody waits for
  // no handler for `unknown`
  std::string ping = "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe";
  bytes krpc(ping.begin(), ping.end());
  bytes utp(20, 0);
  utp[0] = 0x41;  // ST_SYN, version 1
  bytes tracker{0, 0, 0, 1, 9, 9, 9, 9, 0, 0, 0, 0};
  bytes unknown{0x99, 1, 2};
  auto to = loopback(r.local_port());
  for (const auto& d : {krpc, utp, tracker, unknown, krpc}) ASSERT_TRUE(a.send_to(to, d));
  auto& c = r.counters();
  ASSERT_TRUE(pump(ioc, [&] {
    std::uint64_t n = 0;
    for (std::size_t k = 0; k < pn::datagram_kinds; ++k) n += c.received[k] + c.dropped[k];
    return n == 5;
  }));
  EXPECT_EQ(order, (std::vector<kind>{kind::krpc, kind::utp, kind::tracker, kind::krpc}));
  auto at = [](kind k) { return static_cast<std::size_t>(k); };
  EXPECT_EQ(c.received[at(kind::krpc)], 2u);
  EXPECT_EQ(c.received[at(kind::utp)], 1u);
  EXPECT_EQ(c.received[at(kind::tracker)], 0u);
  EXPECT_EQ(c.dropped[at(kind::tracker)], 1u);
  EXPECT_EQ(c.dropped[at(kind::unknown)], 1u);
  EXPECT_EQ(r.dropped(), 2u);

  // Unregistering: later KRPC datagrams are dropped, not delivered.
  r.on_datagram(kind::krpc, nullptr);
  ASSERT_TRUE(a.send_to(to, krpc));
  ASSERT_TRUE(pump(ioc, [&] { return c.dropped[at(kind::krpc)] == 1; }));
  EXPECT_EQ(order.size(), 4u);
}

TEST_F(UdpSocket, SendsToAClosedPortDoNotStopTheLoop) {
  std::uint16_t gone_port;
  {
    pn::udp_socket gone{ioc.get_executor()};
    auto p = gone.open("127.0.0.1", 0);
    ASSERT_TRUE(p);
    gone_port = *p;
  }
  // Each send draws an ICMP port unreachable. Linux does not report those on unconnected
  // sockets; systems that do report them on a later receive, which only counts an error.
  for (int i = 0; i < 20; ++i) {
    auto sent = b.send_to(loopback(gone_port), numbered(static_cast<std::size_t>(i)));
    ASSERT_TRUE(sent) << sent.error().message;
  }
  for (int i = 0; i < 3; ++i) ioc.poll();
  ASSERT_TRUE(a.send_to(loopback(b.local_port()), numbered(1)));
  ASSERT_TRUE(pump(ioc, [&] { return at_b.size() == 1; })) << "b still receives";
  EXPECT_TRUE(b.is_open());
}

TEST_F(UdpSocket, FamilyAndClosedErrors) {
  udp::endpoint v6(asio::ip::make_address("::1"), 9);
  EXPECT_FALSE(a.can_reach(v6));
  auto r = a.send_to(v6, numbered(1));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("other address family"), std::string::npos) << r.error().message;
  EXPECT_FALSE(pn::udp_socket(ioc.get_executor()).open("not an address", 0));
  EXPECT_FALSE(a.open("127.0.0.1", 0)) << "already open";
  a.close();
  EXPECT_FALSE(a.is_open());
  EXPECT_EQ(a.local_port(), 0);
  EXPECT_FALSE(a.can_reach(loopback(1)));
  EXPECT_FALSE(a.send_to(loopback(b.local_port()), numbered(1)));
  // And it opens again, handlers kept.
  ASSERT_TRUE(a.open("127.0.0.1", 0));
  ASSERT_TRUE(a.send_to(loopback(b.local_port()), numbered(2)));
  ASSERT_TRUE(pump(ioc, [&] { return at_b.size() == 1; }));
}

TEST(UdpSocketDualStack, Ipv4SourcesArePlainAndReachable) {
  asio::io_context ioc;
  pn::udp_socket dual{ioc.get_executor()};
  auto port = dual.open("::", 0);
  if (!port) GTEST_SKIP() << "no IPv6 here: " << port.error().message;
  pn::udp_socket v4{ioc.get_executor()};
  ASSERT_TRUE(v4.open("127.0.0.1", 0));
  std::vector<udp::endpoint> sources;
  dual.on_datagram(kind::unknown, [&](const udp::endpoint& from, std::span<const std::uint8_t>) {
    sources.push_back(from);
    return true;
  });
  int back = 0;
  v4.on_datagram(kind::unknown, [&](const udp::endpoint&, std::span<const std::uint8_t>) {
    ++back;
    return true;
  });
  ASSERT_TRUE(v4.send_to(loopback(*port), numbered(1)));
  ASSERT_TRUE(pump(ioc, [&] { return sources.size() == 1; }));
  EXPECT_EQ(sources[0], loopback(v4.local_port())) << "reported as IPv4, not ::ffff:127.0.0.1";
  EXPECT_TRUE(dual.can_reach(sources[0]));
  ASSERT_TRUE(dual.send_to(sources[0], numbered(2)));
  ASSERT_TRUE(pump(ioc, [&] { return back == 1; }));
}

TEST_F(UdpSocket, CloseWhileReceivingEndsTheLoop) {
  ioc.poll();  // the receive waits are pending now
  a.close();
  b.close();
  // With both sockets closed nothing is left to do: run() returns by itself.
  ioc.restart();
  ioc.run_for(5s);
  EXPECT_TRUE(ioc.stopped()) << "no receive left pending after close()";
  EXPECT_TRUE(at_b.empty());
}

TEST_F(UdpSocket, CloseFromAHandlerStopsTheBatch) {
  int calls = 0;
  pn::udp_socket r{ioc.get_executor()};
  ASSERT_TRUE(r.open("127.0.0.1", 0));
  r.on_datagram(kind::unknown, [&](const udp::endpoint&, std::span<const std::uint8_t>) {
    ++calls;
    r.close();
    return true;
  });
  for (std::size_t i = 0; i < 10; ++i)
    ASSERT_TRUE(a.send_to(loopback(r.local_port()), numbered(i)));
  ASSERT_TRUE(pump(ioc, [&] { return calls > 0; }));
  for (int i = 0; i < 3; ++i) ioc.poll();
  EXPECT_EQ(calls, 1) << "no datagram delivered after close()";
  EXPECT_FALSE(r.is_open());
}

TEST(UdpSocketLifetime, DestroyedWhileAReceiveIsPending) {
  asio::io_context ioc;
  int calls = 0;
  std::uint16_t port;
  {
    auto s = std::make_unique<pn::udp_socket>(ioc.get_executor());
    auto p = s->open("127.0.0.1", 0);
    ASSERT_TRUE(p);
    port = *p;
    s->on_datagram(kind::unknown, [&](const udp::endpoint&, std::span<const std::uint8_t>) {
      ++calls;
      return true;
    });
    ioc.poll();  // the wait for readability is pending inside Asio
  }
  pn::udp_socket sender{ioc.get_executor()};
  ASSERT_TRUE(sender.open("127.0.0.1", 0));
  ASSERT_TRUE(sender.send_to(loopback(port), numbered(1)));
  sender.close();
  ioc.restart();
  ioc.run_for(5s);  // the aborted wait completes; the state it holds is released
  EXPECT_TRUE(ioc.stopped());
  EXPECT_EQ(calls, 0);
}
