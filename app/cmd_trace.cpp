// `peerwire trace`: connect to peers and/or accept their connections for one torrent, and log
// every message in and out, one per line. The networking is the library's (peerwire/trace.hpp);
// this file checks the arguments and formats the lines.
#include <chrono>
#include <cstdio>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "commands.hpp"
#include "exit_codes.hpp"
#include "peer_address.hpp"
#include "peerwire/trace.hpp"
#include "text.hpp"
#include "torrent_source.hpp"

namespace peerwire::app {

int run_trace(const trace_cli_options& opt) {
  if (!exactly_one_source(opt.torrent, opt.info_hash)) return exit_usage;
  if (opt.peers.empty() && !opt.listen) {
    std::fprintf(stderr, "peerwire: nothing to trace: give --peer HOST:PORT and/or --listen\n");
    return exit_usage;
  }
  torrent_source_options so;
  so.no_v1_message = "invalid magnet link: no v1 (btih) info-hash";
  int code = exit_ok;
  auto torrent = load_torrent(opt.torrent, opt.info_hash, so, code);
  if (!torrent) return code;

  trace_options o;
  o.info_hash = *torrent->info_hash;
  if (torrent->torrent) {
    const metainfo& m = *torrent->torrent;
    o.piece_count = static_cast<std::uint32_t>(m.piece_count());
    o.piece_length = static_cast<std::uint32_t>(m.piece_length);
    o.total_size = static_cast<std::uint64_t>(m.total_size);
  }
  // Checked and resolved one by one, so the first bad --peer is the one reported.
  for (const auto& p : opt.peers) {
    std::string host;
    std::uint16_t port = 0;
    if (!split_host_port(p, host, port)) {
      std::fprintf(stderr, "peerwire: --peer '%s' is not HOST:PORT with a port from 1 to 65535\n",
                   printable(p).c_str());
      return exit_usage;
    }
    std::string error;
    auto resolved = resolve_trace_peer(host, port, error);
    if (!resolved) {
      std::fprintf(stderr, "peerwire: cannot resolve --peer '%s': %s\n", printable(p).c_str(),
                   error.c_str());
      return exit_usage;
    }
    o.peers.push_back(std::move(*resolved));
  }
  o.listen = opt.listen;
  o.bind = opt.bind;
  o.port = opt.port;
  o.duration = std::chrono::milliseconds(static_cast<long>(opt.duration * 1000));
  o.timeout = std::chrono::milliseconds(static_cast<long>(opt.timeout * 1000));
  o.interested = opt.interested;

  auto print = [&](const trace_line& l) {
    if (opt.json) {
      boost::json::object j{{"t", l.seconds},
                            {"peer", l.peer},
                            {"dir", l.outgoing ? "out" : "in"},
                            {"text", valid_utf8(l.text)}};
      std::string line = json_text(j);
      std::fwrite(line.data(), 1, line.size(), stdout);
    } else {
      std::string line = fmt::format("{:8.3f}  {:<21} {} {}\n", l.seconds, l.peer,
                                     l.outgoing ? "->" : "<-", printable(l.text));
      std::fwrite(line.data(), 1, line.size(), stdout);
    }
    std::fflush(stdout);
  };
  auto r = peerwire::run_trace(o, print);
  switch (r.status) {
    case trace_status::finished:
      return exit_ok;
    case trace_status::interrupted:
      return exit_interrupted;
    case trace_status::bad_peer:  // cannot happen: the addresses come from the resolver
      std::fprintf(stderr, "peerwire: --peer %s\n", printable(r.error).c_str());
      return exit_usage;
    case trace_status::bad_bind:
      std::fprintf(stderr, "peerwire: --bind '%s' is not an IP address\n",
                   printable(opt.bind).c_str());
      return exit_usage;
    case trace_status::listen_failed:
      std::fprintf(stderr, "peerwire: %s\n", r.error.c_str());
      return exit_io;
  }
  return exit_ok;
}

}  // namespace peerwire::app
