// Checking pieces on disk against their hashes on several threads.
//
// Workers claim pieces one at a time from an atomic counter and hash them through a private
// 1 MiB window (see storage_core::hash_range), sharing the descriptor cache. The calling
// thread only waits and reports progress. A missing or short file just makes its pieces bad;
// any other error stops every worker and is returned.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "errors.hpp"
#include "storage_core.hpp"

namespace peerwire::storage {
namespace {

constexpr auto progress_interval = std::chrono::milliseconds(100);

class checker {
 public:
  checker(internal::storage_core& core, std::vector<std::uint32_t> pieces,
          const std::atomic<bool>* stop)
      : core_(core), pieces_(std::move(pieces)), stop_(stop), good_(core.layout().piece_count()) {
    for (auto p : pieces_) bytes_total_ += core.layout().piece_size(p);
    // One lookup per file up front: a fresh download would otherwise try (and fail) to open
    // its missing files once per piece. Only absence counts; anything else there (a symlink,
    // a directory) is left to the read, which reports it.
    const auto& files = core.layout().files;
    missing_.resize(files.size());
    for (std::size_t i = 0; i < files.size(); ++i) {
      missing_[i] = files[i].size > 0 && core.absent(i);
    }
  }

  std::size_t piece_total() const { return pieces_.size(); }

  check_progress progress() const {
    return {checked_.load(std::memory_order_relaxed), pieces_.size(),
            bytes_.load(std::memory_order_relaxed), bytes_total_};
  }

  void abort() { aborted_.store(true, std::memory_order_relaxed); }

  // Worker body; never throws (a failure becomes the check's error).
  void work() noexcept {
    try {
      work_loop();
    } catch (const std::exception& e) {
      fail(internal::make_storage_error(error_kind::io,
                                        std::string("checking pieces failed: ") + e.what()));
    }
  }

  storage_result<std::vector<bool>> take_result() {
    if (error_) return *error_;
    if (checked_.load() != pieces_.size()) {
      return internal::make_storage_error(error_kind::cancelled, "checking pieces was cancelled");
    }
    return std::vector<bool>(good_.begin(), good_.end());
  }

 private:
  void work_loop() {
    const metainfo& m = core_.layout();
    std::vector<std::uint8_t> window(
        static_cast<std::size_t>(std::min(m.piece_length, internal::hash_window)));
    for (;;) {
      if (should_stop()) return;
      std::size_t k = next_.fetch_add(1, std::memory_order_relaxed);
      if (k >= pieces_.size()) return;
      std::uint32_t piece = pieces_[k];
      std::int64_t size = m.piece_size(piece);
      std::int64_t offset = static_cast<std::int64_t>(piece) * m.piece_length;
      if (touches_missing_file(offset, size)) {
        good_[piece] = false;
      } else if (auto digest = core_.hash_range(offset, size, window)) {
        good_[piece] = *digest == m.pieces[piece];
      } else if (digest.error().kind != error_kind::missing) {
        return fail(digest.error());
      }
      bytes_.fetch_add(size, std::memory_order_relaxed);
      checked_.fetch_add(1, std::memory_order_relaxed);
    }
  }

  bool touches_missing_file(std::int64_t offset, std::int64_t size) const {
    for (const auto& slice : map_range(core_.layout(), offset, size)) {
      if (missing_[slice.file_index]) return true;
    }
    return false;
  }

  bool should_stop() const {
    return aborted_.load(std::memory_order_relaxed) ||
           (stop_ != nullptr && stop_->load(std::memory_order_relaxed));
  }

  void fail(storage_error e) {
    std::lock_guard lock(error_mu_);
    if (!error_) error_ = std::move(e);
    aborted_.store(true, std::memory_order_relaxed);
  }

  internal::storage_core& core_;
  const std::vector<std::uint32_t> pieces_;  // sorted, unique, in range
  const std::atomic<bool>* stop_;
  std::vector<std::uint8_t> good_;  // not vector<bool>: workers write neighbouring entries
  std::vector<bool> missing_;       // per file, read-only once the workers run
  std::int64_t bytes_total_ = 0;
  std::atomic<std::size_t> next_{0};
  std::atomic<std::size_t> checked_{0};
  std::atomic<std::int64_t> bytes_{0};
  std::atomic<bool> aborted_{false};
  std::mutex error_mu_;
  std::optional<storage_error> error_;
};

// Runs the workers and joins them however the caller's thread leaves (a throwing callback
// included).
class worker_group {
 public:
  explicit worker_group(checker& c) : checker_(c) {}
  ~worker_group() {
    checker_.abort();
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  worker_group(const worker_group&) = delete;
  worker_group& operator=(const worker_group&) = delete;

  void start(unsigned count) {
    for (unsigned i = 0; i < count; ++i) {
      {
        std::lock_guard lock(mu_);
        ++running_;
      }
      try {
        threads_.emplace_back([this] {
          checker_.work();
          std::lock_guard lock(mu_);
          --running_;
          cv_.notify_all();
        });
      } catch (...) {
        std::lock_guard lock(mu_);
        --running_;
        throw;
      }
    }
  }

  template <class Tick>
  void wait(Tick&& tick) {
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, progress_interval, [&] { return running_ == 0; })) {
      lock.unlock();
      tick();
      lock.lock();
    }
  }

 private:
  checker& checker_;
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable cv_;
  unsigned running_ = 0;
};

}  // namespace

storage_result<std::vector<bool>> disk_storage::check_pieces(
    const std::vector<std::uint32_t>& which, unsigned threads, const check_callback& on_progress,
    const std::atomic<bool>* stop) {
  const std::size_t count = core_->layout().piece_count();
  std::vector<std::uint32_t> pieces;
  if (which.empty()) {
    pieces.resize(count);
    for (std::size_t i = 0; i < count; ++i) pieces[i] = static_cast<std::uint32_t>(i);
  } else {
    pieces = which;
    std::sort(pieces.begin(), pieces.end());
    pieces.erase(std::unique(pieces.begin(), pieces.end()), pieces.end());
    if (pieces.back() >= count) {
      return internal::make_storage_error(
          error_kind::invalid_argument,
          "piece " + std::to_string(pieces.back()) + " is out of range");
    }
  }
  // Cached descriptors may point at files deleted or replaced since: check what is there now.
  core_->close_files();
  checker state(*core_, std::move(pieces), stop);
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads = static_cast<unsigned>(std::min<std::size_t>(threads, state.piece_total()));
  {
    worker_group group(state);
    try {
      group.start(threads);
    } catch (const std::system_error& e) {
      return internal::make_storage_error(
          error_kind::io, std::string("cannot start checking threads: ") + e.what());
    }
    group.wait([&] {
      if (on_progress) on_progress(state.progress());
    });
  }
  auto out = state.take_result();
  if (out && on_progress) on_progress(state.progress());
  return out;
}

}  // namespace peerwire::storage
