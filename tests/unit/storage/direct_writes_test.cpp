// storage_options::direct_writes: aligned pages go past the page cache, everything else
// through it, and the bytes on disk are the same either way.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <new>

#include "peerwire/storage.hpp"
#include "unit/page_cache_probe.hpp"
#include "unit/storage/storage_fixture.hpp"

using namespace peerwire;
using namespace peerwire::storage;
using namespace storage_test;
using page_cache_probe::cached_pages;

namespace {

constexpr std::int64_t piece = 64 * 1024;
using page_cache_probe::page;

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

}  // namespace

TEST(DirectWrites, SameBytesAsBufferedForEveryAlignment) {
  temp_dir t;
  // Where the buffer and the file line up (mod 4096), and where not: "mid" starts at 2048 mod
  // 4096, so piece 5, shifted by 2048, has a direct part that starts inside its slice; "tail"
  // starts on a page and ends mid-page, in the unshifted last piece; "tiny" is under a page.
  auto s = make_sample({{"aligned", 3 * piece},
                        {"half", 2048},
                        {"mid", 3 * piece},
                        {"pad2k", 2048},
                        {"tail", piece + 1000},
                        {"tiny", 100},
                        {"last", 5000}},
                       piece);
  const std::size_t shift[] = {0, 1, page / 2, 0, 1, page / 2, 0, 0};
  ASSERT_EQ(s.m.piece_count(), std::size(shift));
  storage_options o;
  o.direct_writes = true;
  auto d = disk_storage::open(s.m, t.path(), o);
  ASSERT_TRUE(d) << d.error().message;
  for (std::uint32_t p = 0; p < s.m.piece_count(); ++p) {
    aligned_copy buf(s.piece(p), shift[p]);
    auto r = d->write_piece(p, buf.bytes);
    ASSERT_TRUE(r) << p << ": " << r.error().message;
  }
  if (page_cache_probe::direct_writes_skip_page_cache(t.path())) {
    // Before anything reads them back: the split went where it should.
    auto file = [&](const char* name) { return t.path() / "t" / name; };
    const std::int64_t mid5 = 5 * piece - (3 * piece + 2048);          // piece 5 in "mid": 129024
    EXPECT_EQ(cached_pages(file("mid"), mid5 + 2048, 15 * page), 0u);  // after a 2048-byte head
    EXPECT_EQ(cached_pages(file("tail"), 0, 16 * page), 0u);           // pieces 6-7: direct
    EXPECT_EQ(cached_pages(file("tail"), 16 * page, page), 1u);        // its last 1000 bytes
    EXPECT_EQ(cached_pages(file("aligned"), piece, piece), 16u);       // piece 1: shifted
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
  if (!page_cache_probe::direct_writes_skip_page_cache(t.path())) {
    GTEST_SKIP() << "O_DIRECT writes on " << t.path() << " are cached (tmpfs?) or refused";
  }
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
