// Resume data: which pieces were verified and written, plus each file's size and mtime when
// that was recorded, so a restart skips the full recheck yet notices files changed behind its
// back.
//
// Crash safety comes from the order the caller follows when saving:
//   1. snapshot `have` (only pieces whose write_piece() has returned),
//   2. disk_storage::flush() -- or, instead, unsynced_boot = boot_id() (see below),
//   3. stamps = disk_storage::stamps(),
//   4. save_resume_atomically().
// A piece written after step 1 is not claimed; if it changed a file's mtime, restarting
// rechecks that file's pieces (see pieces_to_recheck) and finds it anyway. The file on disk is
// always either the old or the new resume data, never a mix (temp file + fsync + rename).
//
// Skipping the flush: a written piece is in the page cache at once, and only a crash of the
// machine itself (power loss, kernel panic) can lose it; a crash or kill of the process
// cannot. So a record saved without flushing names the boot it was saved in, and its claims
// are trusted only while that boot lasts (claims_trusted); after a reboot the claimed pieces
// are checked again. That spares a sync of every downloaded byte on each save (a whole disk
// write at the end of a download) without ever claiming data a power cut took away.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "peerwire/info_hash.hpp"
#include "peerwire/metainfo.hpp"
#include "peerwire/result.hpp"
#include "peerwire/storage.hpp"

namespace peerwire::storage {

inline constexpr std::int64_t resume_format_version = 1;

struct resume_data {
  sha1_hash info_hash;
  std::vector<bool> have;         // one per piece
  std::vector<file_stamp> files;  // one per metainfo file
  std::int64_t uploaded = 0;      // bytes, across sessions
  std::int64_t downloaded = 0;
  // Empty: the data was flushed before this was saved. Otherwise the boot_id() of the boot
  // in which it was saved without a flush.
  std::string unsynced_boot;
  bool operator==(const resume_data&) const = default;
};

// Canonical bencode: {format, version, info-hash, pieces (bitfield, high bit first), files
// ([size, mtime_ns] each), uploaded, downloaded, and "unsynced boot" when not empty}.
std::string encode_resume(const resume_data& r);

// Parses resume data and checks it belongs to `m`: same info-hash, piece count and file count,
// sane values. Any garbled, truncated or hostile input is an error with a reason.
result<resume_data> decode_resume(std::string_view bytes, const metainfo& m);

// Writes `path` atomically: `path`.tmp is written, fsync'd and renamed over `path`, then the
// directory is fsync'd. Creates the parent directory when missing.
storage_result<void> save_resume_atomically(const std::filesystem::path& path,
                                            const resume_data& r);

// This boot's identity (/proc/sys/kernel/random/boot_id); nullopt where there is none, and
// then every save must flush.
std::optional<std::string> boot_id();

// Whether `r`'s claims hold now: it was flushed, or saved unflushed during this very boot.
bool claims_trusted(const resume_data& r);

// Reads and decodes `path`; nullopt when the file does not exist (a first start).
result<std::optional<resume_data>> load_resume(const std::filesystem::path& path,
                                               const metainfo& m);

// Pieces whose state on disk may differ from `r.have`, sorted. A file is changed when its
// current stamp differs from the recorded one or its size is not the torrent's. Every piece
// touching a changed file is returned, had or not, so data written after the last save is
// found too; except that a piece not had that touches a missing file is skipped (it cannot be
// on disk). A had piece touching a missing file is always returned. The caller checks these
// with check_pieces() and takes its answer as the truth for them.
std::vector<std::uint32_t> pieces_to_recheck(const metainfo& m, const resume_data& r,
                                             const std::vector<file_stamp>& current);

}  // namespace peerwire::storage
