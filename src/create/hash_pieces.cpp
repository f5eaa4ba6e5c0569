// Parallel piece hashing.
//
// Every worker claims a job (a run of consecutive pieces, about 1 MiB) from an atomic counter,
// pread()s the job's bytes window by window into its own small buffer and feeds SHA-1 piece by
// piece. There is no reader thread to become the bottleneck, and a window small enough to stay
// in cache means the bytes copied out of the page cache are still there when they are hashed.
//
// Files are opened lazily, once, by whichever worker first needs them, and the descriptor is
// shared (pread has no file position). Each file counts its bytes still to read; the worker that
// reads the last one checks the file did not change (size, mtime) and closes it, so even a
// million-file tree keeps only a handful of descriptors open.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>

#include "peerwire/create.hpp"

namespace peerwire {
namespace {

// Bytes per pread: within a typical L2 (1 MiB on the benchmark machine), so the copied bytes
// are still cached when SHA-1 reads them, and large enough that syscall overhead is noise
// (measured: 256 KiB windows were ~2% slower, 2 MiB no faster).
constexpr std::int64_t window_size = 1 << 20;
// Bytes per claimed job: small enough to balance the tail across threads.
constexpr std::int64_t job_bytes = 1 << 20;
constexpr auto progress_interval = std::chrono::milliseconds(100);

constexpr int fd_unopened = -1;
constexpr int fd_closed = -2;

struct file_slot {
  std::atomic<int> fd{fd_unopened};
  std::atomic<std::int64_t> unread{0};
  struct timespec mtime {};  // written before fd is published (release), read after (acquire)
};

struct aligned_free {
  void operator()(std::byte* p) const { std::free(p); }
};

class hasher_state {
 public:
  hasher_state(const std::vector<source_file>& files, std::int64_t piece_length,
               const std::atomic<bool>* stop)
      : files_(files),
        piece_length_(piece_length),
        stop_(stop),
        slots_(new file_slot[files.size()]) {
    starts_.reserve(files.size());
    for (std::size_t i = 0; i < files.size(); ++i) {
      starts_.push_back(total_);
      total_ += files[i].size;
      slots_[i].unread.store(files[i].size, std::memory_order_relaxed);
    }
    piece_count_ = static_cast<std::size_t>((total_ + piece_length - 1) / piece_length);
    pieces_per_job_ = static_cast<std::size_t>(std::max<std::int64_t>(1, job_bytes / piece_length));
    job_count_ = (piece_count_ + pieces_per_job_ - 1) / pieces_per_job_;
    digests_.resize(piece_count_);
  }

  ~hasher_state() {
    for (std::size_t i = 0; i < files_.size(); ++i) {
      int fd = slots_[i].fd.load(std::memory_order_relaxed);
      if (fd >= 0) ::close(fd);
    }
  }

  std::size_t piece_count() const { return piece_count_; }
  std::size_t job_count() const { return job_count_; }

  create_progress progress() const {
    return {bytes_done_.load(std::memory_order_relaxed), total_,
            pieces_done_.load(std::memory_order_relaxed), piece_count_};
  }

  // Stops all workers at their next check (used when the caller's thread bails out).
  void abort() { aborted_.store(true, std::memory_order_relaxed); }

  // After all workers have finished.
  result<std::vector<sha1_digest>> take_result() {
    if (error_) return *error_;
    if (pieces_done_.load() != piece_count_) return make_error("cancelled");
    return std::move(digests_);
  }

  // Worker body: claims jobs until none are left, or until an error or cancellation.
  void work() {
    try {
      work_loop();
    } catch (const std::exception& e) {  // e.g. bad_alloc: report it, do not terminate
      fail(make_error(std::string("hashing failed: ") + e.what()));
    }
  }

