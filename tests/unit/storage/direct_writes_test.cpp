// storage_options::direct_writes: aligned pages go past the page cache, everything else
// through it, and the bytes on disk are the same either way.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <new>

#include "peerwire/storage.hpp"
#include "unit/storage/storage_fixture.hpp"

using namespace peerwire;
using namespace peerwire::storage;
using namespace storage_test;

namespace {

constexpr std::int64_t piece = 64 * 1024;
constexpr std::size_t page = 4096;

// A page-aligned copy of `data` starting `shift` bytes into its buffer (shift 0: aligned).
struct aligned_copy {
  aligned_copy(std::span<const std::uint8_t> data, std::size_t shift)
      : mem(static_cast<std::uint8_t*>(
            ::operator new (data.size() + page, std::align_val_t{page}))),
        bytes(mem.get() + shift, data.size()) {
    std::memcpy(bytes.data(), data.data(), data.size());
  }
  struct release {
    void operator()(std::uint8_t* p) const { ::operator delete (p, std::align_val_t{page}); }
  };
  std::unique_ptr<std::uint8_t, release> mem;
  std::span<std::uint8_t> bytes;
};

bool filesystem_takes_o_direct(const fs::path& dir) {
  auto probe = dir / "o_direct_probe";
  int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_DIRECT | O_CLOEXEC, 0600);
  if (fd >= 0) ::close(fd);
  fs::remove(probe);
  return fd >= 0;
}

// Pages of [offset, offset + length) of `file` in the page cache.
std::size_t cached_pages(const fs::path& file, std::int64_t offset, std::size_t length) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("open " + file.string());
  void* map = ::mmap(nullptr, length, PROT_READ, MAP_SHARED, fd, offset);
  ::close(fd);
  if (map == MAP_FAILED) throw std::runtime_error("mmap " + file.string());
  std::vector<unsigned char> in_core(length / page);
  int r = ::mincore(map, length, in_core.data());
  ::munmap(map, length);
  if (r != 0) throw std::runtime_error("mincore");
  std::size_t n = 0;
  for (auto c : in_core) n += c & 1;
  return n;
}

}  // namespace

TEST(DirectWrites, SameBytesAsBufferedForEveryAlignment) {
  temp_dir t;
  // File starts on a page, mid-page, and files shorter than a page; a short last piece.
  auto s = make_sample({{"aligned", 3 * piece},
                        {"odd", 2 * piece + 1234},
                        {"tiny", 100},
                        {"after-tiny", piece + 4096 * 3 + 17},
                        {"last", 5000}},
                       piece);
  storage_options o;
  o.direct_writes = true;
  auto d = disk_storage::open(s.m, t.path(), o);
  ASSERT_TRUE(d) << d.error().message;
  for (std::uint32_t p = 0; p < s.m.piece_count(); ++p) {
    // Aligned buffers, and buffers one byte and half a page off (nothing direct can take).
    aligned_copy buf(s.piece(p), (p % 3 == 0) ? 0 : (p % 3 == 1) ? 1 : page / 2);
    auto r = d->write_piece(p, buf.bytes);
    ASSERT_TRUE(r) << p << ": " << r.error().message;
  }
  for (std::uint32_t p = 0; p < s.m.piece_count(); ++p) {
    std::vector<std::uint8_t> back(s.piece(p).size());
    auto r = d->read(p, 0, back);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_TRUE(std::equal(back.begin(), back.end(), s.piece(p).begin())) << "piece " << p;
  }
  auto checked = d->check_pieces({}, 2);
  ASSERT_TRUE(checked) << checked.error().message;
  for (bool good : *checked) EXPECT_TRUE(good);
}

TEST(DirectWrites, AlignedPagesSkipThePageCacheOnlyWhenAsked) {
  temp_dir t;
  if (!filesystem_takes_o_direct(t.path())) GTEST_SKIP() << "no O_DIRECT on " << t.path();
  auto s = make_sample({{"one", 4 * piece}}, piece, /*single=*/true);
  for (bool direct : {false, true}) {
    fs::path dir = t.path() / (direct ? "direct" : "buffered");
    storage_options o;
    o.direct_writes = direct;
    auto d = disk_storage::open(s.m, dir, o);
    ASSERT_TRUE(d) << d.error().message;
    aligned_copy aligned(s.piece(1), 0);
    aligned_copy shifted(s.piece(2), 1);
    ASSERT_TRUE(d->write_piece(1, aligned.bytes));
    ASSERT_TRUE(d->write_piece(2, shifted.bytes));
    fs::path file = dir;
    for (const auto& c : s.m.files[0].path) file /= c;
    const auto pages = static_cast<std::size_t>(piece) / page;
    EXPECT_EQ(cached_pages(file, piece, piece), direct ? 0u : pages) << "direct=" << direct;
    // A misaligned buffer always goes through the cache.
    EXPECT_EQ(cached_pages(file, 2 * piece, piece), pages) << "direct=" << direct;
    std::vector<std::uint8_t> back(piece);
    ASSERT_TRUE(d->read(1, 0, back));
    EXPECT_TRUE(std::equal(back.begin(), back.end(), s.piece(1).begin()));
  }
}
