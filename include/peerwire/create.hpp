// Creating .torrent files (BEP 3 metainfo with BEP 12 tiers, BEP 19 web seeds, BEP 27 private
// flag and BEP 47 padding/attributes) from a file or a directory on disk.
//
// The steps are exposed separately so a front end can report what it is doing and tests can
// check each one: scan_source() -> choose a piece length -> add_padding() -> hash_pieces() ->
// build_torrent(). create_torrent() runs them all.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "peerwire/info_hash.hpp"
#include "peerwire/result.hpp"
#include "peerwire/sha1.hpp"

namespace peerwire {

// Piece length ---------------------------------------------------------------------------

inline constexpr std::int64_t min_piece_length = std::int64_t{16} << 10;       // 16 KiB
inline constexpr std::int64_t max_auto_piece_length = std::int64_t{16} << 20;  // 16 MiB
// Largest length accepted from the user; matches what parse_metainfo accepts by default.
inline constexpr std::int64_t max_piece_length = std::int64_t{512} << 20;

// Power of two in [16 KiB, 16 MiB], the smallest that keeps the torrent at or below about
// 2000 pieces (2 GiB -> 2 MiB). `total_size` is the content size, without padding.
std::int64_t auto_piece_length(std::int64_t total_size);

// Why `length` cannot be a piece length (not a power of two, below 16 KiB, above 512 MiB), or
// nullopt when it can.
std::optional<std::string> piece_length_problem(std::int64_t length);

// Parses a user-supplied piece size: "auto" (-> 0), plain bytes ("262144"), or a number with a
// binary unit, case-insensitive: K/KiB/KB, M/MiB/MB, G/GiB/GB all mean powers of 1024. The
// result is validated with piece_length_problem() unless it is 0.
result<std::int64_t> parse_piece_length(std::string_view text);

// Scanning ------------------------------------------------------------------------------

struct source_file {
  std::filesystem::path disk_path;      // empty for padding
  std::vector<std::string> components;  // path inside the torrent (one item for single-file)
  std::int64_t size = 0;
  bool pad = false;         // BEP 47 padding file: hashed as zeros, never read from disk
  bool executable = false;  // owner execute bit set: attr "x"
};

struct source_tree {
  std::vector<source_file> files;  // regular files, sorted by components (bytewise)
  bool single_file = false;        // the root itself is a file
  std::string name;                // last component of the root path
  // Entries that were left out, as "relative/path: reason" (symlinks to directories, broken
  // symlinks, sockets, FIFOs, devices), for the front end to show.
  std::vector<std::string> skipped;
};

// Walks `root` (a file or a directory). Symlinks to files are followed; symlinks to
// directories are not entered. Fails when the root is missing, a directory holds no files, a
// directory cannot be read, or a name cannot be stored safely in a torrent.
result<source_tree> scan_source(const std::filesystem::path& root);

// Checks one path component for use in a torrent; the rules match what parse_metainfo accepts.
std::optional<std::string> unsafe_name(std::string_view component);

// Sum of file sizes (including any padding entries).
std::int64_t total_size(const std::vector<source_file>& files);

// BEP 47: after every file except the last non-empty one, inserts a padding entry
// (components {".pad", "N"}) so that the next file starts on a piece boundary.
std::vector<source_file> add_padding(std::vector<source_file> files, std::int64_t piece_length);

// Hashing -------------------------------------------------------------------------------

struct create_progress {
  std::int64_t bytes_hashed = 0;
  std::int64_t bytes_total = 0;
  std::size_t pieces_done = 0;
  std::size_t piece_count = 0;
};

// Called from the thread that called hash_pieces()/create_torrent(), never concurrently:
// about every 100 ms while hashing and once at the end.
using progress_callback = std::function<void(const create_progress&)>;

// SHA-1 of every piece of the concatenated files. `threads` workers (0 = hardware concurrency)
// claim pieces and read them with pread() from files opened once and shared. Fails with a
// message naming the file when a read fails or a file changes size or is modified while it is
// hashed, and with "cancelled" when *stop becomes true (checked between reads).
result<std::vector<sha1_digest>> hash_pieces(const std::vector<source_file>& files,
                                             std::int64_t piece_length, unsigned threads = 0,
                                             const progress_callback& on_progress = {},
                                             const std::atomic<bool>* stop = nullptr);

// Building ------------------------------------------------------------------------------

struct create_options {
  std::vector<std::vector<std::string>> trackers;  // tiers; empty URLs and tiers are dropped
  std::vector<std::string> web_seeds;              // BEP 19 url-list
  std::int64_t piece_length = 0;                   // 0 = auto_piece_length()
  bool is_private = false;
  std::string comment;
  std::string source;  // info["source"]: makes the info-hash unique per private tracker
  std::string created_by = "peerwire/0.1.0";
  std::optional<std::int64_t> creation_date;  // seconds since the epoch; nullopt = omit
  bool pad_files = false;                     // BEP 47 padding so every file is piece-aligned
  std::string name;                           // overrides the root's last path component
  unsigned threads = 0;                       // 0 = hardware concurrency
};

// The bencoded .torrent for already-hashed files (canonical: keys sorted bytewise).
// `files` is the list that was hashed, padding included.
std::string build_torrent(const std::vector<source_file>& files, bool single_file,
                          const std::string& name, std::int64_t piece_length,
                          const std::vector<sha1_digest>& pieces, const create_options& options);

struct created_torrent {
  std::string torrent;  // the .torrent file bytes
  sha1_hash info_hash;
  std::string name;
  std::int64_t piece_length = 0;
  std::size_t piece_count = 0;
  std::int64_t total_size = 0;       // content bytes, without padding
  std::size_t file_count = 0;        // without padding
  std::vector<std::string> skipped;  // from scan_source()
};

// Scans `path`, hashes and builds the torrent: single-file when `path` is a file, otherwise a
// `files` list under the directory's name. Fails before hashing on a bad piece length or when
// the result would exceed the 10 MB that libtorrent and parse_metainfo load by default.
result<created_torrent> create_torrent(const std::filesystem::path& path,
                                       const create_options& options,
                                       const progress_callback& on_progress = {},
                                       const std::atomic<bool>* stop = nullptr);

}  // namespace peerwire