 private:
  void work_loop() {
    std::unique_ptr<std::byte, aligned_free> buf(
        static_cast<std::byte*>(std::aligned_alloc(4096, window_size)));
    if (!buf) return fail(make_error("out of memory for the hashing buffer"));
    sha1_hasher hasher;
    for (;;) {
      if (should_stop()) return;
      std::size_t job = next_job_.fetch_add(1, std::memory_order_relaxed);
      if (job >= job_count_) return;
      std::size_t first = job * pieces_per_job_;
      std::size_t last = std::min(first + pieces_per_job_, piece_count_);
      if (!hash_job(first, last, buf.get(), hasher)) return;
      pieces_done_.fetch_add(last - first, std::memory_order_relaxed);
    }
  }

  bool should_stop() const {
    return aborted_.load(std::memory_order_relaxed) ||
           (stop_ != nullptr && stop_->load(std::memory_order_relaxed));
  }

  void fail(failure f) {
    std::lock_guard lock(error_mu_);
    if (!error_) error_ = std::move(f);
    aborted_.store(true, std::memory_order_relaxed);
  }

  std::string name(std::size_t i) const { return files_[i].disk_path.string(); }

  bool hash_job(std::size_t first, std::size_t last, std::byte* buf, sha1_hasher& hasher) {
    std::int64_t pos = static_cast<std::int64_t>(first) * piece_length_;
    std::int64_t end = std::min(static_cast<std::int64_t>(last) * piece_length_, total_);
    std::size_t piece = first;
    std::int64_t piece_end = std::min(pos + piece_length_, total_);
    while (pos < end) {
      if (should_stop()) return false;
      std::int64_t n = std::min(window_size, end - pos);
      if (!fill(pos, n, buf)) return false;
      // Split the window at piece boundaries.
      std::int64_t done = 0;
      while (done < n) {
        std::int64_t take = std::min(n - done, piece_end - (pos + done));
        hasher.update(std::span<const std::byte>(buf + done, static_cast<std::size_t>(take)));
        done += take;
        if (pos + done == piece_end) {
          digests_[piece++] = hasher.finish();
          piece_end = std::min(piece_end + piece_length_, total_);
        }
      }
      pos += n;
      bytes_done_.fetch_add(n, std::memory_order_relaxed);
    }
    return true;
  }

  // Copies torrent bytes [pos, pos + n) into buf: file data via pread, zeros for padding.
  bool fill(std::int64_t pos, std::int64_t n, std::byte* buf) {
    // The last file starting at or before pos; empty files share a start with their successor
    // and sort before it in starts_, so this lands on the one holding the byte.
    auto it = std::upper_bound(starts_.begin(), starts_.end(), pos);
    auto i = static_cast<std::size_t>(it - starts_.begin()) - 1;
    std::int64_t written = 0;
    while (written < n) {
      const source_file& f = files_[i];
      std::int64_t in_file = pos + written - starts_[i];
      std::int64_t take = std::min(n - written, f.size - in_file);
      if (take > 0) {
        if (f.pad) {
          std::memset(buf + written, 0, static_cast<std::size_t>(take));
        } else if (!read_file(i, in_file, take, buf + written)) {
          return false;
        }
        written += take;
      }
      ++i;
    }
    return true;
  }

  bool read_file(std::size_t i, std::int64_t offset, std::int64_t n, std::byte* out) {
    int fd = open_file(i);
    if (fd < 0) return false;
    std::int64_t got = 0;
    while (got < n) {
      ssize_t r = ::pread(fd, out + got, static_cast<std::size_t>(n - got), offset + got);
      if (r < 0) {
        if (errno == EINTR) continue;
        fail(make_error(name(i) + ": read error: " + std::strerror(errno)));
        return false;
      }
      if (r == 0) {
        fail(make_error(name(i) + ": file shrank while it was being hashed (expected " +
                        std::to_string(files_[i].size) + " bytes)"));
        return false;
      }
      got += r;
    }
    // Whoever reads a file's last bytes verifies and closes it.
    if (slots_[i].unread.fetch_sub(n, std::memory_order_acq_rel) == n) return close_file(i, fd);
    return true;
  }

