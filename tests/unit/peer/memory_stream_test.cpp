// The in-memory stream pair and dialer, and peer connections over them with no sockets. One
// io_context in the test thread drives everything; every wait is for an event with a
// deadline, never a guessed sleep.
#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <map>

#include "memory_stream.hpp"
#include "peer_connection.hpp"
#include "peer_test_util.hpp"
#include "peerwire/wire_handshake.hpp"
#include "peerwire/wire_peer_id.hpp"

using namespace peerwire;
using namespace peerwire::peer;
using namespace std::chrono_literals;
using namespace peer_test;
using namespace boost::asio::experimental::awaitable_operators;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);
using steady = std::chrono::steady_clock;

peer_address address(std::uint8_t last, std::uint16_t port) {
  return peer_address{ip_address::from_v4({10, 0, 0, last}), port, transport::tcp};
}

// Writes `parts` as one gathered write (the strings live in this coroutine's frame).
asio::awaitable<io_result> write_parts(peer_stream& s, std::vector<std::string> parts) {
  std::vector<asio::const_buffer> buffers;
  for (const auto& p : parts) buffers.push_back(asio::buffer(p));
  co_return co_await s.write(buffers);
}

asio::awaitable<io_result> write_text(peer_stream& s, std::string text) {
  std::vector<std::string> parts;  // not a braced list: g++ 12 rejects one in a coroutine
  parts.push_back(std::move(text));
  co_return co_await write_parts(s, std::move(parts));
}

struct read_outcome {
  io_result result;
  std::string text;
};

// One read_some of at most `max` bytes.
asio::awaitable<read_outcome> read_text(peer_stream& s, std::size_t max) {
  std::vector<std::uint8_t> buf(max);
  auto r = co_await s.read_some(buf);
  co_return read_outcome{r, std::string(buf.begin(), buf.begin() + static_cast<long>(r.bytes))};
}

class MemoryStream : public ::testing::Test {
 protected:
  // Starts `a` on the io_context; the returned slot fills when it completes.
  template <typename T>
  std::shared_ptr<std::optional<T>> start(asio::awaitable<T> a) {
    auto out = std::make_shared<std::optional<T>>();
    asio::co_spawn(io, std::move(a), [out](std::exception_ptr e, T v) {
      if (e) std::rethrow_exception(e);
      *out = std::move(v);
    });
    return out;
  }

  // Runs the io_context until `done` holds; false if the deadline passed first.
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 5s) {
    auto deadline = steady::now() + limit;
    while (!done()) {
      if (steady::now() > deadline) return false;
      if (io.stopped()) io.restart();
      io.run_one_for(20ms);
    }
    return true;
  }

  // Runs every handler that is ready now, so a test can check what is still pending.
  void settle() {
    io.restart();
    io.poll();
  }

  template <typename T>
  T await(asio::awaitable<T> a) {
    auto r = start(std::move(a));
    EXPECT_TRUE(run_until([&] { return r->has_value(); })) << "did not complete";
    return r->has_value() ? std::move(**r) : T{};
  }

  asio::io_context io;
  peer_address a_address = address(1, 6881);
  peer_address b_address = address(2, 51413);
};

TEST_F(MemoryStream, EachEndsRemoteIsTheOthersAddress) {
  auto streams = make_memory_stream_pair(io.get_executor(), a_address, b_address);
  auto &a = streams.a, &b = streams.b;
  EXPECT_EQ(a->remote(), b_address);
  EXPECT_EQ(b->remote(), a_address);
  EXPECT_EQ(a->kind(), transport::tcp);
  EXPECT_TRUE(a->executor() == io.get_executor());
}

