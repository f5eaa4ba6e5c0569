// `peerwire create PATH ...`: like mktorrent / transmission-create, hashing on every core with a
// progress line, and written atomically so an interrupted run never leaves a broken torrent.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <filesystem>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "commands.hpp"
#include "exit_codes.hpp"
#include "files.hpp"
#include "peerwire/create.hpp"
#include "peerwire/magnet.hpp"
#include "text.hpp"

namespace peerwire::app {
namespace {

namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

std::atomic<bool> g_stop{false};
extern "C" void on_stop_signal(int) {
  g_stop.store(true);
}

std::vector<std::vector<std::string>> tracker_tiers(const create_cli_options& opt) {
  std::vector<std::vector<std::string>> tiers;
  for (const auto& arg : opt.trackers) {
    std::vector<std::string> tier;
    std::size_t start = 0;
    while (start <= arg.size()) {
      std::size_t comma = arg.find(',', start);
      if (comma == std::string::npos) comma = arg.size();
      std::string url = arg.substr(start, comma - start);
      if (!url.empty()) tier.push_back(url);
      start = comma + 1;
    }
    if (tier.empty()) continue;
    if (opt.single_tier && !tiers.empty()) {
      tiers.front().insert(tiers.front().end(), tier.begin(), tier.end());
    } else {
      tiers.push_back(std::move(tier));
    }
  }
  return tiers;
}

// The name the torrent will get, known before hashing so the output path can be checked first.
std::string expected_name(const create_cli_options& opt) {
  if (!opt.name.empty()) return opt.name;
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::path(opt.path), ec);
  if (ec) p = fs::path(opt.path).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  return p.filename().string();
}

// Progress on stderr: a rewritten line on a terminal, a plain line every few seconds otherwise.
class progress_printer {
 public:
  explicit progress_printer(bool quiet) : quiet_(quiet), tty_(::isatty(STDERR_FILENO) == 1) {}

  void operator()(const create_progress& p) {
    if (quiet_) return;
    auto now = clock_type::now();
    bool done = p.pieces_done == p.piece_count;
    if (!tty_ && !done && now - last_ < std::chrono::seconds(5)) return;
    last_ = now;
    double seconds = std::chrono::duration<double>(now - start_).count();
    double rate = seconds > 0 ? static_cast<double>(p.bytes_hashed) / seconds : 0;
    double percent = p.bytes_total > 0 ? 100.0 * static_cast<double>(p.bytes_hashed) /
                                             static_cast<double>(p.bytes_total)
                                       : 100.0;
    std::string eta = "--";
    if (rate > 0 && !done) {
      auto left = static_cast<long>(static_cast<double>(p.bytes_total - p.bytes_hashed) / rate);
      eta = fmt::format("{}:{:02}", left / 60, left % 60);
    }
    std::string text =
        fmt::format("hashing {:5.1f}%  {} / {}  piece {}/{}  {}/s  ETA {}", percent,
                    human_size(p.bytes_hashed), human_size(p.bytes_total), p.pieces_done,
                    p.piece_count, human_size(static_cast<std::int64_t>(rate)), eta);
    if (tty_) {
      std::fprintf(stderr, "\r\033[K%s", text.c_str());
      if (done) std::fputc('\n', stderr);
    } else {
      std::fprintf(stderr, "%s\n", text.c_str());
    }
    std::fflush(stderr);
  }

 private:
  bool quiet_;
  bool tty_;
  clock_type::time_point start_ = clock_type::now();
  clock_type::time_point last_{};
};

}  // namespace

