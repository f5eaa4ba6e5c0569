// Torrent data on disk: pieces mapped over files, positioned reads and writes (pread/pwrite,
// never mmap), read-back hashing and multi-threaded checking.
//
// The torrent keeps a piece in memory until it is complete and verified, so storage only ever
// writes whole verified pieces: no unverified byte reaches the disk. Every call is synchronous
// and may run on any thread of the disk pool at the same time as any other call.
//
// Path safety: every file is reached from `save_path` by openat() one component at a time with
// O_NOFOLLOW, so no symbolic link below `save_path` is ever followed (neither a directory nor
// the file itself), and only regular files are read or written. `save_path` itself may be a
// symlink: the user chose it. Hard links are not detected.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "peerwire/metainfo.hpp"
#include "peerwire/sha1.hpp"

namespace peerwire::storage {

namespace internal {
class storage_core;
}

// Errors --------------------------------------------------------------------------------

// What the caller should do about an error: disk_full and permission pause the torrent until
// the user acts; missing means data vanished (recheck); the rest pause with the message.
enum class error_kind : std::uint8_t {
  disk_full,         // ENOSPC, EDQUOT, EFBIG
  permission,        // EACCES, EPERM, EROFS
  missing,           // a file is absent or shorter than the torrent says
  unsafe_path,       // a symlink or non-regular file where a torrent file or directory goes
  io,                // anything else (EIO, ...)
  cancelled,         // check_pieces() stopped by its stop flag
  invalid_argument,  // piece index, offset or size out of range (a caller bug)
};

const char* kind_name(error_kind k);

struct storage_error {
  error_kind kind = error_kind::io;
  int code = 0;         // errno, 0 when the error did not come from a system call
  std::string message;  // a sentence naming the file, e.g. "cannot write /d/a.bin: the disk is
                        // full (No space left on device)"
};

// A value or a storage_error (result<T> carries no kind, and the kind decides pause vs recheck).
template <class T>
class [[nodiscard]] storage_result {
 public:
  storage_result(T value) : v_(std::in_place_index<0>, std::move(value)) {}      // NOLINT
  storage_result(storage_error e) : v_(std::in_place_index<1>, std::move(e)) {}  // NOLINT

  bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const storage_error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, storage_error> v_;
};

template <>
class [[nodiscard]] storage_result<void> {
 public:
  storage_result() = default;
  storage_result(storage_error e) : e_(std::move(e)) {}  // NOLINT

  bool has_value() const noexcept { return !e_; }
  explicit operator bool() const noexcept { return has_value(); }
  const storage_error& error() const { return *e_; }