  int open_file(std::size_t i) {
    file_slot& slot = slots_[i];
    int fd = slot.fd.load(std::memory_order_acquire);
    if (fd >= 0) return fd;
    // Opening is rare next to reading, so one lock for all files is enough.
    std::lock_guard lock(open_mu_);
    fd = slot.fd.load(std::memory_order_acquire);
    if (fd >= 0) return fd;
    fd = ::open(files_[i].disk_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      fail(make_error(name(i) + ": cannot open: " + std::strerror(errno)));
      return -1;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size != files_[i].size) {
      ::close(fd);
      fail(make_error(name(i) + ": changed since the directory was scanned"));
      return -1;
    }
    // Doubles the kernel's readahead when the file is not cached yet; free when it is.
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    slot.mtime = st.st_mtim;
    slot.fd.store(fd, std::memory_order_release);
    return fd;
  }

  bool close_file(std::size_t i, int fd) {
    file_slot& slot = slots_[i];
    struct stat st {};
    bool ok = ::fstat(fd, &st) == 0;
    slot.fd.store(fd_closed, std::memory_order_relaxed);
    ::close(fd);
    if (!ok || st.st_size != files_[i].size) {
      fail(make_error(name(i) + ": file changed size while it was being hashed"));
      return false;
    }
    if (st.st_mtim.tv_sec != slot.mtime.tv_sec || st.st_mtim.tv_nsec != slot.mtime.tv_nsec) {
      fail(make_error(name(i) + ": file was modified while it was being hashed"));
      return false;
    }
    return true;
  }

  const std::vector<source_file>& files_;
  const std::int64_t piece_length_;
  const std::atomic<bool>* stop_;
  std::unique_ptr<file_slot[]> slots_;
  std::vector<std::int64_t> starts_;
  std::int64_t total_ = 0;
  std::size_t piece_count_ = 0;
  std::size_t pieces_per_job_ = 1;
  std::size_t job_count_ = 0;
  std::vector<sha1_digest> digests_;  // each element written by exactly one worker

  std::atomic<std::size_t> next_job_{0};
  std::atomic<std::int64_t> bytes_done_{0};
  std::atomic<std::size_t> pieces_done_{0};
  std::atomic<bool> aborted_{false};
  std::mutex open_mu_;
  std::mutex error_mu_;
  std::optional<failure> error_;
};

// Joins the workers however the caller's thread leaves (including a throwing callback).
class worker_pool {
 public:
  explicit worker_pool(hasher_state& state) : state_(state) {}
  // Only reached with live workers when the caller's thread is unwinding.
  ~worker_pool() {
    if (std::any_of(threads_.begin(), threads_.end(), [](auto& t) { return t.joinable(); })) {
      state_.abort();
      join();
    }
  }

  void start(unsigned count) {
    for (unsigned t = 0; t < count; ++t) {
      {
        std::lock_guard lock(mu_);
        ++running_;
      }
      try {
        threads_.emplace_back([this] {
          state_.work();
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

  // Waits for all workers, calling `tick` about every progress_interval meanwhile.
  template <class Tick>
  void wait(Tick&& tick) {
    std::unique_lock lock(mu_);
    while (running_ > 0) {
      cv_.wait_for(lock, progress_interval, [&] { return running_ == 0; });
      if (running_ == 0) break;
      lock.unlock();
      tick();
      lock.lock();
    }
  }

  void join() {
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

 private:
  hasher_state& state_;
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable cv_;
  int running_ = 0;
};

}  // namespace

result<std::vector<sha1_digest>> hash_pieces(const std::vector<source_file>& files,
                                             std::int64_t piece_length, unsigned threads,
                                             const progress_callback& on_progress,
                                             const std::atomic<bool>* stop) {
  if (auto problem = piece_length_problem(piece_length)) return make_error(*problem);
  hasher_state state(files, piece_length, stop);
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads = static_cast<unsigned>(std::min<std::size_t>(threads, state.job_count()));
  {
    worker_pool pool(state);
    pool.start(threads);
    pool.wait([&] {
      if (on_progress) on_progress(state.progress());
    });
    pool.join();
  }
  auto out = state.take_result();
  if (out && on_progress) on_progress(state.progress());
  return out;
}

}  // namespace peerwire
