// Opening torrent files under the save directory without ever following a symlink below it:
// each path component is opened with openat(O_NOFOLLOW) relative to its parent's descriptor,
// so a link planted anywhere in the tree (or swapped in while we walk) is refused rather than
// escaped through.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

#include "peerwire/storage.hpp"

namespace peerwire::storage::internal {

class unique_fd {
 public:
  unique_fd() = default;
  explicit unique_fd(int fd) : fd_(fd) {}
  ~unique_fd();
  unique_fd(unique_fd&& o) noexcept : fd_(o.release()) {}
  unique_fd& operator=(unique_fd&& o) noexcept;
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;

  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

struct open_spec {
  bool write = false;       // read-write, creating the file and its directories
  std::int64_t size = 0;    // with write: the file is resized (sparse) to exactly this
  bool executable = false;  // with write: mode 0777 instead of 0666 (before umask) on creation
  // With write: a file grown to `size` gets its blocks allocated (fallocate) instead of
  // staying sparse; where the filesystem has no fallocate it is grown sparse all the same.
  bool preallocate = false;
};

// Opens root/components... as a regular file. A missing file or directory is an error of kind
// missing (only when reading); a symlink, directory or special file is unsafe_path.
storage_result<unique_fd> open_torrent_file(const std::filesystem::path& root,
                                            std::span<const std::string> components,
                                            const open_spec& spec);

// A second descriptor for the file `fd` (opened by open_torrent_file for writing) with O_DIRECT,
// for writes of whole aligned pages that bypass the page cache (storage_options::
// direct_writes). Invalid when the filesystem refuses O_DIRECT or the path no longer names the
// same file: the caller then writes through the page cache.
unique_fd open_direct_writer(const std::filesystem::path& root,
                             std::span<const std::string> components, int fd);

// Whether nothing at all is at root/components... (walked like open_torrent_file: a symlink or a
// file where a directory belongs is "something", for the open to report).
bool file_absent(const std::filesystem::path& root, std::span<const std::string> components);

// Size and mtime, or {-1, 0} when the file is absent, is not a regular file, or is reached
// only through a symlink.
file_stamp stamp_file(const std::filesystem::path& root, std::span<const std::string> components);

// root/components... for messages.
std::filesystem::path join_path(const std::filesystem::path& root,
                                std::span<const std::string> components);

}  // namespace peerwire::storage::internal
