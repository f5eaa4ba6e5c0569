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

namespace peerwire::session_detail {

// Bytes read from disk for uploads. Not zeroed when made (the read fills them), and shared:
// blocks are sent to the socket straight from here (peer_connection::send_piece).
// `live`, when given, counts the bytes of all read buffers alive (cached, queued for a peer, or
// being written to a socket), so the torrent can bound what queued blocks hold.
class read_buffer {
 public:
  explicit read_buffer(std::size_t size, std::shared_ptr<std::atomic<std::size_t>> live = {})
      : bytes_(new std::uint8_t[size]), size_(size), live_(std::move(live)) {
    if (live_) live_->fetch_add(size_, std::memory_order_relaxed);
  }
  ~read_buffer() {
    if (live_) live_->fetch_sub(size_, std::memory_order_relaxed);
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