TEST_F(MemoryStream, BytesArriveInOrderInBothDirections) {
  auto streams = make_memory_stream_pair(io.get_executor(), a_address, b_address);
  auto &a = streams.a, &b = streams.b;
  for (const char* part : {"hello ", "memory ", "world"})
    EXPECT_FALSE(await(write_text(*a, part)).ec);
  EXPECT_FALSE(await(write_text(*b, "and back")).ec);
  std::string got;
  while (got.size() < 18) {
    auto r = await(read_text(*b, 4));  // small reads: the order holds across them
    ASSERT_FALSE(r.result.ec) << r.result.ec.message();
    ASSERT_GT(r.text.size(), 0u);
    got += r.text;
  }
  EXPECT_EQ(got, "hello memory world");
  EXPECT_EQ(await(read_text(*a, 64)).text, "and back");
}

TEST_F(MemoryStream, GatheredWriteArrivesConcatenated) {
  auto streams = make_memory_stream_pair(io.get_executor(), a_address, b_address);
  auto &a = streams.a, &b = streams.b;
  auto w = await(write_parts(*a, {"ab", "", "cde", "f"}));
  EXPECT_FALSE(w.ec);
  EXPECT_EQ(w.bytes, 6u);
  auto r = await(read_text(*b, 64));
  EXPECT_EQ(r.text, "abcdef");  // one read: the write buffered all of it at once
}

TEST_F(MemoryStream, ReadWaitsUntilBytesArrive) {
  auto streams = make_memory_stream_pair(io.get_executor(), a_address, b_address);
  auto &a = streams.a, &b = streams.b;
  auto r = start(read_text(*b, 64));
  settle();
  EXPECT_FALSE(r->has_value()) << "a read of an empty stream must wait";
  start(write_text(*a, "x"));
  ASSERT_TRUE(run_until([&] { return r->has_value(); }));
  EXPECT_FALSE((*r)->result.ec);
  EXPECT_EQ((*r)->text, "x");
}

TEST_F(MemoryStream, CloseGivesEofOnceBufferedBytesAreDrained) {
  auto streams = make_memory_stream_pair(io.get_executor(), a_address, b_address);
  auto &a = streams.a, &b = streams.b;
  EXPECT_FALSE(await(write_text(*a, "abc")).ec);
  a->close();
  auto first = await(read_text(*b, 2));
  EXPECT_EQ(first.text, "ab");
  EXPECT_EQ(await(read_text(*b, 64)).text, "c");
  EXPECT_EQ(await(read_text(*b, 64)).result.ec, asio::error::eof);
  EXPECT_EQ(await(read_text(*b, 64)).result.ec, asio::error::eof);  // and stays at EOF
  EXPECT_EQ(await(write_text(*b, "late")).ec, asio::error::broken_pipe);
  // The closed end fails at once, like a closed socket.
  EXPECT_EQ(await(read_text(*a, 64)).result.ec, asio::error::bad_descriptor);
  EXPECT_EQ(await(write_text(*a, "more")).ec, asio::error::bad_descriptor);
}

TEST_F(MemoryStream, CloseEndsPendingReadsOnBothEnds) {
  auto streams = make_memory_stream_pair(io.get_executor(), a_address, b_address);
  auto &a = streams.a, &b = streams.b;
  auto at_a = start(read_text(*a, 64));
  auto at_b = start(read_text(*b, 64));
  settle();
  ASSERT_FALSE(at_a->has_value());
  ASSERT_FALSE(at_b->has_value());
  a->close();
  ASSERT_TRUE(run_until([&] { return at_a->has_value() && at_b->has_value(); }));
  EXPECT_EQ((*at_a)->result.ec, asio::error::operation_aborted);
  EXPECT_EQ((*at_b)->result.ec, asio::error::eof);
}

TEST_F(MemoryStream, DestroyingAnEndClosesIt) {
  auto streams = make_memory_stream_pair(io.get_executor(), a_address, b_address);
  auto &a = streams.a, &b = streams.b;
  auto at_b = start(read_text(*b, 64));
  settle();
  a.reset();
  ASSERT_TRUE(run_until([&] { return at_b->has_value(); }));
  EXPECT_EQ((*at_b)->result.ec, asio::error::eof);
}

