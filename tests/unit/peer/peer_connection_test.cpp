// Peer connections over real loopback sockets, driven by one io_context in the test thread.
// Every wait is for an event with a deadline, never a guessed sleep.
#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "peer_host.hpp"
#include "peer_test_util.hpp"
#include "peerwire/wire_peer_id.hpp"

using namespace peerwire;
using namespace peerwire::peer;
using namespace std::chrono_literals;
using namespace peer_test;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

listen_options any_port() {
  listen_options o;
  o.default_count = 0;  // straight to "any free port"
  return o;
}

class PeerTest : public ::testing::Test {
 protected:
  // Runs the io_context until `done` holds; false if the deadline passed first.
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 5s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      if (io.stopped()) io.restart();
      io.run_one_for(20ms);
    }
    return true;
  }

  // A scripted fake peer: accepts one connection on a free port and runs `script` on it.
  std::uint16_t fake_peer(std::function<asio::awaitable<void>(tcp::socket&)> script) {
    auto acceptor =
        std::make_shared<tcp::acceptor>(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    std::uint16_t port = acceptor->local_endpoint().port();
    asio::co_spawn(
        io,
        [acceptor, script]() -> asio::awaitable<void> {
          auto [ec, socket] = co_await acceptor->async_accept(tuple_awaitable);
          if (ec) co_return;
          co_await script(socket);
          // Keep the socket open until the test ends so our side decides when to close.
          asio::steady_timer hold(socket.get_executor(), 30s);
          co_await hold.async_wait(tuple_awaitable);
        },
        asio::detached);
    return port;
  }

  static tcp::endpoint local(std::uint16_t port) {
    return {asio::ip::address_v4::loopback(), port};
  }

  asio::io_context io;
};

TEST_F(PeerTest, TwoHostsHandshakeAndExchangeGreetings) {
  trace_log seed_trace, leech_trace;
  peer_host seeder(io.get_executor(), quick_settings(), seed_trace.sink());
  peer_host leecher(io.get_executor(), quick_settings(), leech_trace.sink());
  auto torrent = make_torrent(0xab, true);
  seeder.add_torrent(torrent);
  auto port = seeder.listen(any_port());
  ASSERT_TRUE(port) << port.error().describe();
  torrent.we_are_seed = false;
  leecher.add_torrent(torrent);

  auto out = leecher.connect(local(*port), torrent.info_hash);
  ASSERT_TRUE(out);
  ASSERT_TRUE(run_until([&] {
    return out->state().pieces_known() && out->remote_extensions() &&
           seeder.connections().size() == 1 && seeder.connections()[0]->state().pieces_known() &&
           seeder.connections()[0]->remote_extensions();
  })) << "handshake/greeting did not complete";

  EXPECT_TRUE(out->state().peer_is_seed());
  EXPECT_TRUE(out->state().peer_choking);
  auto in = seeder.connections()[0];
  EXPECT_FALSE(in->outgoing());
  EXPECT_EQ(in->state().peer_piece_count(), 0u);
  EXPECT_EQ(out->remote_extensions()->client, "peerwire 0.1.0");
  EXPECT_EQ(out->remote_extensions()->listen_port, *port);  // the seeder advertises its port
  EXPECT_TRUE(leech_trace.contains("<- have all"));
  EXPECT_TRUE(seed_trace.contains("<- have none"));
  EXPECT_TRUE(leech_trace.contains("-> handshake info-hash abab"));

  // State flags follow what each side sends.
  out->send(wire::interested{});
  ASSERT_TRUE(run_until([&] { return in->state().peer_interested; }));
  in->send(wire::unchoke{});
  ASSERT_TRUE(run_until([&] { return !out->state().peer_choking; }));
  EXPECT_TRUE(out->state().am_interested);
  EXPECT_FALSE(in->state().am_choking);

  out->close("test done");
  ASSERT_TRUE(
      run_until([&] { return seeder.connections().empty() && leecher.connections().empty(); }));
  EXPECT_EQ(out->close_reason(), "test done");
  EXPECT_EQ(in->close_reason(), "peer closed the connection");
}

TEST_F(PeerTest, UnknownInfoHashIsRefused) {
  peer_host a(io.get_executor(), quick_settings());
  peer_host b(io.get_executor(), quick_settings());
  a.add_torrent(make_torrent(0x01, true));
  auto port = a.listen(any_port());
  ASSERT_TRUE(port);
  auto other = make_torrent(0x02, false);
  b.add_torrent(other);
  std::string a_reason;
  a.on_closed = [&](peer_connection& c) { a_reason = c.close_reason(); };
  auto out = b.connect(local(*port), other.info_hash);
  ASSERT_TRUE(run_until([&] { return !out->is_open() && !a_reason.empty(); }));
  EXPECT_EQ(a_reason, "unknown info-hash " + other.info_hash.hex());
  EXPECT_EQ(out->close_reason(), "peer closed the connection without answering the handshake");
}

