// A bounded set of open file descriptors shared by the disk threads.
//
// Handles are shared_ptrs: a thread copies one out under the lock and then does its pread or
// pwrite without holding anything, so closing the least recently used file never pulls a
// descriptor from under a running call (the last user closes it).
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "peerwire/storage.hpp"
#include "safe_open.hpp"

namespace peerwire::storage::internal {

// Where a handle closed outside flush() leaves an fdatasync failure for the next flush().
class sync_errors {
 public:
  void record(storage_error e);
  std::optional<storage_error> take();

 private:
  std::mutex mu_;
  std::optional<storage_error> first_;
};

// What an opener gives the cache: the descriptor, and for writing maybe an O_DIRECT twin.
struct opened_file {
  unique_fd fd;
  unique_fd direct;  // invalid: no direct writes for this file
};

class file_handle {
 public:
  file_handle(opened_file file, bool writable, std::string name, sync_errors& errors,
              bool sync_on_close = true)
      : fd_(std::move(file.fd)),
        direct_(std::move(file.direct)),
        direct_usable_(static_cast<bool>(direct_)),
        writable_(writable),
        sync_on_close_(sync_on_close),
        name_(std::move(name)),
        errors_(errors) {}
  // Syncs a dirty file before closing it (unless told not to), so flush() keeps its promise
  // for evicted files.
  ~file_handle();
  file_handle(const file_handle&) = delete;
  file_handle& operator=(const file_handle&) = delete;

  int fd() const { return fd_.get(); }
  // The O_DIRECT descriptor, or -1 (none, or the kernel refused a direct write: see
  // storage_core::write_bytes).
  int direct_fd() const {
    return direct_usable_.load(std::memory_order_relaxed) ? direct_.get() : -1;
  }
  void stop_direct() { direct_usable_.store(false, std::memory_order_relaxed); }
  bool writable() const { return writable_; }
  const std::string& name() const { return name_; }
  void mark_dirty() { dirty_.store(true, std::memory_order_release); }
  // fdatasync if written since the last sync.
  storage_result<void> sync();

 private:
  unique_fd fd_;
  unique_fd direct_;
  std::atomic<bool> direct_usable_;
  bool writable_;
  bool sync_on_close_;
  std::string name_;
  std::atomic<bool> dirty_{false};
  sync_errors& errors_;
};

using handle_ptr = std::shared_ptr<file_handle>;

class file_cache {
 public:
  explicit file_cache(std::size_t capacity, bool sync_on_close = true)
      : capacity_(capacity == 0 ? 1 : capacity), sync_on_close_(sync_on_close) {}

  // The cached handle for `file`, or a new one from `opener`. A read-only handle does not
  // satisfy a write: it is replaced by a writable one.
  using opener = std::function<storage_result<opened_file>()>;
  storage_result<handle_ptr> get(std::size_t file, bool write, std::string name,
                                 const opener& open);

  // Forgets every handle (they close when their last user drops them), so the next access
  // opens whatever is at the path now: a file deleted or replaced behind our back is seen.
  void close_all();

  // Syncs every open dirty file, and reports a sync failure of a file closed since last time.
  storage_result<void> flush();

 private:
  struct entry {
    handle_ptr handle;
    std::list<std::size_t>::iterator lru_pos;
  };

  sync_errors errors_;  // declared first so it outlives the handles in open_
  std::mutex mu_;
  std::size_t capacity_;
  bool sync_on_close_;
  std::list<std::size_t> lru_;  // front = most recently used
  std::unordered_map<std::size_t, entry> open_;
};

}  // namespace peerwire::storage::internal
