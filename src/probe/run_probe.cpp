// The probe's IO: one straight-line coroutine (resolve, connect, handshake, watch), each step
// raced against a timer so no step can hang. Everything it learns goes into probe_report;
// explaining it is verdict.cpp's job.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <fmt/format.h>

#include "peerwire/probe.hpp"
#include "peerwire/wire.hpp"

namespace peerwire {
namespace {

namespace asio = boost::asio;
using asio::awaitable;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
using steady = std::chrono::steady_clock;
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

// Bytes of the reply kept for display when it is not a valid handshake.
constexpr std::size_t max_shown_reply = 256;
constexpr std::size_t max_events = 200;

std::chrono::milliseconds since(steady::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - t);
}

connect_outcome classify(const boost::system::error_code& ec) {
  namespace err = asio::error;
  if (ec == err::connection_refused) return connect_outcome::refused;
  if (ec == err::timed_out) return connect_outcome::timed_out;
  if (ec == err::network_unreachable || ec == err::host_unreachable)
    return connect_outcome::unreachable;
  return connect_outcome::failed;
}

class prober {
 public:
  prober(const probe_options& o, probe_report& r) : o_(o), r_(r) {}

  awaitable<void> run() {
    auto ex = co_await asio::this_coro::executor;
    tcp::socket socket(ex);
    asio::steady_timer timer(ex);
    if (!co_await connect(socket, timer)) co_return;
    connected_at_ = steady::now();
    if (!co_await exchange_handshakes(socket, timer)) co_return;
    co_await watch(socket, timer);
  }

 private:
  awaitable<bool> connect(tcp::socket& socket, asio::steady_timer& timer) {
    auto ex = co_await asio::this_coro::executor;
    tcp::resolver resolver(ex);
    timer.expires_after(o_.timeout);
    auto resolved =
        co_await (resolver.async_resolve(o_.host, std::to_string(o_.port), tuple_awaitable) ||
                  timer.async_wait(tuple_awaitable));
    if (resolved.index() == 1) {
      r_.connect = connect_outcome::resolve_failed;
      r_.connect_error = "name lookup timed out";
      co_return false;
    }
    auto [resolve_ec, endpoints] = std::get<0>(resolved);
    if (resolve_ec) {
      r_.connect = connect_outcome::resolve_failed;
      r_.connect_error = resolve_ec.message();
      co_return false;
    }
    r_.address = endpoints.begin()->endpoint().address().to_string();

    auto start = steady::now();
    timer.expires_after(o_.timeout);
    auto connected = co_await (asio::async_connect(socket, endpoints, tuple_awaitable) ||
                               timer.async_wait(tuple_awaitable));
    r_.connect_time = since(start);
    if (connected.index() == 1) {
      r_.connect = connect_outcome::timed_out;
      r_.connect_error = fmt::format("no answer within {} ms", o_.timeout.count());
      co_return false;
    }
    auto [ec, endpoint] = std::get<0>(connected);
    if (ec) {
      r_.connect = classify(ec);
      r_.connect_error = ec.message();
      co_return false;
    }
    r_.address = endpoint.address().to_string();
    r_.connect = connect_outcome::ok;
    co_return true;
  }

  // Reads once with a deadline. Returns bytes read, 0 on EOF, -1 on timeout, -2 on error.
  awaitable<long> read_some(tcp::socket& socket, asio::steady_timer& timer,
                            steady::time_point deadline) {
    timer.expires_at(deadline);
    auto got = co_await (socket.async_read_some(asio::buffer(buf_), tuple_awaitable) ||
                         timer.async_wait(tuple_awaitable));
    if (got.index() == 1) co_return -1;
    auto [ec, n] = std::get<0>(got);
    if (ec == asio::error::eof) co_return 0;
    if (ec) {
      read_error_ = ec.message();
      co_return -2;
    }
    co_return static_cast<long>(n);
  }

  awaitable<bool> send(tcp::socket& socket, asio::steady_timer& timer,
                       const std::vector<std::uint8_t>& bytes) {
    timer.expires_after(o_.timeout);
    auto sent = co_await (asio::async_write(socket, asio::buffer(bytes), tuple_awaitable) ||
                          timer.async_wait(tuple_awaitable));
    if (sent.index() == 1) {
      read_error_ = "timed out sending";
      co_return false;
    }
    auto [ec, n] = std::get<0>(sent);
    if (ec) read_error_ = ec.message();
    co_return !ec;
  }