TEST_F(PeerTest, KeepAlivesFlowWhenQuiet) {
  trace_log seed_trace;
  auto fast_keepalive = quick_settings();
  fast_keepalive.keepalive_interval = 100ms;
  peer_host seeder(io.get_executor(), quick_settings(), seed_trace.sink());
  peer_host leecher(io.get_executor(), fast_keepalive);
  auto t = make_torrent(0x03, true);
  seeder.add_torrent(t);
  leecher.add_torrent(t);
  auto port = seeder.listen(any_port());
  ASSERT_TRUE(port);
  auto out = leecher.connect(local(*port), t.info_hash);
  ASSERT_TRUE(run_until([&] { return seed_trace.contains("<- keep-alive"); }, 3s));
  EXPECT_TRUE(out->is_open());
}

TEST_F(PeerTest, IdlePeerIsDropped) {
  auto impatient = quick_settings();
  impatient.idle_timeout = 300ms;
  peer_host seeder(io.get_executor(), impatient);
  peer_host leecher(io.get_executor(), quick_settings());
  auto t = make_torrent(0x04, true);
  seeder.add_torrent(t);
  leecher.add_torrent(t);
  auto port = seeder.listen(any_port());
  ASSERT_TRUE(port);
  std::string reason;
  seeder.on_closed = [&](peer_connection& c) { reason = c.close_reason(); };
  auto out = leecher.connect(local(*port), t.info_hash);
  ASSERT_TRUE(run_until([&] { return !reason.empty(); }, 3s));
  EXPECT_NE(reason.find("idle: nothing received"), std::string::npos) << reason;
}

TEST_F(PeerTest, SilentPeerTimesOutTheHandshake) {
  auto port = fake_peer([](tcp::socket&) -> asio::awaitable<void> { co_return; });
  auto s = quick_settings();
  s.handshake_timeout = 200ms;
  peer_host host(io.get_executor(), s);
  auto t = make_torrent(0x05, false);
  host.add_torrent(t);
  auto c = host.connect(local(port), t.info_hash);
  ASSERT_TRUE(run_until([&] { return !c->is_open(); }, 3s));
  EXPECT_NE(c->close_reason().find("handshake timed out after 200 ms (0 of 68 bytes received)"),
            std::string::npos)
      << c->close_reason();
}

TEST_F(PeerTest, NonBitTorrentReplyIsABadHandshake) {
  auto port = fake_peer([](tcp::socket& s) -> asio::awaitable<void> {
    std::string reply = "HTTP/1.1 400 Bad Request\r\n\r\n";
    co_await asio::async_write(s, asio::buffer(reply), tuple_awaitable);
  });
  peer_host host(io.get_executor(), quick_settings());
  auto t = make_torrent(0x06, false);
  host.add_torrent(t);
  auto c = host.connect(local(port), t.info_hash);
  ASSERT_TRUE(run_until([&] { return !c->is_open(); }));
  EXPECT_EQ(c->close_reason().rfind("bad handshake: ", 0), 0u) << c->close_reason();
}

TEST_F(PeerTest, InvalidMessageAfterHandshakeEndsWithAReason) {
  auto t = make_torrent(0x07, false);
  auto port = fake_peer([t](tcp::socket& s) -> asio::awaitable<void> {
    std::array<std::uint8_t, 68> theirs{};
    co_await asio::async_read(s, asio::buffer(theirs), tuple_awaitable);
    wire::handshake h;
    h.info_hash = t.info_hash.bytes;
    h.id = wire::random_peer_id();
    std::vector<std::uint8_t> out;
    wire::encode_handshake(h, out);
    // A bitfield of 5 bytes for a 10-piece torrent (2 bytes expected).
    std::uint8_t bad[] = {0, 0, 0, 6, 5, 0xff, 0xff, 0xff, 0xff, 0xff};
    out.insert(out.end(), std::begin(bad), std::end(bad));
    co_await asio::async_write(s, asio::buffer(out), tuple_awaitable);
  });
  peer_host host(io.get_executor(), quick_settings());
  host.add_torrent(t);
  auto c = host.connect(local(port), t.info_hash);
  ASSERT_TRUE(run_until([&] { return !c->is_open(); }));
  EXPECT_EQ(c->close_reason().rfind("protocol error: ", 0), 0u) << c->close_reason();
  EXPECT_NE(c->close_reason().find("bitfield"), std::string::npos) << c->close_reason();
}

TEST_F(PeerTest, ConnectionToClosedPortIsRefused) {
  tcp::acceptor probe(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  auto port = probe.local_endpoint().port();
  probe.close();
  peer_host host(io.get_executor(), quick_settings());
  auto t = make_torrent(0x08, false);
  host.add_torrent(t);
  auto c = host.connect(local(port), t.info_hash);
  ASSERT_TRUE(run_until([&] { return !c->is_open(); }));
  EXPECT_EQ(c->close_reason().rfind("connect failed: ", 0), 0u) << c->close_reason();
}

TEST_F(PeerTest, ListenSkipsBusyPorts) {
  tcp::acceptor busy(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  auto taken = busy.local_endpoint().port();
  peer_host host(io.get_executor(), quick_settings());
  listen_options o;
  o.first_default = taken;
  o.default_count = 1;  // only the busy one, then any free port
  auto port = host.listen(o);
  ASSERT_TRUE(port) << port.error().describe();
  EXPECT_NE(*port, taken);

  peer_host exact(io.get_executor(), quick_settings());
  listen_options fixed;
  fixed.port = taken;
  auto refused = exact.listen(fixed);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find(std::to_string(taken)), std::string::npos);
}

}  // namespace
