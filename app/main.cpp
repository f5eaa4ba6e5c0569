// peerwire command-line client. Only argument parsing and dispatch live here; each command
// is in its own file and uses the library's public headers.
#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "exit_codes.hpp"

using namespace peerwire::app;

int main(int argc, char** argv) {
  CLI::App app{"peerwire: a BitTorrent client and toolkit", "peerwire"};
  app.set_version_flag("--version", "peerwire 0.1.0");
  app.require_subcommand(1);

  info_options info;
  auto* info_cmd = app.add_subcommand("info", "Show what a .torrent file or magnet link contains");
  info_cmd
      ->add_option("input", info.input, "a .torrent file, '-' for standard input, or a magnet link")
      ->required();
  info_cmd->add_flag("--json", info.json, "machine-readable output (one JSON object)");

  create_cli_options create;
  auto* create_cmd = app.add_subcommand("create", "Make a .torrent from a file or directory");
  create_cmd->add_option("path", create.path, "file or directory to share")->required();
  create_cmd->add_option("-o,--output", create.output,
                         "where to write the torrent (default: NAME.torrent)");
  create_cmd->add_option(
      "-t,--tracker", create.trackers,
      "announce URL; repeat for more tiers, or give comma-separated URLs for one tier");
  create_cmd->add_flag("--tier", create.single_tier, "put every -t URL in a single tier");
  create_cmd->add_option("-w,--web-seed", create.web_seeds, "web seed URL (BEP 19); repeatable");
  create_cmd
      ->add_option("--piece-size", create.piece_size,
                   "'auto', or a power of two of at least 16 KiB: 262144, 256K, 4M, 4MiB")
      ->capture_default_str();
  create_cmd->add_flag("-p,--private", create.is_private, "private torrent (BEP 27): no DHT/PEX");
  create_cmd->add_option("-c,--comment", create.comment, "free-text comment");
  create_cmd->add_flag("--no-date", create.no_date, "omit the creation date (reproducible output)");
  create_cmd->add_option("-s,--source", create.source,
                         "source tag (changes the info-hash; private trackers)");
  create_cmd->add_option("-n,--name", create.name,
                         "torrent name (default: the file or directory name)");
  create_cmd->add_flag("--pad", create.pad,
                       "align every file to a piece boundary (BEP 47 padding files)");
  create_cmd->add_flag("-f,--force", create.force, "replace the output file if it exists");
  create_cmd->add_option("--threads", create.threads, "hashing threads (default: all cores)");
  create_cmd->add_flag("--json", create.json, "print the result as JSON");
  create_cmd->add_flag("-q,--quiet", create.quiet, "no progress output");

  probe_cli_options probe;
  auto* probe_cmd =
      app.add_subcommand("probe", "Connect to one peer and show the handshake step by step");
  probe_cmd->add_option("target", probe.target, "the peer, HOST:PORT or [IPv6]:PORT")->required();
  probe_cmd->add_option("torrent", probe.torrent,
                        "a .torrent file or a magnet link (or use --info-hash)");
  probe_cmd->add_option("--info-hash", probe.info_hash,
                        "info-hash as 40 hex digits or 32 base32 characters");
  probe_cmd->add_option("--timeout", probe.timeout, "seconds to wait for each step")
      ->capture_default_str();
  probe_cmd->add_option("--watch", probe.watch, "seconds to watch messages after the handshake")
      ->capture_default_str();
  probe_cmd->add_flag("--json", probe.json, "machine-readable output (one JSON object)");

  trace_cli_options trace;
  auto* trace_cmd =
      app.add_subcommand("trace", "Talk to peers for one torrent and log every message in and out");
  trace_cmd->add_option("torrent", trace.torrent,
                        "a .torrent file or a magnet link (or use --info-hash)");
  trace_cmd->add_option("--info-hash", trace.info_hash,
                        "info-hash as 40 hex digits or 32 base32 characters");
  trace_cmd->add_option("--peer", trace.peers, "connect to this peer, HOST:PORT; repeatable");
  trace_cmd->add_flag("--listen", trace.listen, "accept incoming connections too");
  trace_cmd->add_option("--bind", trace.bind, "address to listen on")->capture_default_str();
  trace_cmd->add_option("--port", trace.port, "port to listen on (default: 6881-6889, then any)");
  trace_cmd->add_option("--duration", trace.duration, "stop after this many seconds")
      ->capture_default_str();
  trace_cmd->add_option("--timeout", trace.timeout, "connect and handshake timeout, seconds")
      ->capture_default_str();
  trace_cmd->add_flag("--interested", trace.interested,
                      "declare interest once the peer announced its pieces");
  trace_cmd->add_flag("--json", trace.json, "one JSON object per line: {t, peer, dir, text}");

  download_cli_options download;
  auto add_transfer_options = [&download](CLI::App* cmd) {
    cmd->add_option("-d,--dir", download.dir, "download directory")->capture_default_str();
    cmd->add_option("--peer", download.peers, "also connect to this peer, HOST:PORT; repeatable");
    cmd->add_option("--port", download.port, "listening port (default: 6881-6889, then any)");
    cmd->add_option("--bind", download.bind, "address to listen on")->capture_default_str();
    cmd->add_option("--max-peers", download.max_peers, "connections per torrent")
        ->capture_default_str();
    cmd->add_option("--upload-limit", download.upload_limit,
                    "bytes/s, e.g. 500K, 10M (default: unlimited)");
    cmd->add_option("--download-limit", download.download_limit,
                    "bytes/s, e.g. 500K, 10M (default: unlimited)");
    cmd->add_flag("--recheck", download.recheck,
                  "ignore resume data and check every piece on disk");
    cmd->add_flag("--trace", download.trace, "log every peer message in and out on stdout");
    cmd->add_flag("--json", download.json,
                  "JSON lines on stdout: periodic status and a final summary");
    cmd->add_option("--status-interval", download.status_interval,
                    "seconds between status lines when stderr is not a terminal")
        ->capture_default_str();
    cmd->add_flag("--direct-io", download.direct_io,
                  "write verified pieces with O_DIRECT, past the page cache (fast disks: less "
                  "CPU, nothing else evicted from the cache)");
    cmd->add_flag("--preallocate,!--no-preallocate", download.preallocate,
                  "allocate each file's disk space in full when the download creates it "
                  "(fallocate; the default): a full disk shows at once, files fragment less. "
                  "--no-preallocate leaves files sparse");
    cmd->add_flag("--announce-all-tiers", download.announce_all_tiers,
                  "announce to every tracker tier in parallel (default: tier by tier until one "
                  "answers)");
    cmd->add_option("--udp-tracker-timeout", download.udp_tracker_timeout,
                    "seconds before the first UDP tracker retransmission (doubles, 3 tries)")
        ->check(CLI::Range(0.01, 600.0))
        ->capture_default_str();
    // Tests shorten it to see peer exchange work in seconds; BEP 11 asks for a minute.
    cmd->add_option("--pex-interval", download.pex_interval, "")->group("");
    cmd->add_option("--disk-retry", download.disk_retry,
                    "seconds between write retries while paused for a full or read-only disk")
        ->check(CLI::Range(0.05, 3600.0))
        ->capture_default_str();
  };
  auto* download_cmd =
      app.add_subcommand("download", "Download torrents (then seed, like transmission-cli)");
  download_cmd->add_option("torrents", download.torrents, ".torrent files or magnet links")
      ->required();
  download_cmd->add_option("--save-torrent", download.save_torrent,
                           "magnet link: save the fetched metadata as this .torrent file");
  add_transfer_options(download_cmd);
  download_cmd->add_flag("--sequential", download.sequential,
                         "download pieces in order (streaming)");
  download_cmd->add_option("--seed-ratio", download.seed_ratio,
                           "stop seeding at this upload/size ratio");
  download_cmd->add_option("--seed-time", download.seed_time,
                           "stop seeding after this many minutes");
  download_cmd->add_flag("--no-seed", download.no_seed, "exit as soon as the download is complete");
  auto* seed_cmd =
      app.add_subcommand("seed", "Check the data of a torrent, then seed it until Ctrl-C");
  seed_cmd->add_option("torrents", download.torrents, ".torrent files")->required();
  add_transfer_options(seed_cmd);

  scrape_cli_options scrape;
  auto* scrape_cmd =
      app.add_subcommand("scrape", "Ask trackers for seeders, leechers and completed downloads");
  scrape_cmd->add_option("torrent", scrape.torrent,
                         "a .torrent file or a magnet link (or use --info-hash with --tracker)");
  scrape_cmd->add_option("--info-hash", scrape.info_hash,
                         "info-hash as 40 hex digits or 32 base32 characters");
  scrape_cmd->add_option("--tracker", scrape.trackers,
                         "scrape this tracker instead of the torrent's own; repeatable");
  scrape_cmd->add_option("--timeout", scrape.timeout, "seconds per tracker")->capture_default_str();
  scrape_cmd
      ->add_option("--udp-retransmit", scrape.udp_retransmit,
                   "seconds before the first UDP retransmission (doubles)")
      ->check(CLI::Range(0.01, 600.0))
      ->capture_default_str();
  scrape_cmd->add_flag("--json", scrape.json, "machine-readable output (one JSON object)");

  tracker_cli_options tracker;
  auto* tracker_cmd = app.add_subcommand("tracker", "Run an HTTP and UDP BitTorrent tracker");
  tracker_cmd->add_option("--http", tracker.http_port, "HTTP port (0: any free port)")
      ->capture_default_str();
  tracker_cmd->add_option("--udp", tracker.udp_port, "UDP port, BEP 15 (0: any free port)")
      ->capture_default_str();
  tracker_cmd->add_flag("--no-http", tracker.no_http, "serve UDP only");
  tracker_cmd->add_flag("--no-udp", tracker.no_udp, "serve HTTP only");
  tracker_cmd->add_option("--bind", tracker.bind,
                          "address to listen on; repeatable (default: 0.0.0.0 and ::)");
  tracker_cmd->add_option("--allow", tracker.allow,
                          "serve only the info-hashes in this file (one a line; SIGHUP reloads)");
  tracker_cmd->add_option("--interval", tracker.interval, "announce interval, seconds")
      ->capture_default_str();
  tracker_cmd->add_flag("--full-scrape", tracker.full_scrape,
                        "answer a scrape without info_hash with every torrent");
  tracker_cmd->add_option("--numwant", tracker.numwant, "peers returned by default")
      ->capture_default_str();
  tracker_cmd->add_option("--max-numwant", tracker.max_numwant, "most peers returned")
      ->capture_default_str();
  tracker_cmd->add_option("--max-torrents", tracker.max_torrents, "torrents tracked at most")
      ->capture_default_str();
  tracker_cmd->add_option("--max-peers", tracker.max_peers, "peers tracked at most, in total")
      ->capture_default_str();
  tracker_cmd->add_flag("-v,--verbose", tracker.verbose, "one log line per request");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return exit_usage;
  }

  if (*info_cmd) return run_info(info);
  if (*create_cmd) return run_create(create);
  if (*probe_cmd) return run_probe(probe);
  if (*trace_cmd) return run_trace(trace);
  if (*download_cmd || *seed_cmd) return run_download(download);
  if (*scrape_cmd) return run_scrape(scrape);
  if (*tracker_cmd) return run_tracker(tracker);
  return exit_usage;
}
