// The peers side of a session: one listening port for every torrent, outgoing connections,
// and the set of live connections. Torrent logic (picking, choking) will sit on top of this.
#pragma once

#include <map>
#include <memory>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

#include "peer_connection.hpp"
#include "peerwire/result.hpp"
#include "tcp_stream.hpp"

namespace peerwire::peer {

using tcp = asio::ip::tcp;

struct listen_options {
  asio::ip::address address = asio::ip::address_v4::loopback();
  std::uint16_t port = 0;              // exactly this port when non-zero
  std::uint16_t first_default = 6881;  // otherwise first..first+count-1, then any free port
  std::uint16_t default_count = 9;
};

class peer_host : public torrent_directory {
 public:
  // `directory`, when given, answers incoming info-hash lookups instead of add_torrent()'s map
  // (the session's torrents, with their current pieces).
  peer_host(asio::any_io_executor ex, connection_settings settings, trace_sink trace = {},
            const torrent_directory* directory = nullptr);
  ~peer_host() override;

  void add_torrent(torrent_ref t);
  std::optional<torrent_ref> find(const sha1_digest& info_hash) const override;

  // Opens the listening socket and starts accepting. Returns the port it got.
  result<std::uint16_t> listen(const listen_options& options);
  std::uint16_t listen_port() const { return port_; }

  // Dials a peer for a torrent added before (or known to the directory); null when the
  // torrent is unknown.
  std::shared_ptr<peer_connection> connect(const peer_address& remote, const sha1_hash& info_hash);
  std::shared_ptr<peer_connection> connect(const tcp::endpoint& remote, const sha1_hash& info_hash);
  const connection_settings& settings() const { return settings_; }
  // Connections (both directions) beyond which incoming sockets are closed unanswered.
  void set_max_connections(std::size_t n) { max_connections_ = n; }

  // Stops accepting and closes every connection.
  void shutdown(const std::string& reason);

  const std::vector<std::shared_ptr<peer_connection>>& connections() const { return connections_; }

  // Hooks for the owner (and tests): a connection started / ended.
  std::function<void(peer_connection&)> on_connection;
  std::function<void(peer_connection&)> on_closed;

 private:
  asio::awaitable<void> accept_loop();
  void start(std::shared_ptr<peer_connection> c);

  asio::any_io_executor ex_;
  connection_settings settings_;
  trace_sink trace_;
  tcp::acceptor acceptor_;
  tcp_dialer dialer_;  // outgoing streams (uTP and encryption will choose here)
  std::uint16_t port_ = 0;
  std::map<sha1_hash, torrent_ref> torrents_;
  std::vector<std::shared_ptr<peer_connection>> connections_;
  bool stopping_ = false;
  const torrent_directory* directory_ = nullptr;
  std::size_t max_connections_ = 500;
};

}  // namespace peerwire::peer
