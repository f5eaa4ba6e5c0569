// `peerwire scrape (TORRENT|MAGNET | --tracker URL... --info-hash HEX) [--json]`: asks each
// tracker how many seeders, leechers and completed downloads it counts for one torrent (BEP 48
// over HTTP, BEP 15 over UDP), all trackers at once.
#include <algorithm>
#include <cstdio>
#include <set>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "commands.hpp"
#include "exit_codes.hpp"
#include "peerwire/tracker_policy.hpp"
#include "peerwire/tracker_scrape_run.hpp"
#include "text.hpp"
#include "torrent_source.hpp"

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
  if (!exactly_one_source(opt.torrent, opt.info_hash)) {
    code = exit_usage;
    return std::nullopt;
  }
  torrent_source_options so;
  so.bad_info_hash_code = exit_bad_input;
  auto loaded = load_torrent(opt.torrent, opt.info_hash, so, code);
  if (!loaded) return std::nullopt;
  target t;
  t.info_hash = *loaded->info_hash;
  if (loaded->magnet) {
    t.name = loaded->magnet->display_name;
    for (const auto& url : loaded->magnet->trackers) add_unique(t.trackers, url);
  } else if (loaded->torrent) {
    t.name = loaded->torrent->name;
    for (const auto& tier : loaded->torrent->trackers) {
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
