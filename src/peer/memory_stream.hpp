// An in-memory duplex peer_stream and a dialer that hands such streams out: peer connections
// run over them in tests with no sockets, so a test decides exactly what each side sees and
// when (a peer that never answers, a dial that is refused, a reader that falls behind).
//
// Both ends of a pair and everything waiting on them belong to one thread (the network
// thread's io_context, as for peer connections): the ends share plain state, and waiting is
// done with timers on the executor, never with threads or polling.
#pragma once

#include <cstddef>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <string>

#include "peer_stream.hpp"

namespace peerwire::peer {

// The default capacity: writes never wait for the reader.
inline constexpr std::size_t unbounded_capacity = std::numeric_limits<std::size_t>::max();

struct memory_stream_pair {
  std::unique_ptr<peer_stream> a;  // the end at address a: its remote() is b
  std::unique_ptr<peer_stream> b;  // the end at address b: its remote() is a
};

// Two connected ends. What one end writes the other reads, in order.
//
// - write() completes once all its bytes are buffered for the other end. With a `capacity`
//   (bytes buffered per direction), a write that does not fit waits until the reader has
//   made room: back-pressure, as a full socket buffer gives.
// - read_some() returns what is buffered (up to the span's size) or waits until bytes arrive
//   or the other end closes; after a close it drains what was buffered, then gives
//   asio::error::eof.
// - close() aborts this end's pending read and write (operation_aborted); later calls on this
//   end fail at once (bad_descriptor, as a closed socket does); writes from the other end fail
//   with broken_pipe. Destroying an end closes it.
// - A pending read or write is cancellable through the awaiting coroutine's cancellation slot
//   (so `read_some(buf) || timer.async_wait(...)` works): it completes with operation_aborted
//   and a cancelled read consumes nothing.
// - One read and one write at a time per end; a second concurrent one fails with
//   already_started.
memory_stream_pair make_memory_stream_pair(boost::asio::any_io_executor ex, peer_address a,
                                           peer_address b,
                                           std::size_t capacity = unbounded_capacity);

// A dialer for tests: each dial to an address takes the next plan registered for it (a
// stream, a refusal, or a hang until the dial's timeout). An address with no plan left is
// refused.
class memory_dialer final : public dialer {
 public:
  // The next dial to `to` succeeds with `stream` (usually the end of a pair whose remote()
  // is `to`).
  void add(const peer_address& to, std::unique_ptr<peer_stream> stream);
  // Makes a pair between `from` (the dialling side) and `to`, registers the dialling end for
  // the next dial to `to`, and returns the other end (remote() == from), to give to an
  // incoming peer_connection or to script by hand.
  std::unique_ptr<peer_stream> add_pair(boost::asio::any_io_executor ex, const peer_address& to,
                                        const peer_address& from,
                                        std::size_t capacity = unbounded_capacity);
  // The next dial to `to` fails with `error` (the text the connection closes with).
  void refuse(const peer_address& to, std::string error = refused_text());
  // The next dial to `to` never connects: it fails when its timeout passes, with the text
  // tcp_dialer gives then, or when it is cancelled.
  void hang(const peer_address& to);

  boost::asio::awaitable<outcome> dial(boost::asio::any_io_executor ex, const peer_address& to,
                                       std::chrono::milliseconds timeout) override;

  // How many dials were made (to any address).
  std::size_t dials() const { return dials_; }
  // What tcp_dialer says when nothing listens: "connect failed: Connection refused".
  static std::string refused_text();

 private:
  struct plan {
    enum class kind { stream, refuse, hang } what = kind::refuse;
    std::unique_ptr<peer_stream> stream;
    std::string error;
  };
  std::map<peer_address, std::deque<plan>> plans_;
  std::size_t dials_ = 0;
};

}  // namespace peerwire::peer
