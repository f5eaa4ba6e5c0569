#include <gtest/gtest.h>

#include <fstream>

#include "peerwire/storage.hpp"
#include "unit/storage/storage_fixture.hpp"

using namespace peerwire;
using namespace peerwire::storage;
using namespace storage_test;

namespace {

constexpr std::int64_t piece = 16 * 1024;

// 6 files: a=[0, 40000) b=[40000, 40000+3*piece) c=[..., +10), d=[..., +2*piece+5), pad-free.
sample four_files() {
  return make_sample({{"a", 40000}, {"b", 3 * piece}, {"c", 10}, {"d", 2 * piece + 5}}, piece);
}

struct written {
  temp_dir dir;
  sample s = four_files();
  disk_storage d = [this] {
    auto r = disk_storage::open(s.m, dir.path());
    if (!r) throw std::runtime_error(r.error().message);
    return std::move(*r);
  }();
  written() { write_all_pieces(d, s); }
};

std::vector<bool> all(std::size_t n, bool v) {
  return std::vector<bool>(n, v);
}

// Pieces overlapping torrent bytes [begin, end).
std::vector<bool> good_except(const sample& s, std::int64_t begin, std::int64_t end) {
  auto out = all(s.m.piece_count(), true);
  for (std::int64_t p = begin / piece; p * piece < end; ++p)
    out[static_cast<std::size_t>(p)] = false;
  return out;
}

void flip_byte(const fs::path& p, std::int64_t offset) {
  std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(offset);
  char c = 0;
  f.get(c);
  f.seekp(offset);
  f.put(static_cast<char>(c ^ 0x5a));
}

}  // namespace

TEST(CheckPieces, AllGoodAfterWritingWithAnyThreadCount) {
  written w;
  for (unsigned threads : {1u, 2u, 5u, 0u}) {
    auto r = w.d.check_pieces({}, threads);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(*r, all(w.s.m.piece_count(), true)) << threads;
  }
}

TEST(CheckPieces, FindsACorruptedByte) {
  written w;
  const auto& b = w.s.m.files[1];
  flip_byte(w.d.file_path(1), piece);  // inside b, so torrent byte b.offset + piece
  auto r = w.d.check_pieces({}, 2);
  ASSERT_TRUE(r) << r.error().message;
  std::int64_t at = b.offset + piece;
  EXPECT_EQ(*r, good_except(w.s, at, at + 1));
}

TEST(CheckPieces, TruncatedFileLosesItsTailPieces) {
  written w;
  const auto& b = w.s.m.files[1];
  fs::resize_file(w.d.file_path(1), 100);
  auto r = w.d.check_pieces({}, 2);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, good_except(w.s, b.offset + 100, b.offset + b.size));
}

TEST(CheckPieces, DeletedFileLosesEveryPieceItTouches) {
  written w;
  const auto& c = w.s.m.files[2];  // 10 bytes inside one piece
  fs::remove(w.d.file_path(2));
  auto r = w.d.check_pieces({}, 2);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, good_except(w.s, c.offset, c.offset + c.size));
  fs::remove(w.d.file_path(0));
  r = w.d.check_pieces();
  ASSERT_TRUE(r);
  auto expect = good_except(w.s, 0, w.s.m.files[0].size);
  expect[static_cast<std::size_t>(c.offset / piece)] = false;
  EXPECT_EQ(*r, expect);
}

TEST(CheckPieces, NothingOnDiskMeansNoPiecesAndNoError) {
  temp_dir t;
  auto s = four_files();
  auto d = disk_storage::open(s.m, t.path());
  ASSERT_TRUE(d);
  auto r = d->check_pieces();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, all(s.m.piece_count(), false));
  EXPECT_FALSE(fs::exists(t.path() / "t")) << "checking creates nothing";
}

TEST(CheckPieces, PartialCheckAnswersOnlyForTheAskedPieces) {
  written w;
  flip_byte(w.d.file_path(0), 0);  // piece 0 bad
  auto r = w.d.check_pieces({4, 0, 2, 4}, 2);
  ASSERT_TRUE(r) << r.error().message;
  auto expect = all(w.s.m.piece_count(), false);
  expect[2] = expect[4] = true;
  EXPECT_EQ(*r, expect);
  auto bad = w.d.check_pieces({static_cast<std::uint32_t>(w.s.m.piece_count())});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, error_kind::invalid_argument);
}

TEST(CheckPieces, ReportsProgressAndStops) {
  written w;
  std::vector<check_progress> seen;
  auto r = w.d.check_pieces({}, 2, [&](const check_progress& p) { seen.push_back(p); });
  ASSERT_TRUE(r);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back().pieces_checked, w.s.m.piece_count());
  EXPECT_EQ(seen.back().pieces_total, w.s.m.piece_count());
  EXPECT_EQ(seen.back().bytes_checked, w.s.m.total_size);
  EXPECT_EQ(seen.back().bytes_total, w.s.m.total_size);

  std::atomic<bool> stop{true};
  auto cancelled = w.d.check_pieces({}, 2, {}, &stop);
  ASSERT_FALSE(cancelled);
  EXPECT_EQ(cancelled.error().kind, error_kind::cancelled);
}

TEST(CheckPieces, ASymlinkInPlaceOfAFileFailsTheCheck) {
  written w;
  temp_dir outside;
  fs::remove(w.d.file_path(0));
  std::ofstream(outside.path() / "x") << "secret";
  fs::create_symlink(outside.path() / "x", w.d.file_path(0));
  auto r = w.d.check_pieces();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, error_kind::unsafe_path);
  EXPECT_NE(r.error().message.find("symbolic link"), std::string::npos) << r.error().message;
}
