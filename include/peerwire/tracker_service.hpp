// The IO shell of `peerwire tracker`: UDP sockets (BEP 15) and a small HTTP/1.1 server
// (Beast, keep-alive) in front of a tracker_server::server, on one thread, until SIGINT or
// SIGTERM. Everything a request can contain is handled by the pure server; this only moves
// bytes, keeps time and bounds connections.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "peerwire/result.hpp"
#include "peerwire/tracker_server_proto.hpp"

namespace peerwire::tracker_service {

struct http_limits {
  std::size_t max_header = 8 << 10;          // request line + fields; over it: 431 and close
  std::size_t max_body = 1 << 10;            // announces are GETs; over it: 413 and close
  std::chrono::seconds request_timeout{10};  // to receive one whole request once it started
  std::chrono::seconds idle_timeout{30};     // keep-alive connection with no request
  std::size_t max_connections = 1024;        // more are closed right after accept
  unsigned max_requests_per_connection = 10'000;
};

struct service_options {
  // Addresses to listen on; empty: 0.0.0.0 and :: (IPv6-only socket; skipped with a note when
  // the host has no IPv6).
  std::vector<std::string> bind;
  bool http = true, udp = true;
  std::uint16_t http_port = 6969;  // 0: any free port (the one chosen is reported)
  std::uint16_t udp_port = 6969;
  http_limits limits;
  bool verbose = false;  // one log line per request
  // Called (on the service thread) for every log line, and once per listening socket with
  // "listening: http 127.0.0.1:6969" when serving starts.
  std::function<void(std::string_view)> log;
  // Called on SIGHUP, on the service thread (so it may touch the server's registry).
  std::function<void()> on_reload;
  std::chrono::seconds expire_every{60};
};

// Binds every socket (an error names the address and the reason: "port busy" is an IO
// error for the CLI), then serves until SIGINT or SIGTERM. Returns the number of requests
// served.
result<std::uint64_t> serve(tracker_server::server& srv, const service_options& opt);

}  // namespace peerwire::tracker_service
