// The trace's IO: a peer_host for one torrent that dials the given peers and/or listens,
// with the connections' own trace lines passed on, until they have all ended, the time is up
// or a signal arrives.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <fmt/format.h>

#include "peer_host.hpp"
#include "peerwire/trace.hpp"

namespace peerwire {

std::optional<trace_peer> resolve_trace_peer(const std::string& host, std::uint16_t port,
                                             std::string& error) {
  boost::asio::io_context io;
  boost::system::error_code ec;
  peer::tcp::resolver resolver(io);
  auto results = resolver.resolve(host, std::to_string(port), ec);
  if (ec || results.empty()) {
    error = ec ? ec.message() : "no address";
    return std::nullopt;
  }
  auto e = results.begin()->endpoint();
  return trace_peer{e.address().to_string(), e.port()};
}

trace_result run_trace(const trace_options& o, const trace_line_sink& sink) {
  using steady = std::chrono::steady_clock;
  boost::asio::io_context io;
  auto start = steady::now();
  auto print = [&](const std::string& peer_name, bool out, const std::string& text) {
    sink({std::chrono::duration<double>(steady::now() - start).count(), peer_name, out, text});
  };

  peer::connection_settings settings;
  settings.our_id = wire::random_peer_id();
  settings.connect_timeout = o.timeout;
  settings.handshake_timeout = settings.connect_timeout;
  peer::peer_host host(io.get_executor(), settings, print);
  peer::torrent_ref torrent;
  torrent.info_hash = o.info_hash;
  torrent.piece_count = o.piece_count;
  torrent.piece_length = o.piece_length;
  torrent.total_size = o.total_size;
  host.add_torrent(torrent);
  if (o.interested) {
    host.on_connection = [](peer::peer_connection& c) {
      // Interest is declared once the peer has said what it has, as a real downloader would.
      c.on_message = [sent = false](peer::peer_connection& self, const wire::message&) mutable {
        if (!sent && self.state().pieces_known()) {
          sent = true;
          self.send(wire::interested{});
        }
      };
    };
  }

  std::vector<peer::tcp::endpoint> targets;
  for (const auto& p : o.peers) {
    boost::system::error_code ec;
    auto address = boost::asio::ip::make_address(p.address, ec);
    if (ec) return {trace_status::bad_peer, p.address + " is not an IP address"};
    targets.emplace_back(address, p.port);
  }
  if (o.listen) {
    peer::listen_options lo;
    boost::system::error_code ec;
    lo.address = boost::asio::ip::make_address(o.bind, ec);
    if (ec) return {trace_status::bad_bind, {}};
    lo.port = o.port;
    auto port = host.listen(lo);
    if (!port) return {trace_status::listen_failed, port.error().describe()};
    print(fmt::format("{}:{}", o.bind, *port), false,
          "listening for info-hash " + o.info_hash.hex());
  }
  for (const auto& e : targets) host.connect(e, o.info_hash);

  bool stopping = false;
  boost::asio::steady_timer limit(io);
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    stopping = true;
    host.shutdown("interrupted");
    limit.cancel();
  });
  limit.expires_after(o.duration);
  limit.async_wait([&](const boost::system::error_code& ec) {
    if (ec) return;
    host.shutdown("trace time is over");
    signals.cancel();
  });
  // Run until every connection has ended (and, when not listening, no more can come), the
  // time limit passes, or the user interrupts.
  host.on_closed = [&](peer::peer_connection&) {
    if (!o.listen && host.connections().empty()) {
      limit.cancel();
      signals.cancel();
    }
  };
  io.run();
  return {stopping ? trace_status::interrupted : trace_status::finished, {}};
}

}  // namespace peerwire