TEST_F(MemoryStream, BackPressureWithASmallCapacity) {
  auto streams = make_memory_stream_pair(io.get_executor(), a_address, b_address, 4);
  auto &a = streams.a, &b = streams.b;
  auto w = start(write_text(*a, "0123456789"));
  settle();
  EXPECT_FALSE(w->has_value()) << "10 bytes do not fit in 4";
  EXPECT_EQ(await(read_text(*b, 3)).text, "012");
  settle();
  EXPECT_FALSE(w->has_value()) << "3 bytes of room for the 6 left";
  EXPECT_EQ(await(read_text(*b, 64)).text, "3456");
  ASSERT_TRUE(run_until([&] { return w->has_value(); }));
  EXPECT_FALSE((*w)->ec);
  EXPECT_EQ((*w)->bytes, 10u);
  EXPECT_EQ(await(read_text(*b, 64)).text, "789");
}

TEST_F(MemoryStream, ClosingEitherEndEndsAWriteWaitingForRoom) {
  {
    auto streams = make_memory_stream_pair(io.get_executor(), a_address, b_address, 2);
    auto &a = streams.a, &b = streams.b;
    auto w = start(write_text(*a, "abcd"));
    settle();
    b->close();
    ASSERT_TRUE(run_until([&] { return w->has_value(); }));
    EXPECT_EQ((*w)->ec, asio::error::broken_pipe);
    EXPECT_EQ((*w)->bytes, 2u);
  }
  {
    auto streams = make_memory_stream_pair(io.get_executor(), a_address, b_address, 2);
    auto &a = streams.a, &b = streams.b;
    auto w = start(write_text(*a, "abcd"));
    settle();
    a->close();
    ASSERT_TRUE(run_until([&] { return w->has_value(); }));
    EXPECT_EQ((*w)->ec, asio::error::operation_aborted);
    EXPECT_EQ(await(read_text(*b, 64)).text, "ab");  // what was buffered is still delivered
    EXPECT_EQ(await(read_text(*b, 64)).result.ec, asio::error::eof);
  }
}

// The way peer_connection bounds its reads: the timer wins, the read is cancelled through the
// coroutine's cancellation slot and must complete promptly, leaving the stream usable.
TEST_F(MemoryStream, PendingReadIsCancelledByATimerAndLosesNothing) {
  auto streams = make_memory_stream_pair(io.get_executor(), a_address, b_address);
  auto &a = streams.a, &b = streams.b;
  auto race = [&]() -> asio::awaitable<std::size_t> {
    asio::steady_timer timer(io, 50ms);
    std::array<std::uint8_t, 16> buf{};
    auto r = co_await (b->read_some(buf) || timer.async_wait(tuple_awaitable));
    co_return r.index();
  };
  auto started = steady::now();
  auto winner = start(race());
  ASSERT_TRUE(run_until([&] { return winner->has_value(); }, 2s)) << "the read was not cancelled";
  EXPECT_EQ(**winner, 1u);
  EXPECT_LT(steady::now() - started, 1s);
  EXPECT_FALSE(await(write_text(*a, "after")).ec);
  EXPECT_EQ(await(read_text(*b, 64)).text, "after");  // a new read is allowed, sees every byte
}

TEST_F(MemoryStream, ReadThatCompletesFirstBeatsTheTimer) {
  auto streams = make_memory_stream_pair(io.get_executor(), a_address, b_address);
  auto &a = streams.a, &b = streams.b;
  auto race = [&]() -> asio::awaitable<std::string> {
    asio::steady_timer timer(io, 5s);
    std::array<std::uint8_t, 16> buf{};
    auto r = co_await (b->read_some(buf) || timer.async_wait(tuple_awaitable));
    if (r.index() != 0) co_return "timer";
    auto [ec, n] = std::get<0>(r);
    co_return ec ? ec.message() : std::string(buf.begin(), buf.begin() + static_cast<long>(n));
  };
  auto got = start(race());
  settle();
  start(write_text(*a, "data"));
  ASSERT_TRUE(run_until([&] { return got->has_value(); }, 2s));
  EXPECT_EQ(**got, "data");
}

