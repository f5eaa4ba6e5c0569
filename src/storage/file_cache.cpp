#include "file_cache.hpp"

#include <unistd.h>

#include <cerrno>

#include "errors.hpp"

namespace peerwire::storage::internal {

void sync_errors::record(storage_error e) {
  std::lock_guard lock(mu_);
  if (!first_) first_ = std::move(e);
}

std::optional<storage_error> sync_errors::take() {
  std::lock_guard lock(mu_);
  auto e = std::move(first_);
  first_.reset();
  return e;
}

file_handle::~file_handle() {
  if (!sync_on_close_) return;
  auto r = sync();
  if (!r) errors_.record(r.error());
}

storage_result<void> file_handle::sync() {
  if (!dirty_.exchange(false, std::memory_order_acq_rel)) return {};
  if (::fdatasync(fd_.get()) != 0) {
    int err = errno;
    dirty_.store(true, std::memory_order_release);
    return sys_error(err, "sync", name_);
  }
  return {};
}

storage_result<handle_ptr> file_cache::get(std::size_t file, bool write, std::string name,
                                           const opener& open) {
  // Declared before the lock, so handles dropped here are closed (and maybe synced) only after
  // the lock is released, whichever way this returns.
  std::vector<handle_ptr> retired;
  std::unique_lock lock(mu_);
  if (auto it = open_.find(file); it != open_.end()) {
    if (!write || it->second.handle->writable()) {
      lru_.splice(lru_.begin(), lru_, it->second.lru_pos);
      return it->second.handle;
    }
    retired.push_back(std::move(it->second.handle));
    lru_.erase(it->second.lru_pos);
    open_.erase(it);
  }
  // Opening under the lock keeps two threads from creating the same file at once; opens are
  // rare next to reads and writes.
  auto opened = open();
  if (!opened) return opened.error();
  auto handle = std::make_shared<file_handle>(std::move(*opened), write, std::move(name), errors_,
                                              sync_on_close_);
  while (open_.size() >= capacity_) {
    std::size_t victim = lru_.back();
    lru_.pop_back();
    auto it = open_.find(victim);
    retired.push_back(std::move(it->second.handle));
    open_.erase(it);
  }
  lru_.push_front(file);
  open_.emplace(file, entry{handle, lru_.begin()});
  return handle;
}

void file_cache::close_all() {
  std::unordered_map<std::size_t, entry> dropped;  // closed after the lock is released
  std::lock_guard lock(mu_);
  dropped.swap(open_);
  lru_.clear();
}

storage_result<void> file_cache::flush() {
  std::vector<handle_ptr> handles;
  {
    std::lock_guard lock(mu_);
    handles.reserve(open_.size());
    for (auto& [index, e] : open_) {
      if (e.handle->writable()) handles.push_back(e.handle);
    }
  }
  storage_result<void> out;
  for (auto& h : handles) {
    auto r = h->sync();
    if (!r && out) out = r;
  }
  if (auto e = errors_.take(); e && out) out = std::move(*e);
  return out;
}

}  // namespace peerwire::storage::internal
