#include <gtest/gtest.h>

#include "peerwire/storage.hpp"
#include "unit/storage/storage_fixture.hpp"

using namespace peerwire;
using storage::file_slice;
using storage::map_range;
using storage_test::make_sample;

namespace {

// Piece length 16: a(10) b(0) c(6) | d(16) | d(4) pad(12) | e(5) f(0).
// Offsets:        a 0, b 10, c 10, d 16, pad 36, e 48, f 53; total 53.
metainfo table_torrent() {
  return make_sample(
             {{"a", 10}, {"b", 0}, {"c", 6}, {"d", 20}, {".pad/12", 12, true}, {"e", 5}, {"f", 0}},
             16)
      .m;
}

std::vector<file_slice> piece_slices(const metainfo& m, std::size_t piece) {
  return map_range(m, static_cast<std::int64_t>(piece) * m.piece_length, m.piece_size(piece));
}

}  // namespace

TEST(MapRange, PiecesCrossFilesAndSkipEmptyFiles) {
  auto m = table_torrent();
  ASSERT_EQ(m.total_size, 53);
  ASSERT_EQ(m.piece_count(), 4u);
  EXPECT_EQ(piece_slices(m, 0), (std::vector<file_slice>{{0, 0, 10, 0}, {2, 0, 6, 10}}));
  EXPECT_EQ(piece_slices(m, 1), (std::vector<file_slice>{{3, 0, 16, 0}}));
  // Padding slices are reported; the caller knows they are zeros.
  EXPECT_EQ(piece_slices(m, 2), (std::vector<file_slice>{{3, 16, 4, 0}, {4, 0, 12, 4}}));
  // The last piece is short (5 bytes) and the trailing empty file never appears.
  EXPECT_EQ(piece_slices(m, 3), (std::vector<file_slice>{{5, 0, 5, 0}}));
}

TEST(MapRange, ArbitraryRanges) {
  auto m = table_torrent();
  EXPECT_EQ(map_range(m, 5, 10), (std::vector<file_slice>{{0, 5, 5, 0}, {2, 0, 5, 5}}));
  // Starting exactly where the empty file b sits lands in c.
  EXPECT_EQ(map_range(m, 10, 3), (std::vector<file_slice>{{2, 0, 3, 0}}));
  EXPECT_EQ(map_range(m, 15, 2), (std::vector<file_slice>{{2, 5, 1, 0}, {3, 0, 1, 1}}));
  EXPECT_EQ(map_range(m, 0, 53).size(), 5u);
}

TEST(MapRange, ClipsToTheTorrent) {
  auto m = table_torrent();
  EXPECT_EQ(map_range(m, 50, 100), (std::vector<file_slice>{{5, 2, 3, 0}}));
  EXPECT_TRUE(map_range(m, 53, 10).empty());
  EXPECT_TRUE(map_range(m, 10, 0).empty());
  EXPECT_TRUE(map_range(m, 10, -5).empty());
  EXPECT_TRUE(map_range(m, 1000, 1).empty());
}

TEST(MapRange, SlicesCoverEveryByteExactlyOnce) {
  auto s = make_sample({{"x", 0}, {"a", 7}, {"b", 1}, {"c", 0}, {"d", 33}, {"e", 2}}, 4);
  for (std::int64_t off = 0; off < s.m.total_size; ++off) {
    for (std::int64_t len = 1; off + len <= s.m.total_size; ++len) {
      std::int64_t expect_buf = 0;
      for (const auto& sl : map_range(s.m, off, len)) {
        const auto& f = s.m.files[sl.file_index];
        ASSERT_GT(sl.length, 0);
        ASSERT_EQ(sl.buffer_offset, expect_buf);
        ASSERT_EQ(f.offset + sl.file_offset, off + sl.buffer_offset);
        ASSERT_LE(sl.file_offset + sl.length, f.size);
        expect_buf += sl.length;
      }
      ASSERT_EQ(expect_buf, len) << off << "+" << len;
    }
  }
}
