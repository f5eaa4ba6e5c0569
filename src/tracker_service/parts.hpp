// Internal to tracker_service: the pieces serve() puts together.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <cstdint>

#include "peerwire/tracker_service.hpp"

namespace peerwire::tracker_service::detail {

// What the loops share: the server, the options, and a few counters. Lives on serve()'s
// stack; every coroutine using it ends before serve() returns (io_context destroyed first).
struct shared_state {
  tracker_server::server& srv;
  const service_options& opt;
  std::uint64_t requests = 0;
  std::size_t connections = 0;
  bool stopping = false;
};

// v4-mapped IPv6 addresses become IPv4, so one client is one peer whichever socket it used.
tracker_server::endpoint to_endpoint(const boost::asio::ip::address& a, std::uint16_t port);

boost::asio::awaitable<void> udp_loop(boost::asio::ip::udp::socket& sock, shared_state& st);
boost::asio::awaitable<void> accept_loop(boost::asio::ip::tcp::acceptor& acc, shared_state& st);

}  // namespace peerwire::tracker_service::detail
