// Page-cache residency for the tests of direct (O_DIRECT) writes.
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <new>
#include <stdexcept>
#include <vector>

namespace page_cache_probe {

inline constexpr std::size_t page = 4096;

// Pages of [offset, offset + length) of `file` in the page cache (offset page-aligned).
inline std::size_t cached_pages(const std::filesystem::path& file, std::int64_t offset,
                                std::size_t length) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("open " + file.string());
  void* map = ::mmap(nullptr, length, PROT_READ, MAP_SHARED, fd, offset);
  ::close(fd);
  if (map == MAP_FAILED) throw std::runtime_error("mmap " + file.string());
  std::vector<unsigned char> in_core((length + page - 1) / page);
  int r = ::mincore(map, length, in_core.data());
  ::munmap(map, length);
  if (r != 0) throw std::runtime_error("mincore " + file.string());
  std::size_t n = 0;
  for (auto c : in_core) n += c & 1;
  return n;
}

// Whether an O_DIRECT write in `dir` really leaves the page cache alone: not so on tmpfs
// (which accepts O_DIRECT since Linux 6.6 but is the page cache) or where a filesystem quietly
// buffers direct writes. Tests that look at residency skip otherwise.
inline bool direct_writes_skip_page_cache(const std::filesystem::path& dir) {
  auto probe = dir / "o_direct_probe";
  int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_DIRECT | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  auto* buf = static_cast<char*>(::operator new (page, std::align_val_t{page}));
  std::memset(buf, 1, page);
  bool written = ::pwrite(fd, buf, page, 0) == static_cast<ssize_t>(page);
  ::operator delete (buf, std::align_val_t{page});
  ::close(fd);
  bool skipped = written && cached_pages(probe, 0, page) == 0;
  std::filesystem::remove(probe);
  return skipped;
}

}  // namespace page_cache_probe
