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
};
int run_download(const download_cli_options& opt);

}  // namespace peerwire::app
