#include "storage_core.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "errors.hpp"
#include "safe_open.hpp"

namespace peerwire::storage::internal {

namespace fs = std::filesystem;

constexpr std::size_t direct_align = 4096;  // the page size: every device's block size divides it

storage_core::storage_core(metainfo layout, fs::path root, const storage_options& options)
    : m_(std::move(layout)),
      root_(std::move(root)),
      // A writable file holds two descriptors with direct writes: the same budget in all.
      cache_(options.direct_writes ? std::max<std::size_t>(1, options.max_open_files / 2)
                                   : options.max_open_files,
             options.sync_on_close),
      direct_writes_(options.direct_writes),
      preallocate_(options.preallocate),
      empty_created_(new std::atomic<bool>[m_.files.size()]) {
  for (std::size_t i = 0; i < m_.files.size(); ++i) empty_created_[i] = false;
}

fs::path storage_core::file_path(std::size_t file) const {
  return join_path(root_, m_.files[file].path);
}

storage_result<handle_ptr> storage_core::handle(std::size_t file, bool write) {
  const file_entry& f = m_.files[file];
  return cache_.get(file, write, file_path(file).string(), [&]() -> storage_result<opened_file> {
    auto fd =
        open_torrent_file(root_, f.path, open_spec{write, f.size, f.executable, preallocate_});
    if (!fd) return fd.error();
    opened_file out{std::move(*fd), {}};
    if (write && direct_writes_ && f.size >= static_cast<std::int64_t>(direct_align)) {
      out.direct = open_direct_writer(root_, f.path, out.fd.get());
    }
    return out;
  });
}

storage_result<void> storage_core::read_bytes(std::int64_t offset, std::span<std::uint8_t> out) {
  for (const file_slice& s : map_range(m_, offset, static_cast<std::int64_t>(out.size()))) {
    auto dest =
        out.subspan(static_cast<std::size_t>(s.buffer_offset), static_cast<std::size_t>(s.length));
    if (m_.files[s.file_index].pad) {
      std::memset(dest.data(), 0, dest.size());
      continue;
    }
    auto h = handle(s.file_index, false);
    if (!h) return h.error();
    std::size_t got = 0;
    while (got < dest.size()) {
      ssize_t r = ::pread((*h)->fd(), dest.data() + got, dest.size() - got,
                          s.file_offset + static_cast<std::int64_t>(got));
      if (r < 0) {
        if (errno == EINTR) continue;
        return sys_error(errno, "read", (*h)->name());
      }
      if (r == 0) {
        return storage_error{error_kind::missing, 0,
                             (*h)->name() + " is shorter than the torrent says (" +
                                 std::to_string(m_.files[s.file_index].size) + " bytes)"};
      }
      got += static_cast<std::size_t>(r);
    }
  }
  return {};
}

namespace {

// At most this per buffered pwrite: the kernel sizes new page-cache folios by the write's
// length (ext4 large folios), and big folios come from high-order free memory, which a VM that
// hands free memory back to its host must fault in again. Measured on our CI machine: 1 MiB
// writes cost 0.35 s or 2.3 s of kernel time per GiB depending on that state; 32 KiB writes
// 0.45-0.65 s every time.
constexpr std::size_t write_chunk = 32 * 1024;

// Writes all of `data` at `offset`; 0 or the errno.
int write_fully(int fd, std::span<const std::uint8_t> data, std::int64_t offset,
                std::size_t chunk) {
  std::size_t put = 0;
  while (put < data.size()) {
    ssize_t r = ::pwrite(fd, data.data() + put, std::min(chunk, data.size() - put),
                         offset + static_cast<std::int64_t>(put));
    if (r < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (r == 0) return EIO;
    put += static_cast<std::size_t>(r);
  }
  return 0;
}

// The part of a write that O_DIRECT can take: [begin, end) of `data` where both the memory
// address and the file offset are multiples of direct_align (empty when they are not
// congruent, as for a file that starts mid-page in a multi-file torrent).
std::pair<std::size_t, std::size_t> direct_part(std::span<const std::uint8_t> data,
                                                std::int64_t offset) {
  auto addr = reinterpret_cast<std::uintptr_t>(data.data());
  auto off = static_cast<std::uintptr_t>(offset);
  if ((addr - off) % direct_align != 0) return {0, 0};
  std::size_t begin = (direct_align - off % direct_align) % direct_align;
  if (begin >= data.size()) return {0, 0};
  std::size_t end = begin + ((data.size() - begin) & ~(direct_align - 1));
  return {begin, end};
}

}  // namespace

storage_result<void> storage_core::write_bytes(std::int64_t offset,
                                               std::span<const std::uint8_t> data) {
  for (const file_slice& s : map_range(m_, offset, static_cast<std::int64_t>(data.size()))) {
    if (m_.files[s.file_index].pad) continue;  // zeros by definition, never on disk
    auto src =
        data.subspan(static_cast<std::size_t>(s.buffer_offset), static_cast<std::size_t>(s.length));
    auto h = handle(s.file_index, true);
    if (!h) return h.error();
    (*h)->mark_dirty();
    int direct_fd = (*h)->direct_fd();
    auto [begin, end] = direct_fd >= 0 ? direct_part(src, s.file_offset)
                                       : std::pair<std::size_t, std::size_t>{0, 0};
    if (begin < end) {
      // Whole aligned pages skip the page cache: no copy into it, no delayed-allocation
      // bookkeeping per page. The edges go through the cache.
      int err = write_fully(direct_fd, src.subspan(begin, end - begin),
                            s.file_offset + static_cast<std::int64_t>(begin), end - begin);
      if (err == EINVAL) (*h)->stop_direct();  // alignment this filesystem will not take
      if (err != 0) begin = end = 0;           // all through the cache (a real error recurs there)
    }
    int err = write_fully((*h)->fd(), src.first(begin), s.file_offset, write_chunk);
    if (err == 0) {
      err = write_fully((*h)->fd(), src.subspan(end),
                        s.file_offset + static_cast<std::int64_t>(end), write_chunk);
    }
    if (err != 0) return sys_error(err, "write", (*h)->name());
  }
  return {};
}

storage_result<sha1_digest> storage_core::hash_range(std::int64_t offset, std::int64_t length,
                                                     std::span<std::uint8_t> window) {
  sha1_hasher hasher;
  std::int64_t done = 0;
  while (done < length) {
    auto n = static_cast<std::size_t>(
        std::min<std::int64_t>(length - done, static_cast<std::int64_t>(window.size())));
    auto chunk = window.first(n);
    if (auto r = read_bytes(offset + done, chunk); !r) return r.error();
    hasher.update(std::as_bytes(chunk));
    done += static_cast<std::int64_t>(n);
  }
  return hasher.finish();
}

storage_result<void> storage_core::create_empty_files(std::int64_t begin, std::int64_t end) {
  auto first = std::lower_bound(m_.files.begin(), m_.files.end(), begin,
                                [](const file_entry& f, std::int64_t v) { return f.offset < v; });
  for (auto it = first; it != m_.files.end() && it->offset <= end; ++it) {
    auto i = static_cast<std::size_t>(it - m_.files.begin());
    if (it->size != 0 || it->pad || empty_created_[i].exchange(true)) continue;
    auto fd = open_torrent_file(root_, it->path, open_spec{true, 0, it->executable});
    if (!fd) {
      empty_created_[i] = false;
      return fd.error();
    }
  }
  return {};
}

bool storage_core::absent(std::size_t file) const {
  return !m_.files[file].pad && file_absent(root_, m_.files[file].path);
}

file_stamp storage_core::stamp(std::size_t file) const {
  if (m_.files[file].pad) return {0, 0};
  return stamp_file(root_, m_.files[file].path);
}

}  // namespace peerwire::storage::internal
