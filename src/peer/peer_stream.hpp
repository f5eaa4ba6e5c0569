// The byte stream under a peer connection. The message loop reads and writes through this and
// does not know what carries the bytes: TCP now; a uTP socket and an RC4 filter (MSE) over
// either are the next implementations, and an in-memory pair serves tests.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <span>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/system/error_code.hpp>

#include "peerwire/address.hpp"

namespace peerwire::peer {

struct io_result {
  boost::system::error_code ec;  // boost::asio::error::eof when the peer closed cleanly
  std::size_t bytes = 0;
};

class peer_stream {
 public:
  virtual ~peer_stream() = default;

  // Reads at least one byte into `into` (or fails). Cancellable through the awaiting
  // coroutine's cancellation slot (the awaitable operators use it for deadlines).
  virtual boost::asio::awaitable<io_result> read_some(std::span<std::uint8_t> into) = 0;
  // Writes every byte of `buffers`, in order, or fails. The buffers may be shared read-only
  // memory (blocks sent straight from the read cache to many peers): a stream that must
  // transform bytes, as the RC4 filter will, copies them into its own buffer first and never
  // writes into these.
  virtual boost::asio::awaitable<io_result> write(
      std::span<const boost::asio::const_buffer> buffers) = 0;
  // Ends the stream: pending reads and writes complete with an error soon after.
  virtual void close() = 0;

  virtual const peer_address& remote() const = 0;
  transport kind() const { return remote().kind; }
  virtual boost::asio::any_io_executor executor() = 0;
};

// Opens streams to peers. Kept apart from the connection, so the choice of transport (uTP
// first, then TCP) and of encryption is the dialer's, and the message loop is the same for
// every stream it returns.
class dialer {
 public:
  struct outcome {
    std::unique_ptr<peer_stream> stream;  // null on failure, with `error` saying why
    std::string error;
  };
  virtual ~dialer() = default;
  // Connects to `to` within `timeout`. Cancellable like peer_stream::read_some.
  virtual boost::asio::awaitable<outcome> dial(boost::asio::any_io_executor ex,
                                               const peer_address& to,
                                               std::chrono::milliseconds timeout) = 0;
};

}  // namespace peerwire::peer
