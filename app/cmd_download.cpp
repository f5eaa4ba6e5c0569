// `peerwire download` and `peerwire seed`: run a session for one or more torrents with a
// progress line (TTY) or periodic status lines, and a final summary.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <thread>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "commands.hpp"
#include "exit_codes.hpp"
#include "peer_address.hpp"
#include "peerwire/session.hpp"
#include "text.hpp"
#include "torrent_source.hpp"

namespace peerwire::app {
namespace {

using steady = std::chrono::steady_clock;

std::atomic<bool> g_interrupted{false};
extern "C" void on_interrupt(int) {
  g_interrupted.store(true);
}

const char* state_name(torrent_state s) {
  switch (s) {
    case torrent_state::metadata:
      return "metadata";
    case torrent_state::checking:
      return "checking";
    case torrent_state::downloading:
      return "downloading";
    case torrent_state::seeding:
      return "seeding";
    case torrent_state::finished:
      return "finished";
    case torrent_state::error:
      return "error";
    case torrent_state::paused_disk:
      return "paused_disk";
  }
  return "?";
}

std::string eta_text(const torrent_status& s) {
  if (s.download_rate < 1 || s.state != torrent_state::downloading) return "--";
  auto left =
      static_cast<long>(static_cast<double>(s.total_size - s.verified_bytes) / s.download_rate);
  if (left >= 3600) return fmt::format("{}h{:02}m", left / 3600, left / 60 % 60);
  return fmt::format("{}:{:02}", left / 60, left % 60);
}

std::string status_line(const torrent_status& s) {
  if (s.state == torrent_state::metadata) {
    std::string got = s.metadata_size > 0 ? fmt::format("{:5.1f}% of {}", s.metadata_progress * 100,
                                                        human_size(s.metadata_size))
                                          : std::string("waiting for a peer that has it");
    return fmt::format("{}: fetching metadata: {}  peers {}", printable(s.name), got, s.peers);
  }
  if (s.state == torrent_state::checking) {
    return fmt::format("{}: checking {:5.1f}%", printable(s.name), s.checking_progress * 100);
  }
  if (s.state == torrent_state::error)
    return fmt::format("{}: error: {}", printable(s.name), printable(s.error));
  if (s.state == torrent_state::paused_disk)
    return fmt::format("{}: paused, {} of {} verified and kept: {} (retrying; Ctrl-C stops)",
                       printable(s.name), human_size(s.verified_bytes), human_size(s.total_size),
                       printable(s.error));
  double pct = s.total_size > 0 ? 100.0 * static_cast<double>(s.verified_bytes) /
                                      static_cast<double>(s.total_size)
                                : 100;
  return fmt::format(
      "{}: {} {:5.1f}%  {} / {}  down {}/s  up {}/s  peers {} ({} seeds)  ETA {}",
      printable(s.name), state_name(s.state), pct, human_size(s.verified_bytes),
      human_size(s.total_size), human_size(static_cast<std::int64_t>(s.download_rate)),
      human_size(static_cast<std::int64_t>(s.upload_rate)), s.peers, s.seeds, eta_text(s));
}

boost::json::object status_json(const torrent_status& s) {
  return boost::json::object{{"name", valid_utf8(s.name)},
                             {"info_hash", s.info_hash},
                             {"state", state_name(s.state)},
                             {"error", valid_utf8(s.error)},
                             {"total_size", s.total_size},
                             {"verified_bytes", s.verified_bytes},
                             {"pieces_have", s.pieces_have},
                             {"piece_count", s.piece_count},
                             {"downloaded", s.downloaded},
                             {"uploaded", s.uploaded},
                             {"download_rate", s.download_rate},
                             {"upload_rate", s.upload_rate},
                             {"peers", s.peers},
                             {"seeds", s.seeds},
                             {"hash_failures", s.hash_failures},
                             {"banned_peers", s.banned_peers},
                             {"tracker_message", valid_utf8(s.tracker_message)},
                             {"metadata_size", s.metadata_size},
                             {"metadata_progress", s.metadata_progress}};
}

// "10M", "512K", "1.5MiB" (per second) → bytes/s; 0 = unlimited.
std::optional<double> parse_rate(const std::string& text) {
  if (text.empty()) return 0.0;
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (...) {
    return std::nullopt;
  }
  std::string unit = text.substr(used);
  for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (unit.size() > 2 && unit.substr(unit.size() - 2) == "/s") unit.resize(unit.size() - 2);
  double mult = 1;
  if (unit.empty() || unit == "b")
    mult = 1;
  else if (unit == "k" || unit == "kb" || unit == "kib")
    mult = 1024;
  else if (unit == "m" || unit == "mb" || unit == "mib")
    mult = 1024.0 * 1024;
  else if (unit == "g" || unit == "gb" || unit == "gib")
    mult = 1024.0 * 1024 * 1024;
  else
    return std::nullopt;
  if (v < 0) return std::nullopt;
  return v * mult;
}

}  // namespace

int run_download(const download_cli_options& opt) {
  auto up = parse_rate(opt.upload_limit);
  auto down = parse_rate(opt.download_limit);
  if (!up || !down) {
    std::fprintf(stderr,
                 "peerwire: rate limits look like 500K, 10M or 1.5MiB (bytes per second)\n");
    return exit_usage;
  }
  int goals = (opt.seed_ratio >= 0 ? 1 : 0) + (opt.seed_time >= 0 ? 1 : 0) + (opt.no_seed ? 1 : 0);
  if (goals > 1) {
    std::fprintf(stderr, "peerwire: use only one of --seed-ratio, --seed-time, --no-seed\n");
    return exit_usage;
  }
  seed_goal goal;
  if (opt.no_seed) goal.kind = seed_goal_kind::none;
  if (opt.seed_ratio >= 0) goal = {seed_goal_kind::ratio, opt.seed_ratio};
  if (opt.seed_time >= 0) goal = {seed_goal_kind::minutes, opt.seed_time};

  std::vector<std::string> peers;
  for (const auto& text : opt.peers) {
    std::string error;
    auto resolved = resolve_peer_address(text, error);
    if (!resolved) {
      std::fprintf(stderr, "peerwire: --peer %s\n", printable(error).c_str());
      return exit_usage;
    }
    peers.push_back(*resolved);
  }

  std::size_t magnets = 0;
  for (const auto& t : opt.torrents) magnets += t.starts_with("magnet:") ? 1 : 0;
  if (!opt.save_torrent.empty() && magnets != 1) {
    std::fprintf(stderr, "peerwire: --save-torrent needs exactly one magnet link\n");
    return exit_usage;
  }

  std::vector<add_torrent_params> torrents;
  torrent_source_options so;
  so.magnet_any_case = false;
  so.no_v1_message =
      "this magnet link has only a v2 info-hash (btmh); peerwire speaks BitTorrent v1 and needs "
      "a btih";
  for (const auto& path : opt.torrents) {
    int code = exit_ok;
    auto loaded = load_torrent(path, {}, so, code);
    if (!loaded) return code;
    add_torrent_params p;
    if (loaded->magnet) {
      const magnet_link& link = *loaded->magnet;
      magnet_source src;
      src.info_hash = *link.hash.v1;
      src.display_name = link.display_name;
      // One tier per tr, in order, as other clients do: each is tried in turn.
      for (const auto& tr : link.trackers) src.trackers.push_back({tr});
      p.magnet = std::move(src);
      p.peers = peers;
      for (const auto& pe : link.peers) {
        std::string pe_error;
        if (auto resolved = resolve_peer_address(pe, pe_error)) {
          p.peers.push_back(*resolved);
        } else {
          std::fprintf(stderr, "peerwire: ignoring x.pe peer %s\n", printable(pe_error).c_str());
        }
      }
      if (!opt.save_torrent.empty()) p.save_torrent = opt.save_torrent;
    } else {
      p.torrent = std::move(*loaded->torrent);
      p.peers = peers;
    }
    p.save_path = opt.dir;
    p.sequential = opt.sequential;
    p.recheck = opt.recheck;
    p.goal = goal;
    torrents.push_back(std::move(p));
  }

  session_settings settings;
  settings.listen_port = opt.port;
  settings.bind_address = opt.bind;
  settings.max_peers_per_torrent = opt.max_peers;
  settings.upload_limit = *up;
  settings.download_limit = *down;
  settings.announce_to_all_tiers = opt.announce_all_tiers;
  settings.direct_io = opt.direct_io;
  settings.preallocate = opt.preallocate;
  settings.udp_tracker_timeout =
      std::chrono::milliseconds(static_cast<long>(opt.udp_tracker_timeout * 1000));
  settings.pex_interval = std::chrono::seconds(std::max(1, opt.pex_interval));
  settings.disk_retry_interval =
      std::chrono::milliseconds(static_cast<long>(opt.disk_retry * 1000));
  bool tty = ::isatty(STDERR_FILENO) == 1 && !opt.json;
  if (opt.trace) {
    auto start = steady::now();
    settings.trace = [start](const std::string& peer, bool out, const std::string& text) {
      double t = std::chrono::duration<double>(steady::now() - start).count();
      std::string line =
          fmt::format("{:8.3f}  {:<21} {} {}\n", t, peer, out ? "->" : "<-", printable(text));
      std::fwrite(line.data(), 1, line.size(), stdout);
    };
  }
  settings.log = [tty](const std::string& name, const std::string& text) {
    std::fprintf(stderr, "%speerwire: %s: %s\n", tty ? "\r\033[K" : "", printable(name).c_str(),
                 printable(text).c_str());
  };

  session s(settings);
  auto port = s.start();
  if (!port) {
    std::fprintf(stderr, "peerwire: %s\n", port.error().describe().c_str());
    return exit_io;
  }
  if (!opt.json)
    std::fprintf(stderr, "peerwire: listening on port %u\n", static_cast<unsigned>(*port));
  for (auto& t : torrents) s.add_torrent(std::move(t));

  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  auto started = steady::now();
  auto last_line = steady::time_point{};
  auto period = tty ? std::chrono::milliseconds(500)
                    : std::chrono::milliseconds(static_cast<long>(opt.status_interval * 1000));
  // Wakes every 100 ms for the status line and Ctrl-C, and at once when everything is done.
  while (!g_interrupted.load() && !s.wait_done(std::chrono::milliseconds(100))) {
    auto now = steady::now();
    if (now - last_line < period) continue;
    last_line = now;
    for (const auto& st : s.status()) {
      if (opt.json) {
        std::string line =
            json_text(boost::json::object{{"event", "status"}, {"torrent", status_json(st)}});
        std::fwrite(line.data(), 1, line.size(), stdout);
        std::fflush(stdout);
      } else if (tty) {
        std::fprintf(stderr, "\r\033[K%s", status_line(st).c_str());
      } else {
        std::fprintf(stderr, "%s\n", status_line(st).c_str());
      }
    }
  }
  bool interrupted = g_interrupted.load();
  if (tty) std::fputc('\n', stderr);
  if (interrupted && !opt.json)
    std::fprintf(stderr, "peerwire: stopping (saving resume data, telling trackers)...\n");
  s.stop();

  double seconds = std::chrono::duration<double>(steady::now() - started).count();
  // Ctrl-C is the normal way to end seeding (as with transmission-cli): resume data is saved
  // and trackers are told, so it is a success, not an error.
  int code = exit_ok;
  for (const auto& st : s.status()) {
    if (st.state == torrent_state::error) code = exit_torrent_failed;
    double ratio = st.total_size > 0
                       ? static_cast<double>(st.uploaded) / static_cast<double>(st.total_size)
                       : 0;
    if (opt.json) {
      auto o = status_json(st);
      o["seconds"] = seconds;
      o["average_download_rate"] = seconds > 0 ? static_cast<double>(st.downloaded) / seconds : 0;
      o["ratio"] = ratio;
      std::string line =
          json_text(boost::json::object{{"event", "summary"}, {"torrent", std::move(o)}});
      std::fwrite(line.data(), 1, line.size(), stdout);
    } else {
      std::fprintf(
          stderr,
          "%s: %s, %s of %s verified in %.1f s (average %s/s down), uploaded %s (ratio %.2f)%s\n",
          printable(st.name).c_str(), state_name(st.state), human_size(st.verified_bytes).c_str(),
          human_size(st.total_size).c_str(), seconds,
          human_size(static_cast<std::int64_t>(
                         seconds > 0 ? static_cast<double>(st.downloaded) / seconds : 0))
              .c_str(),
          human_size(st.uploaded).c_str(), ratio,
          st.state == torrent_state::error || st.state == torrent_state::paused_disk
              ? (": " + printable(st.error)).c_str()
              : "");
    }
  }
  return code;
}

}  // namespace peerwire::app
