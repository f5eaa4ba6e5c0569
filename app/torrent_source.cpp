#include "torrent_source.hpp"

#include <cstdio>

#include "files.hpp"
#include "text.hpp"

namespace peerwire::app {
namespace {

std::nullopt_t fail(int& exit_code, int code, const std::string& message) {
  std::fprintf(stderr, "peerwire: %s\n", message.c_str());
  exit_code = code;
  return std::nullopt;
}

}  // namespace

bool exactly_one_source(const std::string& input, const std::string& info_hash) {
  if (input.empty() + info_hash.empty() == 1) return true;
  std::fprintf(stderr,
               "peerwire: give exactly one of a .torrent file, a magnet link or --info-hash\n");
  return false;
}

std::optional<loaded_torrent> load_torrent(const std::string& input, const std::string& info_hash,
                                           const torrent_source_options& options, int& exit_code) {
  loaded_torrent t;
  if (!info_hash.empty()) {
    auto h = sha1_hash::parse(info_hash);
    if (!h) {
      return fail(exit_code, options.bad_info_hash_code,
                  "--info-hash must be 40 hex digits or 32 base32 characters");
    }
    t.info_hash = *h;
    return t;
  }

  if (options.magnet_any_case ? looks_like_magnet(input) : input.starts_with("magnet:")) {
    auto link = parse_magnet(input);
    if (!link) {
      return fail(exit_code, exit_bad_input,
                  "invalid magnet link: " + printable(link.error().describe()));
    }
    if (!link->hash.v1 && !options.no_v1_message.empty())
      return fail(exit_code, exit_bad_input, options.no_v1_message);
    t.info_hash = link->hash.v1;
    t.magnet = std::move(*link);
    return t;
  }

  metainfo_limits limits;
  std::string error;
  auto data = read_whole_file(input, limits.bencode.max_input_size, error);
  if (!data) {
    bool oversized = error.find("larger than the limit") != std::string::npos;
    return fail(exit_code, options.oversized_is_bad_input && oversized ? exit_bad_input : exit_io,
                printable(error));
  }
  auto m = parse_metainfo(*data, limits);
  if (!m) {
    return fail(exit_code, exit_bad_input,
                "invalid torrent " + printable(input) + ": " + printable(m.error().describe()));
  }
  t.info_hash = m->hash.v1;
  t.torrent = std::move(*m);
  return t;
}

}  // namespace peerwire::app