// The slot path alone, so the cancelled read's own result is seen.
TEST_F(MemoryStream, CancellationSlotAbortsAPendingRead) {
  auto streams = make_memory_stream_pair(io.get_executor(), a_address, b_address);
  auto& b = streams.b;  // streams.a stays open, so the read waits
  asio::cancellation_signal signal;
  std::optional<read_outcome> got;
  asio::co_spawn(
      io, read_text(*b, 64),
      asio::bind_cancellation_slot(signal.slot(), [&](std::exception_ptr e, read_outcome r) {
        if (e) std::rethrow_exception(e);
        got = r;
      }));
  settle();
  ASSERT_FALSE(got);
  signal.emit(asio::cancellation_type::terminal);
  ASSERT_TRUE(run_until([&] { return got.has_value(); }, 2s));
  EXPECT_EQ(got->result.ec, asio::error::operation_aborted);
  EXPECT_EQ(got->result.bytes, 0u);
}

TEST_F(MemoryStream, PendingWriteIsCancelledByATimer) {
  auto streams = make_memory_stream_pair(io.get_executor(), a_address, b_address, 2);
  auto &a = streams.a, &b = streams.b;
  auto race = [&]() -> asio::awaitable<std::size_t> {
    asio::steady_timer timer(io, 50ms);
    std::string text = "abcd";
    asio::const_buffer buffer = asio::buffer(text);
    auto r = co_await (a->write(std::span(&buffer, 1)) || timer.async_wait(tuple_awaitable));
    co_return r.index();
  };
  auto winner = start(race());
  ASSERT_TRUE(run_until([&] { return winner->has_value(); }, 2s)) << "the write was not cancelled";
  EXPECT_EQ(**winner, 1u);
  EXPECT_EQ(await(read_text(*b, 64)).text, "ab");  // what fitted before the cancellation
  EXPECT_FALSE(await(write_text(*a, "ef")).ec);    // and the end still writes
  EXPECT_EQ(await(read_text(*b, 64)).text, "ef");
}

TEST_F(MemoryStream, DialerFollowsItsPlansInOrder) {
  memory_dialer dialer;
  auto target = address(9, 7000);
  auto far = dialer.add_pair(io.get_executor(), target, a_address);
  dialer.refuse(target, "no route to the test peer");
  auto ex = io.get_executor();
  auto first = await(dialer.dial(ex, target, 1s));
  ASSERT_TRUE(first.stream) << first.error;
  EXPECT_EQ(first.stream->remote(), target);
  EXPECT_EQ(far->remote(), a_address);
  EXPECT_EQ(await(dialer.dial(ex, target, 1s)).error, "no route to the test peer");
  auto unplanned = await(dialer.dial(ex, target, 1s));
  EXPECT_FALSE(unplanned.stream);
  EXPECT_EQ(unplanned.error, memory_dialer::refused_text());
  EXPECT_EQ(unplanned.error, "connect failed: Connection refused");
  dialer.hang(target);
  auto started = steady::now();
  EXPECT_EQ(await(dialer.dial(ex, target, 50ms)).error, "connect timed out after 50 ms");
  EXPECT_GE(steady::now() - started, 50ms);
  EXPECT_EQ(dialer.dials(), 4u);
}

// Peer connections over memory streams.

struct test_directory final : torrent_directory {
  std::map<sha1_hash, torrent_ref> torrents;
  void add(const torrent_ref& t) { torrents[t.info_hash] = t; }
  std::optional<torrent_ref> find(const sha1_digest& info_hash) const override {
    auto it = torrents.find(sha1_hash{info_hash});
    if (it == torrents.end()) return std::nullopt;
    return it->second;
  }
};

class PeerOverMemory : public MemoryStream {
 protected:
  // Runs `c`; the returned flag is set once run() has returned.
  std::shared_ptr<bool> run(const std::shared_ptr<peer_connection>& c) {
    auto finished = std::make_shared<bool>(false);
    asio::co_spawn(io, c->run(), [finished](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
      *finished = true;
    });
    return finished;
  }