  void add_event(bool outgoing, std::string text) {
    if (r_.events.size() < max_events)
      r_.events.push_back({since(connected_at_), outgoing, std::move(text)});
  }

  awaitable<bool> exchange_handshakes(tcp::socket& socket, asio::steady_timer& timer) {
    wire::handshake ours;
    ours.reserved = wire::make_reserved({.extension_protocol = true, .fast = true});
    ours.info_hash = o_.info_hash.bytes;
    ours.id = o_.peer_id;
    wire::encode_handshake(ours, r_.sent_handshake);
    if (!co_await send(socket, timer, r_.sent_handshake)) {
      r_.handshake = handshake_outcome::reset;
      r_.connect_error = read_error_;
      co_return false;
    }

    wire::handshake_decoder decoder;
    auto deadline = steady::now() + o_.timeout;
    for (;;) {
      long n = co_await read_some(socket, timer, deadline);
      r_.reply_time = since(connected_at_);  // when the reply, or its failure, happened
      if (n == -1) {
        r_.handshake = handshake_outcome::timed_out;
        co_return false;
      }
      if (n == 0) {
        r_.handshake = r_.received.empty() ? handshake_outcome::closed_silently
                                           : handshake_outcome::closed_partial;
        co_return false;
      }
      if (n < 0) {
        r_.handshake = handshake_outcome::reset;
        r_.connect_error = read_error_;
        co_return false;
      }
      std::span<const std::uint8_t> chunk(buf_.data(), static_cast<std::size_t>(n));
      std::size_t keep =
          std::min(chunk.size(), max_shown_reply - std::min(max_shown_reply, r_.received.size()));
      r_.received.insert(r_.received.end(), chunk.begin(),
                         chunk.begin() + static_cast<std::ptrdiff_t>(keep));
      decoder.feed(chunk);
      for (;;) {
        auto stage = decoder.next();
        if (stage == wire::handshake_stage::need_more) break;
        if (stage == wire::handshake_stage::info_hash) continue;
        if (stage == wire::handshake_stage::error) {
          r_.handshake = handshake_outcome::bad_protocol;
          r_.handshake_error = decoder.error().describe();
          co_return false;
        }
        // complete
        r_.reply_time = since(connected_at_);
        r_.received.resize(std::min(r_.received.size(), wire::handshake_size));
        const wire::handshake& reply = decoder.get();
        r_.reserved = reply.reserved;
        std::copy(reply.info_hash.begin(), reply.info_hash.end(), r_.their_info_hash.bytes.begin());
        r_.their_peer_id = reply.id;
        r_.client = wire::describe_peer_id(reply.id);
        auto check = wire::check_reply(reply, o_.info_hash.bytes, o_.peer_id, std::nullopt);
        if (check == wire::handshake_check::info_hash_mismatch) {
          r_.handshake = handshake_outcome::wrong_info_hash;
          co_return false;
        }
        r_.handshake = handshake_outcome::complete;
        if (check == wire::handshake_check::self_connection) {
          r_.same_peer_id_as_ours = true;
          co_return false;
        }
        leftover_.assign(decoder.remaining().begin(), decoder.remaining().end());
        co_return true;
      }
    }
  }

