// A small read cache for seeding: the whole piece is read once when a peer asks for its first
// block, and the following blocks (peers ask for a piece block after block) come from memory.
// One pread per piece instead of one per 16 KiB block. Shared by the disk threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <span>
#include <utility>
#include <vector>

namespace peerwire::session_detail {

// Storage of big read buffers, kept (up to keep_bytes) for the next read instead of freed.
// Whole-piece buffers are made on the disk threads and dropped on the network thread; freed
// to malloc they stay in glibc's per-thread arenas (measured: a seeder of 4 MiB pieces at
// 35 MiB peak RSS, 23 MiB with them recycled).
class buffer_recycler {
 public:
  static constexpr std::size_t min_size = 256 * 1024;  // smaller ones: malloc does well

  explicit buffer_recycler(std::size_t keep_bytes) : keep_bytes_(keep_bytes) {}

  std::unique_ptr<std::uint8_t[]> take(std::size_t size) {
    if (size >= min_size) {
      std::lock_guard lock(mu_);
      for (auto it = free_.begin(); it != free_.end(); ++it) {
        if (it->second != size) continue;
        auto bytes = std::move(it->first);
        kept_ -= size;
        free_.erase(it);
        return bytes;
      }
    }
    return std::unique_ptr<std::uint8_t[]>(new std::uint8_t[size]);
  }

  std::size_t kept() const {
    std::lock_guard lock(mu_);
    return kept_;
  }

  void give(std::unique_ptr<std::uint8_t[]> bytes, std::size_t size) {
    if (size < min_size) return;
    std::lock_guard lock(mu_);
    if (kept_ + size > keep_bytes_) return;  // freed after the lock is released
    kept_ += size;
    free_.emplace_back(std::move(bytes), size);
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::pair<std::unique_ptr<std::uint8_t[]>, std::size_t>> free_;
  std::size_t kept_ = 0;
  std::size_t keep_bytes_;
};

// Bytes read from disk for uploads. Not zeroed when made (the read fills them), and shared:
// blocks are sent to the socket straight from here (peer_connection::send_piece).
// `live`, when given, counts the bytes of all read buffers alive (cached, queued for a peer, or
// being written to a socket), so the torrent can bound what queued blocks hold.
class read_buffer {
 public:
  explicit read_buffer(std::size_t size, std::shared_ptr<std::atomic<std::size_t>> live = {},
                       std::shared_ptr<buffer_recycler> recycler = {})
      : bytes_(recycler ? recycler->take(size)
                        : std::unique_ptr<std::uint8_t[]>(new std::uint8_t[size])),
        size_(size),
        live_(std::move(live)),
        recycler_(std::move(recycler)) {
    if (live_) live_->fetch_add(size_, std::memory_order_relaxed);
  }
  ~read_buffer() {
    if (live_) live_->fetch_sub(size_, std::memory_order_relaxed);
    if (recycler_) recycler_->give(std::move(bytes_), size_);
  }
  read_buffer(const read_buffer&) = delete;
  read_buffer& operator=(const read_buffer&) = delete;
  std::span<std::uint8_t> span() { return {bytes_.get(), size_}; }
  std::span<const std::uint8_t> span() const { return {bytes_.get(), size_}; }
  std::size_t size() const { return size_; }

 private:
  std::unique_ptr<std::uint8_t[]> bytes_;
  std::size_t size_;
  std::shared_ptr<std::atomic<std::size_t>> live_;
  std::shared_ptr<buffer_recycler> recycler_;
};

class piece_cache {
 public:
  using piece_data = std::shared_ptr<const read_buffer>;

  explicit piece_cache(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  piece_data get(std::uint32_t piece) {
    std::lock_guard lock(mu_);
    for (auto it = lru_.begin(); it != lru_.end(); ++it) {
      if (it->first == piece) {
        lru_.splice(lru_.begin(), lru_, it);  // most recently used first
        return it->second;
      }
    }
    return nullptr;
  }

  void put(std::uint32_t piece, piece_data data) {
    std::lock_guard lock(mu_);
    for (const auto& [p, d] : lru_) {
      if (p == piece) return;  // another disk thread read it meanwhile
    }
    bytes_ += data->size();
    lru_.emplace_front(piece, std::move(data));
    // Always keep the newest piece, even if it alone exceeds the budget.
    while (bytes_ > max_bytes_ && lru_.size() > 1) {
      bytes_ -= lru_.back().second->size();
      lru_.pop_back();
    }
  }

 private:
  std::mutex mu_;
  std::list<std::pair<std::uint32_t, piece_data>> lru_;
  std::size_t bytes_ = 0;
  std::size_t max_bytes_;
};

}  // namespace peerwire::session_detail
