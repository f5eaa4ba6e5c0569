// TCP: the first peer_stream, and the dialer that makes it.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include "peer_stream.hpp"

namespace peerwire::peer {

class tcp_stream final : public peer_stream {
 public:
  // Takes a connected socket (accepted or dialled); sets TCP_NODELAY.
  explicit tcp_stream(boost::asio::ip::tcp::socket socket);

  boost::asio::awaitable<io_result> read_some(std::span<std::uint8_t> into) override;
  boost::asio::awaitable<io_result> write(
      std::span<const boost::asio::const_buffer> buffers) override;
  void close() override;
  const peer_address& remote() const override { return remote_; }
  boost::asio::any_io_executor executor() override { return socket_.get_executor(); }

 private:
  boost::asio::ip::tcp::socket socket_;
  peer_address remote_;
};

class tcp_dialer final : public dialer {
 public:
  boost::asio::awaitable<outcome> dial(boost::asio::any_io_executor ex, const peer_address& to,
                                       std::chrono::milliseconds timeout) override;
};

}  // namespace peerwire::peer