  memory_dialer dialer;
  test_directory directory;
  peer_address seeder_address = address(1, 6881);
  peer_address leecher_address = address(2, 51413);
};

TEST_F(PeerOverMemory, HandshakeGreetingsAndMessagesFlowBothWays) {
  trace_log seed_trace, leech_trace;
  auto t = make_torrent(0xab, true);
  directory.add(t);
  auto seeder_end = dialer.add_pair(io.get_executor(), seeder_address, leecher_address);
  auto in = std::make_shared<peer_connection>(std::move(seeder_end), directory, quick_settings(),
                                              seed_trace.sink());
  t.we_are_seed = false;
  auto out = std::make_shared<peer_connection>(io.get_executor(), seeder_address, dialer, t,
                                               quick_settings(), leech_trace.sink());
  int in_ready = 0, out_ready = 0;
  in->on_ready = [&](peer_connection&) { ++in_ready; };
  out->on_ready = [&](peer_connection&) { ++out_ready; };
  std::vector<std::string> in_got, out_got;
  in->on_message = [&](peer_connection& c, const wire::message& m) {
    in_got.push_back(wire::describe(m, c.state().piece_count()));
  };
  out->on_message = [&](peer_connection& c, const wire::message& m) {
    out_got.push_back(wire::describe(m, c.state().piece_count()));
  };
  auto in_done = run(in);
  auto out_done = run(out);

  ASSERT_TRUE(run_until([&] {
    return in_ready == 1 && out_ready == 1 && out->state().pieces_known() &&
           out->remote_extensions() && in->state().pieces_known() && in->remote_extensions();
  })) << "handshake/greeting did not complete";
  EXPECT_EQ(dialer.dials(), 1u);
  EXPECT_TRUE(out->outgoing());
  EXPECT_FALSE(in->outgoing());
  EXPECT_EQ(in->remote(), leecher_address);
  EXPECT_EQ(out->remote(), seeder_address);
  EXPECT_TRUE(in->fast_enabled() && in->extensions_enabled());
  EXPECT_TRUE(out->state().peer_is_seed());  // have-all
  EXPECT_EQ(in->state().peer_piece_count(), 0u);
  EXPECT_EQ(out->remote_extensions()->client, "peerwire 0.1.0");
  EXPECT_TRUE(leech_trace.contains("<- have all"));
  EXPECT_TRUE(seed_trace.contains("<- have none"));
  EXPECT_TRUE(leech_trace.contains("-> handshake info-hash abab"));

  out->send(wire::interested{});
  ASSERT_TRUE(run_until([&] { return in->state().peer_interested; }));
  in->send(wire::unchoke{});
  ASSERT_TRUE(run_until([&] { return !out->state().peer_choking; }));
  EXPECT_EQ(in_got.back(), wire::describe(wire::interested{}, 10));
  EXPECT_EQ(out_got.back(), wire::describe(wire::unchoke{}, 10));

  out->close("test done");
  ASSERT_TRUE(run_until([&] { return *in_done && *out_done; }));
  EXPECT_EQ(out->close_reason(), "test done");
  EXPECT_EQ(in->close_reason(), "peer closed the connection");
}

TEST_F(PeerOverMemory, UnknownInfoHashIsRefused) {
  directory.add(make_torrent(0x01, true));
  auto other = make_torrent(0x02, false);
  auto in = std::make_shared<peer_connection>(
      dialer.add_pair(io.get_executor(), seeder_address, leecher_address), directory,
      quick_settings());
  auto out = std::make_shared<peer_connection>(io.get_executor(), seeder_address, dialer, other,
                                               quick_settings());
  auto in_done = run(in);
  auto out_done = run(out);
  ASSERT_TRUE(run_until([&] { return *in_done && *out_done; }));
  EXPECT_EQ(in->close_reason(), "unknown info-hash " + other.info_hash.hex());
  EXPECT_EQ(out->close_reason(), "peer closed the connection without answering the handshake");
  EXPECT_FALSE(in->handshake_done());
}

