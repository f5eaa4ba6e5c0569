// The CLI's subcommands. Each returns a process exit code (exit_codes.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace peerwire::app {

struct info_options {
  std::string input;  // .torrent path, "-" for stdin, or a magnet URI
  bool json = false;
};
int run_info(const info_options& opt);

struct create_cli_options {
  std::string path;
  std::string output;                 // default: <name>.torrent
  std::vector<std::string> trackers;  // -t, each may hold comma-separated URLs of one tier
  bool single_tier = false;           // --tier: all -t URLs in one tier
  std::vector<std::string> web_seeds;
  std::string piece_size = "auto";
  bool is_private = false;
  std::string comment;
  bool no_date = false;
  std::string source;
  std::string name;
  bool pad = false;
  bool force = false;
  unsigned threads = 0;
  bool json = false;
  bool quiet = false;
};
int run_create(const create_cli_options& opt);

struct probe_cli_options {
  std::string target;     // HOST:PORT
  std::string torrent;    // .torrent path or magnet link
  std::string info_hash;  // --info-hash
  double timeout = 10;    // seconds per step
  double watch = 3;       // seconds to watch messages after the handshake
  bool json = false;
};
int run_probe(const probe_cli_options& opt);

struct trace_cli_options {
  std::string torrent;             // .torrent path or magnet link
  std::string info_hash;           // --info-hash
  std::vector<std::string> peers;  // --peer HOST:PORT
  bool listen = false;
  std::string bind = "127.0.0.1";
  std::uint16_t port = 0;  // 0: 6881-6889, then any
  double duration = 30;    // seconds
  double timeout = 10;     // connect / handshake timeout, seconds
  bool interested = false;
  bool json = false;
};
int run_trace(const trace_cli_options& opt);

struct download_cli_options {
  std::vector<std::string> torrents;
  std::string dir = ".";
  std::vector<std::string> peers;
  std::uint16_t port = 0;
  std::string bind = "0.0.0.0";
  std::size_t max_peers = 50;
  bool sequential = false;
  double seed_ratio = -1;  // < 0: not given
  double seed_time = -1;   // minutes; < 0: not given
  bool no_seed = false;
  std::string upload_limit, download_limit;
  bool recheck = false;
  bool trace = false;
  bool json = false;
  double status_interval = 5;  // seconds between plain status lines when not on a terminal
  double disk_retry = 5;       // seconds between write retries while paused for a full disk
  std::string save_torrent;    // magnet downloads: write the .torrent here once fetched
  int pex_interval = 60;       // seconds between PEX messages to a peer (BEP 11: ≥ 60)
  // BEP 12: every tier in parallel instead of tier by tier until one answers.
  bool announce_all_tiers = false;
  bool direct_io = false;   // write verified pieces past the page cache (O_DIRECT)
  bool preallocate = true;  // allocate files in full when created (fallocate), not sparse
  // Seconds before the first UDP tracker retransmission (BEP 15; doubles).
  double udp_tracker_timeout = 15;
};
int run_download(const download_cli_options& opt);

struct scrape_cli_options {
  std::string torrent;                // .torrent path or magnet link
  std::string info_hash;              // --info-hash (with --tracker)
  std::vector<std::string> trackers;  // --tracker, repeatable: replaces the torrent's trackers
  double timeout = 15;                // seconds per tracker
  double udp_retransmit = 15;         // seconds before the first UDP retransmission (BEP 15)
  bool json = false;
};
int run_scrape(const scrape_cli_options& opt);

struct tracker_cli_options {
  std::uint16_t http_port = 6969;  // 0: any free port (printed)
  std::uint16_t udp_port = 6969;
  bool no_http = false, no_udp = false;
  std::vector<std::string> bind;  // empty: 0.0.0.0 and ::
  std::string allow;              // allow-list file: one hex info-hash a line
  unsigned interval = 1800;       // seconds; peers expire after two missed intervals
  bool full_scrape = false;
  bool verbose = false;
  std::size_t max_torrents = 100'000;
  std::size_t max_peers = 1'000'000;
  int numwant = 50, max_numwant = 200;
};
int run_tracker(const tracker_cli_options& opt);

}  // namespace peerwire::app
