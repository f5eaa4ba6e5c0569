// `peerwire info FILE.torrent|MAGNET [--json]`: what transmission-show prints, plus the
// magnet link, padding files and exact byte offsets of errors.
#include "commands.hpp"

#include <cstdio>

#include <fmt/compile.h>
#include <fmt/format.h>
#include <boost/json.hpp>

#include "exit_codes.hpp"
#include "peerwire/magnet.hpp"
#include "peerwire/metainfo.hpp"
#include "text.hpp"
#include "torrent_source.hpp"

namespace peerwire::app {
namespace {

namespace json = boost::json;

std::string magnet_for(const metainfo& m) {
  magnet_link link;
  link.hash = m.hash;
  link.display_name = m.name;
  for (const auto& tier : m.trackers) {
    for (const auto& url : tier) link.trackers.push_back(url);
  }
  link.web_seeds = m.web_seeds;
  return format_magnet(link);
}

json::string jstr(std::string_view s) {
  return json::string(valid_utf8(s));
}

json::array jstrings(const std::vector<std::string>& v) {
  json::array a;
  a.reserve(v.size());
  for (const auto& s : v) a.push_back(jstr(s));
  return a;
}

void write_out(std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
}

void print_json(json::object o) {
  write_out(json_text(json::value(std::move(o))));
}

json::object torrent_json(const metainfo& m) {
  json::object o;
  o["type"] = "torrent";
  o["name"] = jstr(m.name);
  o["info_hash"] = m.hash.v1->hex();
  o["info_hash_base32"] = m.hash.v1->base32();
  o["magnet"] = jstr(magnet_for(m));
  o["total_size"] = m.total_size;
  o["content_size"] = m.content_size();
  o["piece_length"] = m.piece_length;
  o["piece_count"] = m.piece_count();
  o["private"] = m.is_private;
  o["multi_file"] = m.multi_file;
  o["creation_date"] = m.creation_date ? json::value(*m.creation_date) : json::value(nullptr);
  o["created_by"] = jstr(m.created_by);
  o["comment"] = jstr(m.comment);
  o["source"] = jstr(m.source);
  o["encoding"] = jstr(m.encoding);
  json::array tiers;
  for (const auto& tier : m.trackers) tiers.push_back(jstrings(tier));
  o["trackers"] = std::move(tiers);
  o["web_seeds"] = jstrings(m.web_seeds);
  json::array files;
  files.reserve(m.files.size());
  for (const auto& f : m.files) {
    json::object jf;
    jf["path"] = jstr(f.joined_path());
    jf["size"] = f.size;
    jf["offset"] = f.offset;
    jf["pad"] = f.pad;
    jf["executable"] = f.executable;
    jf["hidden"] = f.hidden;
    files.push_back(std::move(jf));
  }
  o["files"] = std::move(files);
  return o;
}

void print_torrent(const metainfo& m) {
  fmt::memory_buffer out;
  auto line = [&](std::string_view label, const std::string& value) {
    fmt::format_to(std::back_inserter(out), "{:<12} {}\n", label, value);
  };
  std::size_t pad_count = 0;
  for (const auto& f : m.files) pad_count += f.pad ? 1 : 0;

  line("Name:", printable(m.name));
  line("Info-hash:", m.hash.v1->hex() + "  (v1, base32 " + m.hash.v1->base32() + ")");
  line("Magnet:", printable(magnet_for(m)));
  std::string size = human_size(m.content_size()) + " (" + grouped(m.content_size()) +
                     " bytes) in " +
                     grouped(static_cast<std::int64_t>(m.files.size() - pad_count)) +
                     (m.files.size() - pad_count == 1 ? " file" : " files");
  if (pad_count > 0) size += fmt::format(", plus {} padding files", pad_count);
  line("Size:", size);
  line("Pieces:",
       fmt::format("{} x {}{}", grouped(static_cast<std::int64_t>(m.piece_count())),
                   human_size(m.piece_length),
                   m.piece_count() > 1 && m.piece_size(m.piece_count() - 1) != m.piece_length
                       ? fmt::format(" (last {})", human_size(m.piece_size(m.piece_count() - 1)))
                       : ""));
  line("Private:", m.is_private ? "yes (peers only from trackers: no DHT, no PEX)" : "no");
  std::string created = m.creation_date ? utc_time(*m.creation_date) : "unknown date";
  if (!m.created_by.empty()) created += " by " + printable(m.created_by);
  line("Created:", created);
  if (!m.comment.empty()) line("Comment:", printable(m.comment));
  if (!m.source.empty()) line("Source:", printable(m.source));
  if (!m.encoding.empty()) line("Encoding:", printable(m.encoding));

  fmt::format_to(std::back_inserter(out), "\nTrackers:\n");
  if (m.trackers.empty()) fmt::format_to(std::back_inserter(out), "  (none)\n");
  for (std::size_t t = 0; t < m.trackers.size(); ++t) {
    for (std::size_t i = 0; i < m.trackers[t].size(); ++i) {
      fmt::format_to(std::back_inserter(out), "  {:<8} {}\n",
                     i == 0 ? fmt::format("tier {}", t + 1) : "", printable(m.trackers[t][i]));
    }
  }
  if (!m.web_seeds.empty()) {
    fmt::format_to(std::back_inserter(out), "\nWeb seeds:\n");
    for (const auto& ws : m.web_seeds)
      fmt::format_to(std::back_inserter(out), "  {}\n", printable(ws));
  }

  fmt::format_to(std::back_inserter(out), "\nFiles:\n");
  for (const auto& f : m.files) {
    fmt::format_to(std::back_inserter(out), "  {:>10}  {}{}{}\n", human_size(f.size),
                   printable(f.joined_path()), f.executable ? "  [executable]" : "",
                   f.pad ? "  [padding]" : "");
  }
  write_out(std::string_view(out.data(), out.size()));
}

json::object magnet_json(const magnet_link& link) {
  json::object o;
  o["type"] = "magnet";
  o["name"] = jstr(link.display_name);
  o["info_hash"] = link.hash.v1 ? json::value(link.hash.v1->hex()) : json::value(nullptr);
  o["info_hash_base32"] = link.hash.v1 ? json::value(link.hash.v1->base32()) : json::value(nullptr);
  o["magnet"] = jstr(format_magnet(link));
  o["trackers"] = jstrings(link.trackers);
  o["web_seeds"] = jstrings(link.web_seeds);
  o["peers"] = jstrings(link.peers);
  o["select_only"] = jstrings(link.select_only);
  return o;
}

void print_magnet(const magnet_link& link) {
  fmt::memory_buffer out;
  auto line = [&](std::string_view label, const std::string& value) {
    fmt::format_to(std::back_inserter(out), "{:<12} {}\n", label, value);
  };
  line("Name:", link.display_name.empty() ? "(not given)" : printable(link.display_name));
  if (link.hash.v1)
    line("Info-hash:", link.hash.v1->hex() + "  (v1, base32 " + link.hash.v1->base32() + ")");
  if (link.hash.v2) line("Info-hash:", "v2 (BEP 52) present; v2 torrents are not supported yet");
  line("Magnet:", printable(format_magnet(link)));
  line("Size:", "unknown until the metadata is fetched from peers");
  auto list = [&](std::string_view title, const std::vector<std::string>& items) {
    if (items.empty()) return;
    fmt::format_to(std::back_inserter(out), "\n{}:\n", title);
    for (const auto& s : items) fmt::format_to(std::back_inserter(out), "  {}\n", printable(s));
  };
  list("Trackers", link.trackers);
  list("Web seeds", link.web_seeds);
  list("Peers", link.peers);
  list("Selected files", link.select_only);
  write_out(std::string_view(out.data(), out.size()));
}

}  // namespace

int run_info(const info_options& opt) {
  torrent_source_options so;
  so.no_v1_message.clear();  // a v2-only link is shown, not refused
  so.oversized_is_bad_input = true;
  int code = exit_ok;
  auto t = load_torrent(opt.input, {}, so, code);
  if (!t) return code;
  if (t->magnet) {
    if (opt.json) {
      print_json(magnet_json(*t->magnet));
    } else {
      print_magnet(*t->magnet);
    }
  } else if (opt.json) {
    print_json(torrent_json(*t->torrent));  // moved: the tree for 100k files is large
  } else {
    print_torrent(*t->torrent);
  }
  return exit_ok;
}

}  // namespace peerwire::app