TEST_F(PeerOverMemory, SilentPeerTimesOutTheHandshake) {
  auto s = quick_settings();
  s.handshake_timeout = 200ms;
  auto silent = dialer.add_pair(io.get_executor(), seeder_address, leecher_address);
  auto out = std::make_shared<peer_connection>(io.get_executor(), seeder_address, dialer,
                                               make_torrent(0x05, false), s);
  auto started = steady::now();
  auto done = run(out);
  ASSERT_TRUE(run_until([&] { return *done; }, 3s));
  EXPECT_GE(steady::now() - started, 200ms);
  EXPECT_EQ(out->close_reason(), "handshake timed out after 200 ms (0 of 68 bytes received)");
  // The silent end saw our handshake, then the close.
  EXPECT_EQ(await(read_text(*silent, 1024)).result.bytes, 68u);
  EXPECT_EQ(await(read_text(*silent, 1024)).result.ec, asio::error::eof);
}

TEST_F(PeerOverMemory, IncomingHandshakeCutShortTimesOut) {
  auto t = make_torrent(0x06, true);
  directory.add(t);
  auto streams = make_memory_stream_pair(io.get_executor(), seeder_address, leecher_address);
  auto &ours = streams.a, &theirs = streams.b;
  auto s = quick_settings();
  s.handshake_timeout = 200ms;
  auto in = std::make_shared<peer_connection>(std::move(ours), directory, s);
  // Only the protocol string of a handshake: the info-hash never comes.
  wire::handshake h;
  h.info_hash = t.info_hash.bytes;
  std::vector<std::uint8_t> bytes;
  wire::encode_handshake(h, bytes);
  EXPECT_FALSE(await(write_text(*theirs, std::string(bytes.begin(), bytes.begin() + 20))).ec);
  auto done = run(in);
  ASSERT_TRUE(run_until([&] { return *done; }, 3s));
  EXPECT_EQ(in->close_reason(), "handshake timed out after 200 ms (20 of 68 bytes received)");
  EXPECT_EQ(await(read_text(*theirs, 1024)).result.ec, asio::error::eof);  // we answered nothing
}

TEST_F(PeerOverMemory, RefusedDialEndsWithTheDialersError) {
  dialer.refuse(seeder_address, "connect failed: no test peer here");
  auto out = std::make_shared<peer_connection>(io.get_executor(), seeder_address, dialer,
                                               make_torrent(0x07, false), quick_settings());
  auto done = run(out);
  ASSERT_TRUE(run_until([&] { return *done; }));
  EXPECT_EQ(out->close_reason(), "connect failed: no test peer here");
  EXPECT_EQ(dialer.dials(), 1u);
}

TEST_F(PeerOverMemory, DialThatHangsTimesOut) {
  dialer.hang(seeder_address);
  auto s = quick_settings();
  s.connect_timeout = 200ms;
  auto out = std::make_shared<peer_connection>(io.get_executor(), seeder_address, dialer,
                                               make_torrent(0x08, false), s);
  auto done = run(out);
  ASSERT_TRUE(run_until([&] { return *done; }, 3s));
  EXPECT_EQ(out->close_reason(), "connect timed out after 200 ms");
}

TEST_F(PeerOverMemory, CloseAbandonsADialInProgress) {
  dialer.hang(seeder_address);
  auto out = std::make_shared<peer_connection>(io.get_executor(), seeder_address, dialer,
                                               make_torrent(0x09, false), quick_settings());
  auto done = run(out);
  ASSERT_TRUE(run_until([&] { return dialer.dials() == 1; }));
  out->close("shutting down");
  ASSERT_TRUE(run_until([&] { return *done; }, 1s)) << "the dial was not cancelled";
  EXPECT_EQ(out->close_reason(), "shutting down");
}

}  // namespace
