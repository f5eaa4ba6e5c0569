// Documented process exit codes (README "Exit codes"). Scripts rely on these: never renumber.
#pragma once

namespace peerwire::app {

enum exit_code : int {
  exit_ok = 0,
  exit_usage = 1,           // bad command line
  exit_bad_input = 2,       // a .torrent, magnet link or other input is invalid
  exit_io = 3,              // a file could not be read or written
  exit_peer_failed = 4,     // probe: no connection, or the handshake did not complete
  exit_torrent_failed = 5,  // download/seed: a torrent stopped with an error (disk full, ...)
  exit_interrupted = 130,   // stopped by Ctrl-C (SIGINT) or SIGTERM
  // scrape: no tracker answered (probe's code: in both, the remote side failed us)
  exit_no_tracker_answer = 4,
};

}  // namespace peerwire::app
