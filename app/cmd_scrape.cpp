// `peerwire scrape (TORRENT|MAGNET | --tracker URL... --info-hash HEX) [--json]`: asks each
// tracker how many seeders, leechers and completed downloads it counts for one torrent (BEP 48
// over HTTP, BEP 15 over UDP), all trackers at once.
#include <cstdio>
#include <set>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "commands.hpp"
#include "exit_codes.hpp"
#include "files.hpp"
#include "peerwire/magnet.hpp"
#include "peerwire/metainfo.hpp"
#include "peerwire/tracker_policy.hpp"
#include "peerwire/tracker_scrape_run.hpp"
#include "text.hpp"

namespace peerwire::app {
namespace {

namespace json = boost::json;

struct target {
  sha1_hash info_hash;
  std::string name;
  std::vector<std::string> trackers;  // every tier, in order, duplicates removed
};

void add_unique(std::vector<std::string>& out, const std::string& url) {
  if (!url.empty() && std::find(out.begin(), out.end(), url) == out.end()) out.push_back(url);
}

// Loads what to scrape from the command line; on failure prints why and sets `code`.
std::optional<target> load_target(const scrape_cli_options& opt, int& code) {
  target t;
  int sources = !opt.info_hash.empty() + !opt.torrent.empty();
  if (sources != 1) {
    std::fprintf(stderr,
                 "peerwire: give exactly one of a .torrent file, a magnet link or --info-hash\n");
    code = exit_usage;
    return std::nullopt;
  }
  if (!opt.info_hash.empty()) {
    auto h = sha1_hash::parse(opt.info_hash);
    if (!h) {
      std::fprintf(stderr, "peerwire: --info-hash must be 40 hex digits or 32 base32 characters\n");
      code = exit_bad_input;
      return std::nullopt;
    }
    t.info_hash = *h;
  } else if (looks_like_magnet(opt.torrent)) {
    auto link = parse_magnet(opt.torrent);
    if (!link) {
      std::fprintf(stderr, "peerwire: invalid magnet link: %s\n",
                   printable(link.error().describe()).c_str());
      code = exit_bad_input;
      return std::nullopt;
    }
    if (!link->hash.v1) {
      std::fprintf(stderr, "peerwire: the magnet link has no v1 (btih) info-hash\n");
      code = exit_bad_input;
      return std::nullopt;
    }
    t.info_hash = *link->hash.v1;
    t.name = link->display_name;
    for (const auto& url : link->trackers) add_unique(t.trackers, url);
  } else {
    std::string error;
    metainfo_limits limits;
    auto data = read_whole_file(opt.torrent, limits.bencode.max_input_size, error);
    if (!data) {
      std::fprintf(stderr, "peerwire: %s\n", printable(error).c_str());
      code = exit_io;
      return std::nullopt;
    }
    auto m = parse_metainfo(*data, limits);
    if (!m) {
      std::fprintf(stderr, "peerwire: invalid torrent %s: %s\n", printable(opt.torrent).c_str(),
                   printable(m.error().describe()).c_str());
      code = exit_bad_input;
      return std::nullopt;
    }
    t.info_hash = *m->hash.v1;
    t.name = m->name;
    for (const auto& tier : m->trackers) {
      for (const auto& url : tier) add_unique(t.trackers, url);
    }
  }
  // --tracker replaces the torrent's own list. A URL the user typed that we would never
  // contact is a mistake worth stopping for; a bad one inside a torrent is just reported.
  if (!opt.trackers.empty()) {
    t.trackers.clear();
    for (const auto& url : opt.trackers) {
      auto kind = tracker::tracker_url_kind(url);
      if (!kind) {
        std::fprintf(stderr, "peerwire: --tracker %s: %s\n", printable(url).c_str(),
                     printable(kind.error().message).c_str());
        code = exit_bad_input;
        return std::nullopt;
      }
      add_unique(t.trackers, url);
    }
  }
  if (t.trackers.empty()) {
    std::fprintf(stderr, "peerwire: no tracker to scrape (the %s has none; use --tracker URL)\n",
                 opt.info_hash.empty() ? "torrent" : "command line");
    code = exit_bad_input;
    return std::nullopt;
  }
  return t;
}

const tracker::scrape_stats* stats_for(const tracker::scrape_outcome& o, const sha1_hash& h) {
  for (const auto& s : o.stats) {
    if (s.info_hash == h) return &s;
  }
  return nullptr;
}

void print_text(const target& t, const std::vector<tracker::scrape_outcome>& outcomes) {
  std::string out = fmt::format("Info-hash {}{}\n", t.info_hash.hex(),
                                t.name.empty() ? "" : "  (" + printable(t.name) + ")");
  for (const auto& o : outcomes) {
    out += fmt::format("  {}\n", printable(o.tracker));
    if (!o.ok) {
      out += fmt::format("      error: {}\n", printable(o.error));
    } else if (const auto* s = stats_for(o, t.info_hash)) {
      out += fmt::format("      seeders {}  leechers {}  completed {}  ({:.0f} ms)\n", s->seeders,
                         s->leechers, s->completed, o.seconds * 1000);
    } else {
      out += fmt::format("      not listed: the tracker does not know this torrent ({:.0f} ms)\n",
                         o.seconds * 1000);
    }
    for (const auto& n : o.notes) out += fmt::format("      note: {}\n", printable(n));
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
}

void print_json(const target& t, const std::vector<tracker::scrape_outcome>& outcomes,
                std::size_t answered) {
  json::array trackers;
  for (const auto& o : outcomes) {
    json::object j;
    j["url"] = valid_utf8(o.tracker);
    j["ok"] = o.ok;
    j["seconds"] = o.seconds;
    if (!o.ok) {
      j["error"] = valid_utf8(o.error);
    } else {
      const auto* s = stats_for(o, t.info_hash);
      j["listed"] = s != nullptr;
      j["seeders"] = s ? s->seeders : 0;
      j["leechers"] = s ? s->leechers : 0;
      j["completed"] = s ? s->completed : 0;
    }
    json::array notes;
    for (const auto& n : o.notes) notes.push_back(json::string(valid_utf8(n)));
    j["notes"] = std::move(notes);
    trackers.push_back(std::move(j));
  }
  json::object root{{"info_hash", t.info_hash.hex()},
                    {"name", valid_utf8(t.name)},
                    {"trackers", std::move(trackers)},
                    {"answered", answered}};
  std::string text = json_text(root) + "\n";
  std::fwrite(text.data(), 1, text.size(), stdout);
}

}  // namespace

int run_scrape(const scrape_cli_options& opt) {
  int code = exit_ok;
  auto t = load_target(opt, code);
  if (!t) return code;
  if (opt.timeout <= 0 || opt.timeout > 600) {
    std::fprintf(stderr, "peerwire: --timeout must be between 0 and 600 seconds\n");
    return exit_usage;
  }
  tracker::scrape_run_options ro;
  ro.timeout = std::chrono::milliseconds(static_cast<long>(opt.timeout * 1000));
  ro.udp_retransmit = std::chrono::milliseconds(static_cast<long>(opt.udp_retransmit * 1000));
  auto outcomes = tracker::scrape_trackers(t->trackers, {t->info_hash}, ro);
  std::size_t answered = 0;
  for (const auto& o : outcomes) answered += o.ok;
  if (opt.json) {
    print_json(*t, outcomes, answered);
  } else {
    print_text(*t, outcomes);
  }
  return answered > 0 ? exit_ok : exit_no_tracker_answer;
}

}  // namespace peerwire::app
