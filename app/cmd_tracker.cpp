// `peerwire tracker`: an HTTP and UDP BitTorrent tracker in one process. This file turns the
// command line into settings, loads the allow-list (and reloads it on SIGHUP) and prints log
// lines; the registry and wire formats are in tracker_server, the sockets in tracker_service.
#include <arpa/inet.h>
#include <openssl/rand.h>

#include <cstdio>
#include <cstring>
#include <optional>

#include "commands.hpp"
#include "exit_codes.hpp"
#include "files.hpp"
#include "peerwire/tracker_server_proto.hpp"
#include "peerwire/tracker_service.hpp"
#include "text.hpp"

namespace peerwire::app {
namespace {

constexpr std::size_t max_allow_file = 64 << 20;  // ~1.5 million hashes

void print_line(std::string_view s) {
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

bool is_ip_address(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

// Reads and parses the allow-list; on failure prints why and sets exit_code.
std::optional<std::vector<sha1_hash>> load_allow_list(const std::string& path, int& exit_code) {
  std::string error;
  auto text = read_whole_file(path, max_allow_file, error);
  if (!text) {
    std::fprintf(stderr, "peerwire: %s\n", printable(error).c_str());
    exit_code = exit_io;
    return std::nullopt;
  }
  auto hashes = tracker_server::parse_allow_list(*text);
  if (!hashes) {
    std::fprintf(stderr, "peerwire: allow-list %s: %s\n", printable(path).c_str(),
                 printable(hashes.error().describe()).c_str());
    exit_code = exit_bad_input;
    return std::nullopt;
  }
  return std::move(*hashes);
}

}  // namespace

int run_tracker(const tracker_cli_options& opt) {
  if (opt.interval < 1 || opt.interval > 24 * 3600) {
    std::fprintf(stderr, "peerwire: --interval must be from 1 to 86400 seconds\n");
    return exit_usage;
  }
  if (opt.no_http && opt.no_udp) {
    std::fprintf(stderr, "peerwire: --no-http and --no-udp leave nothing to serve\n");
    return exit_usage;
  }
  for (const auto& b : opt.bind) {
    if (!is_ip_address(b)) {
      std::fprintf(stderr, "peerwire: --bind %s: not an IP address\n", printable(b).c_str());
      return exit_usage;
    }
  }

  tracker_server::settings cfg;
  cfg.interval = std::chrono::seconds(opt.interval);
  cfg.max_torrents = opt.max_torrents;
  cfg.max_peers = opt.max_peers;
  cfg.default_numwant = opt.numwant;
  cfg.max_numwant = opt.max_numwant;
  cfg.full_scrape = opt.full_scrape;

  std::array<std::uint8_t, 32> secret{};
  std::uint64_t seed = 0;
  if (RAND_bytes(secret.data(), static_cast<int>(secret.size())) != 1 ||
      RAND_bytes(reinterpret_cast<unsigned char*>(&seed), sizeof seed) != 1) {
    std::fprintf(stderr, "peerwire: no randomness from OpenSSL\n");
    return exit_io;
  }
  tracker_server::server srv(cfg, secret, seed);

  int code = exit_ok;
  if (!opt.allow.empty()) {
    auto hashes = load_allow_list(opt.allow, code);
    if (!hashes) return code;
    print_line("allow-list: " + std::to_string(hashes->size()) + " info-hashes from " +
               printable(opt.allow));
    srv.swarms().set_allow_list(std::move(*hashes));
  }

  tracker_service::service_options so;
  so.bind = opt.bind;
  so.http = !opt.no_http;
  so.udp = !opt.no_udp;
  so.http_port = opt.http_port;
  so.udp_port = opt.udp_port;
  so.verbose = opt.verbose;
  so.log = print_line;
  // Expired peers must leave the scrape counts within about an interval, even when nobody
  // announces for their torrent any more.
  so.expire_every = std::chrono::seconds(std::min(60u, opt.interval));
  so.on_reload = [&] {
    if (opt.allow.empty()) {
      print_line("SIGHUP: no --allow file to reload");
      return;
    }
    int ignored = 0;
    // A broken file keeps the previous list: better than serving everything or nothing.
    if (auto hashes = load_allow_list(opt.allow, ignored)) {
      print_line("allow-list reloaded: " + std::to_string(hashes->size()) + " info-hashes");
      srv.swarms().set_allow_list(std::move(*hashes));
    } else {
      print_line("allow-list not reloaded: keeping the previous one");
    }
  };

  auto served = tracker_service::serve(srv, so);
  if (!served) {
    std::fprintf(stderr, "peerwire: %s\n", printable(served.error().describe()).c_str());
    return exit_io;
  }
  print_line("stopped after " + std::to_string(*served) + " requests; " +
             std::to_string(srv.swarms().torrent_count()) + " torrents, " +
             std::to_string(srv.swarms().peer_count()) + " peers");
  return exit_ok;
}

}  // namespace peerwire::app