 private:
  std::optional<storage_error> e_;
};

// Mapping -------------------------------------------------------------------------------

struct file_slice {
  std::size_t file_index = 0;
  std::int64_t file_offset = 0;
  std::int64_t length = 0;
  std::int64_t buffer_offset = 0;  // from the start of the mapped range
  bool operator==(const file_slice&) const = default;
};

// The pieces of files covering torrent bytes [torrent_offset, torrent_offset + length), in
// order, contiguous. Zero-length files never appear; padding files do (check
// metainfo::files[i].pad: they have no disk file and their bytes are zeros). The range is
// clipped to [0, total_size).
std::vector<file_slice> map_range(const metainfo& m, std::int64_t torrent_offset,
                                  std::int64_t length);

// Disk storage --------------------------------------------------------------------------

// A file's size and modification time as found on disk, for resume data. size -1 means the
// file does not exist (or is not a regular file); padding files are {0, 0}.
struct file_stamp {
  std::int64_t size = -1;
  std::int64_t mtime_ns = 0;
  bool operator==(const file_stamp&) const = default;
};

struct storage_options {
  // Descriptors kept open (least recently used closed first). Files are opened again on
  // demand, so this only trades syscalls for descriptors.
  std::size_t max_open_files = 64;
  // Whether a written file is synced (fdatasync) when its descriptor closes, so that flush()
  // covers files closed since. Off for callers that never rely on flush() for durability
  // (resume data bound to the boot instead, see resume.hpp): no sync at eviction or exit.
  bool sync_on_close = true;
  // Write whole aligned pages with O_DIRECT, past the page cache (libtorrent's old
  // "disable_os_cache"): less CPU per byte written and a download does not evict what else is
  // cached, but every write waits for the device. For fast disks; on a filesystem without
  // O_DIRECT (or with a stricter alignment) writes quietly go through the cache.
  bool direct_writes = false;
  // Allocate each file's blocks when it is created (fallocate, like aria2's
  // --file-allocation=falloc or libtorrent's storage_mode_allocate) instead of leaving it
  // sparse: a full disk shows at the first write of a file rather than pieces later, the file
  // is less fragmented, and writes into allocated blocks cost the filesystem less. The space
  // is taken at once. On a filesystem without fallocate the file stays sparse (no zero-fill).
  bool preallocate = false;
};

struct check_progress {
  std::size_t pieces_checked = 0;
  std::size_t pieces_total = 0;  // pieces asked for
  std::int64_t bytes_checked = 0;
  std::int64_t bytes_total = 0;
};

// Called on the thread that called check_pieces(), never concurrently: about every 100 ms
// and once at the end.
using check_callback = std::function<void(const check_progress&)>;

class disk_storage {
 public:
  // Touches nothing on disk: directories and files are created on the first write. The
  // metainfo is copied (its paths are already checked safe by the parser).
  static storage_result<disk_storage> open(const metainfo& m, std::filesystem::path save_path,
                                           const storage_options& options = {});

  disk_storage(disk_storage&&) noexcept;
  disk_storage& operator=(disk_storage&&) noexcept;
  ~disk_storage();

  const std::filesystem::path& save_path() const;
  // save_path / the file's components.
  std::filesystem::path file_path(std::size_t file_index) const;

  // Writes a whole verified piece (data.size() must equal the piece's size). Creates missing
  // directories and files, each sized to its final length with ftruncate (sparse), and the
  // zero-length files that sit inside the piece. Padding bytes are not written.
  storage_result<void> write_piece(std::uint32_t piece, std::span<const std::uint8_t> data);

  // Fills `out` from the piece's bytes at `offset` (for serving blocks). The range must lie in
  // the piece. A missing or short file is an error of kind missing; padding reads as zeros.
  storage_result<std::size_t> read(std::uint32_t piece, std::uint32_t offset,
                                   std::span<std::uint8_t> out);

  // Reads the piece back from disk and hashes it.
  storage_result<sha1_digest> hash_piece(std::uint32_t piece);

  // Which pieces on disk match their hashes, using `threads` threads (0 = hardware
  // concurrency). Files are opened afresh, so files deleted or replaced meanwhile are seen. `which`
  // lists the pieces to check (empty = all); the answer has one entry per piece of the torrent,
  // false for pieces not checked. Missing or short files make their pieces false rather than
  // failing; other errors (permission, I/O, symlinks) fail the check. Fails with kind cancelled
  // when *stop becomes true.
  storage_result<std::vector<bool>> check_pieces(const std::vector<std::uint32_t>& which = {},
                                                 unsigned threads = 0,
                                                 const check_callback& on_progress = {},
                                                 const std::atomic<bool>* stop = nullptr);

  // fdatasync()s every file written since the last flush. Call before saving resume data that
  // claims the pieces written so far.
  storage_result<void> flush();

  // Size and mtime of every file of the torrent (one entry per metainfo file), looked up
  // without following symlinks.
  std::vector<file_stamp> stamps() const;

 private:
  explicit disk_storage(std::unique_ptr<internal::storage_core> core);
  std::unique_ptr<internal::storage_core> core_;
};

}  // namespace peerwire::storage