  // Sends what a polite peer sends after the handshake, then records what the peer says.
  awaitable<void> watch(tcp::socket& socket, asio::steady_timer& timer) {
    auto theirs = wire::decode_reserved(r_.reserved);
    wire::decoder_config cfg;
    if (o_.piece_count && o_.piece_length > 0 && o_.total_size > 0) {
      cfg = wire::decoder_config::for_torrent(static_cast<std::uint32_t>(o_.piece_length),
                                              static_cast<std::uint64_t>(o_.total_size));
    }
    cfg.fast_enabled = theirs.fast;
    cfg.extensions_enabled = theirs.extension_protocol;
    r_.piece_count = o_.piece_count;

    std::vector<std::uint8_t> out;
    if (theirs.fast) {
      // BEP 6: with the fast extension one of have-all/have-none/bitfield must come first.
      wire::encode(wire::have_none{}, out);
      add_event(true, "have none");
    }
    if (theirs.extension_protocol) {
      ext::handshake ours;
      ours.client = "peerwire 0.1.0 (probe)";
      ours.reqq = 250;
      std::string payload = ext::encode_handshake(ours);
      wire::extended msg{
          0, std::span(reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size())};
      wire::encode(msg, out);
      add_event(true, fmt::format("extended handshake ({} bytes)", payload.size()));
    }
    if (!out.empty() && !co_await send(socket, timer, out)) {
      r_.closed_reason = "could not send: " + read_error_;
      co_return;
    }

    wire::message_decoder decoder(cfg);
    decoder.feed(leftover_);
    bool got_pieces = false;
    bool got_ext = !theirs.extension_protocol;
    auto deadline = steady::now() + o_.watch_time;
    for (;;) {
      // Drain every complete message before reading more.
      for (;;) {
        auto res = decoder.next();
        if (std::holds_alternative<wire::need_more>(res)) break;
        if (auto* err = std::get_if<wire::decode_error>(&res)) {
          r_.protocol_error = true;
          r_.closed_reason = "protocol error: " + err->reason;
          add_event(false, "invalid: " + err->reason);
          co_return;
        }
        const auto& msg = std::get<wire::message>(res);
        on_message(msg, got_pieces, got_ext);
      }
      if (got_pieces && got_ext) {
        r_.closed_reason = "seen everything a peer announces";
        co_return;
      }
      long n = co_await read_some(socket, timer, deadline);
      if (n == -1) {
        r_.closed_reason = fmt::format("watched for {} ms", o_.watch_time.count());
        co_return;
      }
      if (n == 0) {
        r_.closed_reason =
            fmt::format("peer closed the connection after {} ms", since(connected_at_).count());
        co_return;
      }
      if (n < 0) {
        r_.closed_reason = "connection error: " + read_error_;
        co_return;
      }
      decoder.feed(std::span<const std::uint8_t>(buf_.data(), static_cast<std::size_t>(n)));
    }
  }

  void on_message(const wire::message& msg, bool& got_pieces, bool& got_ext) {
    auto count = static_cast<std::uint32_t>(o_.piece_count.value_or(0));
    if (const auto* e = std::get_if<wire::extended>(&msg); e && e->id == 0) {
      got_ext = true;
      auto parsed = ext::parse_handshake(e->payload);
      if (parsed) {
        r_.extension_handshake = *parsed;
      } else {
        r_.extension_error = parsed.error().describe();
      }
    } else if (const auto* b = std::get_if<wire::bitfield>(&msg)) {
      got_pieces = true;
      r_.pieces = pieces_kind::bitfield;
      r_.pieces_have = wire::count_pieces(b->bits, count);
      r_.pieces_bits = b->bits.size() * 8;
    } else if (std::holds_alternative<wire::have_all>(msg)) {
      got_pieces = true;
      r_.pieces = pieces_kind::have_all;
    } else if (std::holds_alternative<wire::have_none>(msg)) {
      got_pieces = true;
      r_.pieces = pieces_kind::have_none;
    } else if (std::holds_alternative<wire::have>(msg)) {
      if (r_.pieces == pieces_kind::unknown || r_.pieces == pieces_kind::have_none)
        r_.pieces = pieces_kind::bitfield;
      if (r_.pieces == pieces_kind::bitfield) ++r_.pieces_have;
    }
    add_event(false, wire::describe(msg, count));
  }

  const probe_options& o_;
  probe_report& r_;
  steady::time_point connected_at_ = steady::now();
  std::array<std::uint8_t, 16384> buf_{};
  std::vector<std::uint8_t> leftover_;
  std::string read_error_;
};

}  // namespace

probe_report run_probe(const probe_options& options) {
  probe_report report;
  report.host = options.host;
  report.port = options.port;
  asio::io_context io;
  prober p(options, report);
  asio::co_spawn(io, p.run(), [&report](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      report.closed_reason = std::string("internal error: ") + ex.what();
    }
  });
  io.run();
  return report;
}

}  // namespace peerwire
