// `peerwire trace`: connect to peers and/or accept their connections for one torrent, and
// report every message in and out as a line of text. `probe` answers "does it handshake";
// this shows the conversation that follows. Plain data in and out, so the CLI only parses its
// arguments and formats lines (text or JSON).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "peerwire/info_hash.hpp"

namespace peerwire {

// A peer to dial, as a numeric address ("1.2.3.4", "::1") and a port.
struct trace_peer {
  std::string address;
  std::uint16_t port = 0;
};

// Resolves `host` (a name or a numeric address) to the first address the resolver returns.
// On failure returns nullopt and sets `error` to the resolver's reason. Blocking.
std::optional<trace_peer> resolve_trace_peer(const std::string& host, std::uint16_t port,
                                             std::string& error);

struct trace_options {
  sha1_hash info_hash;
  // Known from a .torrent (0 otherwise): lets the connections check message bounds.
  std::uint32_t piece_count = 0;
  std::uint32_t piece_length = 0;
  std::uint64_t total_size = 0;

  std::vector<trace_peer> peers;  // dialled at the start
  bool listen = false;            // also accept connections for the torrent
  std::string bind = "127.0.0.1";
  std::uint16_t port = 0;  // 0: 6881-6889, then any free port

  std::chrono::milliseconds duration{30'000};  // the whole trace
  std::chrono::milliseconds timeout{10'000};   // connect and handshake, each
  // Declare interest once a peer has said which pieces it has, as a downloader would (so a
  // seeder shows what it does next: unchoke, ...).
  bool interested = false;
};

struct trace_line {
  double seconds = 0;  // since the trace started
  std::string peer;    // "ADDRESS:PORT" of the connection (or of the listening socket)
  bool outgoing = false;
  std::string text;  // "handshake info-hash ...", "have #5", ...
};
using trace_line_sink = std::function<void(const trace_line&)>;

enum class trace_status {
  finished,       // every connection ended (and none could come), or the duration passed
  interrupted,    // SIGINT or SIGTERM arrived during the trace
  bad_peer,       // a peer's address is not numeric; nothing was started, `error` says which
  bad_bind,       // options.bind is not an IP address; nothing was started
  listen_failed,  // the listening socket could not be opened; `error` says why
};

struct trace_result {
  trace_status status = trace_status::finished;
  std::string error;
};

// Runs the trace (blocking; it owns a private io_context and catches SIGINT/SIGTERM while it
// runs). `sink` is called on the calling thread, one line at a time, in order.
trace_result run_trace(const trace_options& options, const trace_line_sink& sink);

}  // namespace peerwire
