#include "peer_host.hpp"

#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include "address_io.hpp"

namespace peerwire::peer {

peer_host::peer_host(asio::any_io_executor ex, connection_settings settings, trace_sink trace,
                     const torrent_directory* directory)
    : ex_(ex),
      settings_(std::move(settings)),
      trace_(std::move(trace)),
      acceptor_(ex),
      directory_(directory) {}

peer_host::~peer_host() {
  shutdown("session ended");
}

void peer_host::add_torrent(torrent_ref t) {
  auto key = t.info_hash;
  torrents_.insert_or_assign(key, std::move(t));
}

std::optional<torrent_ref> peer_host::find(const sha1_digest& info_hash) const {
  if (directory_ != nullptr) return directory_->find(info_hash);
  auto it = torrents_.find(sha1_hash{info_hash});
  if (it == torrents_.end()) return std::nullopt;
  return it->second;
}

namespace {

bool try_bind(tcp::acceptor& a, const tcp::endpoint& e, boost::system::error_code& ec) {
  if (a.is_open()) a.close(ec);
  a.open(e.protocol(), ec);
  if (ec) return false;
  a.set_option(tcp::acceptor::reuse_address(true), ec);
  a.bind(e, ec);
  if (ec) return false;
  a.listen(asio::socket_base::max_listen_connections, ec);
  return !ec;
}

}  // namespace

result<std::uint16_t> peer_host::listen(const listen_options& o) {
  boost::system::error_code ec;
  std::vector<std::uint16_t> candidates;
  if (o.port != 0) {
    candidates.push_back(o.port);
  } else {
    for (std::uint16_t i = 0; i < o.default_count; ++i)
      candidates.push_back(static_cast<std::uint16_t>(o.first_default + i));
    candidates.push_back(0);  // any free port
  }
  std::string last_error;
  for (auto port : candidates) {
    if (try_bind(acceptor_, tcp::endpoint(o.address, port), ec)) {
      port_ = acceptor_.local_endpoint().port();
      settings_.listen_port = port_;
      asio::co_spawn(ex_, accept_loop(), asio::detached);
      return port_;
    }
    last_error =
        fmt::format("cannot listen on {} port {}: {}", o.address.to_string(), port, ec.message());
  }
  return make_error(last_error);
}

asio::awaitable<void> peer_host::accept_loop() {
  while (!stopping_ && acceptor_.is_open()) {
    auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
    if (stopping_ || ec == asio::error::operation_aborted) co_return;
    if (ec) {
      // Out of file descriptors and the like: pause instead of spinning on the error.
      asio::steady_timer pause(ex_, std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    if (connections_.size() >= max_connections_) {
      boost::system::error_code ignored;
      socket.close(ignored);  // over the limit before any handshake: refuse cheaply
      continue;
    }
    start(std::make_shared<peer_connection>(std::make_unique<tcp_stream>(std::move(socket)), *this,
                                            settings_, trace_));
  }
}

std::shared_ptr<peer_connection> peer_host::connect(const peer_address& remote,
                                                    const sha1_hash& info_hash) {
  auto t = find(info_hash.bytes);
  if (!t) return nullptr;
  auto c =
      std::make_shared<peer_connection>(ex_, remote, dialer_, std::move(*t), settings_, trace_);
  start(c);
  return c;
}

std::shared_ptr<peer_connection> peer_host::connect(const tcp::endpoint& remote,
                                                    const sha1_hash& info_hash) {
  return connect(from_endpoint(remote), info_hash);
}

void peer_host::start(std::shared_ptr<peer_connection> c) {
  connections_.push_back(c);
  if (on_connection) on_connection(*c);
  asio::co_spawn(ex_, c->run(), [this, c](std::exception_ptr) {
    // run() catches its own errors; this only unregisters the finished connection.
    connections_.erase(std::remove(connections_.begin(), connections_.end(), c),
                       connections_.end());
    if (on_closed) on_closed(*c);
  });
}

void peer_host::shutdown(const std::string& reason) {
  if (stopping_) return;
  stopping_ = true;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  auto copy = connections_;
  for (auto& c : copy) c->close(reason);
}

}  // namespace peerwire::peer
