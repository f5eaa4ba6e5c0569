// Scraping a list of trackers from a program that has no event loop of its own (the
// `peerwire scrape` command): runs every tracker in parallel on a private io_context with
// one UDP socket, and returns when all have answered or failed. No Asio in this header.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "peerwire/info_hash.hpp"
#include "peerwire/tracker_scrape.hpp"

namespace peerwire::tracker {

struct scrape_run_options {
  std::chrono::milliseconds timeout{15000};  // per tracker, everything included
  // UDP: first retransmission after this, then doubling (BEP 15), within `timeout`.
  std::chrono::milliseconds udp_retransmit{15000};
  std::string bind_address = "0.0.0.0";  // for the UDP socket
};

struct scrape_outcome {
  std::string tracker;
  bool ok = false;
  std::string error;  // when !ok: the reason (refused scheme, timeout, tracker says...)
  std::vector<scrape_stats> stats;  // when ok: what the tracker reported, per info-hash
  std::vector<std::string> notes;
  double seconds = 0;
};

// One outcome per tracker, in the order given. Hashes the tracker did not report are absent
// from `stats`.
std::vector<scrape_outcome> scrape_trackers(const std::vector<std::string>& trackers,
                                            const std::vector<sha1_hash>& hashes,
                                            const scrape_run_options& opts);

}  // namespace peerwire::tracker
