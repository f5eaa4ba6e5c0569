// The torrent a command works on, from a .torrent file ("-" = standard input), a magnet link
// or a bare --info-hash. One loader, so every command reads them alike and reports the same
// problems with the same words; the options keep the few differences the commands have
// always had (scripts and tests rely on each command's messages and exit codes).
#pragma once

#include <optional>
#include <string>

#include "exit_codes.hpp"
#include "peerwire/info_hash.hpp"
#include "peerwire/magnet.hpp"
#include "peerwire/metainfo.hpp"

namespace peerwire::app {

struct torrent_source_options {
  // Exit code for a malformed --info-hash (probe and trace call it a usage error).
  int bad_info_hash_code = exit_usage;
  // "magnet:" in any letter case; download has only ever taken the lowercase scheme (anything
  // else is a file name there).
  bool magnet_any_case = true;
  // The sentence printed (exit 2) for a magnet link without a v1 (btih) hash. Empty: such a
  // link is accepted and info_hash stays unset (info shows what the link holds).
  std::string no_v1_message = "the magnet link has no v1 (btih) info-hash";
  // A file over the size limit is bad input (2) rather than an I/O failure (3).
  bool oversized_is_bad_input = false;
};

struct loaded_torrent {
  std::optional<sha1_hash> info_hash;  // v1; unset only for an accepted v2-only magnet link
  std::optional<metainfo> torrent;     // read from a file
  std::optional<magnet_link> magnet;   // parsed from a magnet link
};

// For commands that also take --info-hash: false (after printing why) unless exactly one of
// `input` and `info_hash` is given. The caller exits with exit_usage.
bool exactly_one_source(const std::string& input, const std::string& info_hash);

// Loads `info_hash` when it is non-empty, otherwise `input` (magnet link or file). On failure
// prints why on stderr, sets `exit_code` and returns nullopt.
std::optional<loaded_torrent> load_torrent(const std::string& input, const std::string& info_hash,
                                           const torrent_source_options& options, int& exit_code);

}  // namespace peerwire::app
