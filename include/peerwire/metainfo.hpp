// .torrent files (BEP 3) with announce-list (BEP 12), url-list web seeds (BEP 19), the private
// flag (BEP 27) and padding files (BEP 47). Parsing is strict about everything that decides
// what data is downloaded and where it is written, lenient about decoration (trackers,
// comments) where real-world files are sloppy.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "peerwire/bencode.hpp"
#include "peerwire/info_hash.hpp"
#include "peerwire/result.hpp"

namespace peerwire {

struct metainfo_limits {
  bencode::limits bencode{};  // input ≤ 10 MB, depth ≤ 100, ≤ 3M tokens
  std::size_t max_pieces = std::size_t{1} << 21;
  std::size_t max_path_depth = 100;  // components in one file path
  std::size_t max_files = 1'000'000;
  std::int64_t max_piece_length = std::int64_t{1} << 29;  // 512 MiB
};

struct file_entry {
  // Components relative to the download directory: {name} for a single-file torrent,
  // {name, dir..., file} for a multi-file one. Already checked to be safe: no "..", ".",
  // empty, '/', '\\', NUL or control characters.
  std::vector<std::string> path;
  std::int64_t size = 0;
  std::int64_t offset = 0;  // of the file's first byte in the torrent's byte stream
  bool pad = false;         // BEP 47 padding: never created on disk
  bool executable = false;  // attr 'x'
  bool hidden = false;      // attr 'h'

  // path joined with '/'
  std::string joined_path() const;
};

struct metainfo {
  info_hash hash;  // v1: SHA-1 of the exact info dict bytes
  std::string name;
  bool multi_file = false;  // a `files` list (even with one entry): data under name/
  std::int64_t piece_length = 0;
  std::vector<sha1_digest> pieces;  // one SHA-1 per piece
  std::int64_t total_size = 0;      // including padding files
  std::vector<file_entry> files;

  std::string announce;                            // as written (may be empty)
  std::vector<std::vector<std::string>> trackers;  // tiers: announce-list, else {announce}
  std::vector<std::string> web_seeds;              // url-list
  bool is_private = false;
  std::optional<std::int64_t> creation_date;  // seconds since the epoch
  std::string comment;
  std::string created_by;
  std::string encoding;
  std::string source;  // info["source"], used by private trackers

  std::string info_bytes;  // the exact bencoded info dict (for serving metadata, BEP 9)

  std::size_t piece_count() const { return pieces.size(); }
  // Size of piece i (the last one may be shorter).
  std::int64_t piece_size(std::size_t i) const;
  // Bytes that are not padding.
  std::int64_t content_size() const;
};

// Parses a whole .torrent file. Errors describe the problem in words and carry the byte offset
// where it applies (bencode syntax errors, and the offending value for semantic errors).
result<metainfo> parse_metainfo(std::string_view torrent_file, const metainfo_limits& lim = {});

// Parses just an info dictionary (e.g. received over BEP 9); `hash` is computed from it.
result<metainfo> parse_info_dict(std::string_view info_dict, const metainfo_limits& lim = {});

// Checks one path component; returns a reason when it is unsafe to use as a file name.
std::optional<std::string> unsafe_path_component(std::string_view component);

}  // namespace peerwire