int run_create(const create_cli_options& opt) {
  create_options options;
  auto piece_length = parse_piece_length(opt.piece_size);
  if (!piece_length) {
    std::fprintf(stderr, "peerwire: --piece-size %s: %s\n", printable(opt.piece_size).c_str(),
                 printable(piece_length.error().describe()).c_str());
    return exit_usage;
  }
  options.piece_length = *piece_length;
  options.trackers = tracker_tiers(opt);
  options.web_seeds = opt.web_seeds;
  options.is_private = opt.is_private;
  options.comment = opt.comment;
  options.source = opt.source;
  options.pad_files = opt.pad;
  options.name = opt.name;
  options.threads = opt.threads;
  if (!opt.no_date) options.creation_date = static_cast<std::int64_t>(std::time(nullptr));
  if (!opt.name.empty()) {
    if (auto why = unsafe_name(opt.name)) {
      std::fprintf(stderr, "peerwire: --name: %s\n", why->c_str());
      return exit_usage;
    }
  }

  std::string output = opt.output.empty() ? expected_name(opt) + ".torrent" : opt.output;
  std::error_code ec;
  if (!opt.force && fs::exists(output, ec)) {
    std::fprintf(stderr, "peerwire: %s already exists (use --force to replace it)\n",
                 printable(output).c_str());
    return exit_io;
  }

  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  progress_printer progress(opt.quiet || opt.json);
  auto started = clock_type::now();
  auto created = create_torrent(opt.path, options, std::ref(progress), &g_stop);
  double seconds = std::chrono::duration<double>(clock_type::now() - started).count();
  if (g_stop.load()) {
    std::fprintf(stderr, "\npeerwire: interrupted; no torrent written\n");
    return exit_interrupted;
  }
  if (!created) {
    std::fprintf(stderr, "peerwire: cannot create a torrent from %s: %s\n",
                 printable(opt.path).c_str(), printable(created.error().describe()).c_str());
    // A missing or unreadable source is an I/O problem; everything else is bad input.
    const std::string& msg = created.error().message;
    bool io = msg.find("cannot") != std::string::npos || msg.find("No such") != std::string::npos ||
              msg.find("does not exist") != std::string::npos;
    return io ? exit_io : exit_bad_input;
  }

  std::string error;
  if (!write_file_atomically(output, created->torrent, opt.force, error)) {
    std::fprintf(stderr, "peerwire: %s\n", printable(error).c_str());
    return exit_io;
  }
  if (!opt.quiet && !opt.json) {
    for (const auto& s : created->skipped)
      std::fprintf(stderr, "peerwire: skipped %s\n", printable(s).c_str());
  }

  magnet_link link;
  link.hash.v1 = created->info_hash;
  link.display_name = created->name;
  for (const auto& tier : options.trackers)
    link.trackers.insert(link.trackers.end(), tier.begin(), tier.end());
  link.web_seeds = options.web_seeds;
  double rate = seconds > 0 ? static_cast<double>(created->total_size) / seconds : 0;

  if (opt.json) {
    boost::json::object o;
    o["torrent"] = valid_utf8(output);
    o["name"] = valid_utf8(created->name);
    o["info_hash"] = created->info_hash.hex();
    o["magnet"] = valid_utf8(format_magnet(link));
    o["total_size"] = created->total_size;
    o["file_count"] = created->file_count;
    o["piece_length"] = created->piece_length;
    o["piece_count"] = created->piece_count;
    o["seconds"] = seconds;
    o["bytes_per_second"] = rate;
    boost::json::array skipped;
    for (const auto& s : created->skipped) skipped.push_back(boost::json::string(valid_utf8(s)));
    o["skipped"] = std::move(skipped);
    std::string text = json_text(o);
    std::fwrite(text.data(), 1, text.size(), stdout);
    return exit_ok;
  }
  std::string text = fmt::format(
      "Created {}\n  Name:       {}\n  Info-hash:  {}\n  Magnet:     {}\n  Content:    {} in {} "
      "{}, "
      "{} pieces of {}\n  Hashed in {:.2f} s ({}/s)\n",
      printable(output), printable(created->name), created->info_hash.hex(),
      printable(format_magnet(link)), human_size(created->total_size), created->file_count,
      created->file_count == 1 ? "file" : "files", created->piece_count,
      human_size(created->piece_length), seconds, human_size(static_cast<std::int64_t>(rate)));
  std::fwrite(text.data(), 1, text.size(), stdout);
  return exit_ok;
}

}  // namespace peerwire::app
