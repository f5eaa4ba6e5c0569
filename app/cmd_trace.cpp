// `peerwire trace`: connect to peers and/or accept their connections for one torrent, and log
// every message in and out, one per line. `probe` answers "does it handshake"; this shows the
// conversation that follows.
#include <chrono>
#include <cstdio>

#include <fmt/format.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/json.hpp>

#include "commands.hpp"
#include "exit_codes.hpp"
#include "peer_address.hpp"
#include "peer_host.hpp"
#include "text.hpp"
#include "torrent_source.hpp"

namespace peerwire::app {
namespace {

using steady = std::chrono::steady_clock;

// The torrent to trace, from exactly one of: .torrent file, magnet link, --info-hash.
std::optional<peer::torrent_ref> torrent_from(const trace_cli_options& opt, int& exit_code) {
  torrent_source_options so;
  so.no_v1_message = "invalid magnet link: no v1 (btih) info-hash";
  auto loaded = load_torrent(opt.torrent, opt.info_hash, so, exit_code);
  if (!loaded) return std::nullopt;
  peer::torrent_ref t;
  t.info_hash = *loaded->info_hash;
  if (loaded->torrent) {
    const metainfo& m = *loaded->torrent;
    t.piece_count = static_cast<std::uint32_t>(m.piece_count());
    t.piece_length = static_cast<std::uint32_t>(m.piece_length);
    t.total_size = static_cast<std::uint64_t>(m.total_size);
  }
  return t;
}

}  // namespace

int run_trace(const trace_cli_options& opt) {
  if (!exactly_one_source(opt.torrent, opt.info_hash)) return exit_usage;
  if (opt.peers.empty() && !opt.listen) {
    std::fprintf(stderr, "peerwire: nothing to trace: give --peer HOST:PORT and/or --listen\n");
    return exit_usage;
  }
  int code = exit_ok;
  auto torrent = torrent_from(opt, code);
  if (!torrent) return code;

  boost::asio::io_context io;
  std::vector<peer::tcp::endpoint> targets;
  for (const auto& p : opt.peers) {
    std::string host;
    std::uint16_t port = 0;
    if (!split_host_port(p, host, port)) {
      std::fprintf(stderr, "peerwire: --peer '%s' is not HOST:PORT with a port from 1 to 65535\n",
                   printable(p).c_str());
      return exit_usage;
    }
    boost::system::error_code ec;
    peer::tcp::resolver resolver(io);
    auto results = resolver.resolve(host, std::to_string(port), ec);
    if (ec || results.empty()) {
      std::fprintf(stderr, "peerwire: cannot resolve --peer '%s': %s\n", printable(p).c_str(),
                   ec ? ec.message().c_str() : "no address");
      return exit_usage;
    }
    targets.push_back(results.begin()->endpoint());
  }

  auto start = steady::now();
  auto print = [&](const std::string& peer_name, bool out, const std::string& text) {
    double t = std::chrono::duration<double>(steady::now() - start).count();
    if (opt.json) {
      boost::json::object o{
          {"t", t}, {"peer", peer_name}, {"dir", out ? "out" : "in"}, {"text", valid_utf8(text)}};
      std::string line = json_text(o);
      std::fwrite(line.data(), 1, line.size(), stdout);
    } else {
      std::string line =
          fmt::format("{:8.3f}  {:<21} {} {}\n", t, peer_name, out ? "->" : "<-", printable(text));
      std::fwrite(line.data(), 1, line.size(), stdout);
    }
    std::fflush(stdout);
  };

  peer::connection_settings settings;
  settings.our_id = wire::random_peer_id();
  settings.connect_timeout = std::chrono::milliseconds(static_cast<long>(opt.timeout * 1000));
  settings.handshake_timeout = settings.connect_timeout;
  peer::peer_host host(io.get_executor(), settings, print);
  host.add_torrent(*torrent);
  if (opt.interested) {
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

  if (opt.listen) {
    peer::listen_options lo;
    boost::system::error_code ec;
    lo.address = boost::asio::ip::make_address(opt.bind, ec);
    if (ec) {
      std::fprintf(stderr, "peerwire: --bind '%s' is not an IP address\n",
                   printable(opt.bind).c_str());
      return exit_usage;
    }
    lo.port = opt.port;
    auto port = host.listen(lo);
    if (!port) {
      std::fprintf(stderr, "peerwire: %s\n", port.error().describe().c_str());
      return exit_io;
    }
    print(fmt::format("{}:{}", opt.bind, *port), false,
          "listening for info-hash " + torrent->info_hash.hex());
  }
  for (const auto& e : targets) host.connect(e, torrent->info_hash);

  bool stopping = false;
  boost::asio::steady_timer limit(io);
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    stopping = true;
    host.shutdown("interrupted");
    limit.cancel();
  });
  limit.expires_after(std::chrono::milliseconds(static_cast<long>(opt.duration * 1000)));
  limit.async_wait([&](const boost::system::error_code& ec) {
    if (ec) return;
    host.shutdown("trace time is over");
    signals.cancel();
  });
  // Run until every connection has ended (and, when not listening, no more can come), the
  // time limit passes, or the user interrupts.
  host.on_closed = [&](peer::peer_connection&) {
    if (!opt.listen && host.connections().empty()) {
      limit.cancel();
      signals.cancel();
    }
  };
  io.run();
  return stopping ? exit_interrupted : exit_ok;
}

}  // namespace peerwire::app
