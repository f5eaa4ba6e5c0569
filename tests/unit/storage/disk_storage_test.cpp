#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <random>
#include <thread>

#include "peerwire/storage.hpp"
#include "unit/storage/storage_fixture.hpp"

using namespace peerwire;
using namespace peerwire::storage;
using namespace storage_test;

namespace {

constexpr std::int64_t piece = 16 * 1024;

// Files crossing piece boundaries every way: inside one piece, spanning several, ending on a
// boundary, empty files between and at the end, a nested directory, a short last piece.
sample awkward() {
  return make_sample({{"a", 100},
                      {"empty0", 0},
                      {"c", piece - 100},
                      {"dir/sub/d", 3 * piece + 7},
                      {"e", 1},
                      {"dir/empty1", 0},
                      {"g", 5 * piece / 2},
                      {"h", 12345},
                      {"z/empty2", 0}},
                     piece);
}

disk_storage open_or_die(const sample& s, const fs::path& dir, storage_options o = {}) {
  auto d = disk_storage::open(s.m, dir, o);
  if (!d) throw std::runtime_error(d.error().message);
  return std::move(*d);
}

}  // namespace

TEST(DiskStorage, WritePiecesThenReadBlocksAcrossFiles) {
  temp_dir t;
  auto s = awkward();
  auto d = open_or_die(s, t.path());
  std::vector<std::uint32_t> order(s.m.piece_count());
  for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937(7));
  for (auto p : order) ASSERT_TRUE(d.write_piece(p, s.piece(p))) << p;

  for (std::uint32_t p = 0; p < s.m.piece_count(); ++p) {
    auto want = s.piece(p);
    // Blocks of awkward sizes, so reads start and end inside files and at their edges.
    for (std::uint32_t off = 0; off < want.size(); off += 5000) {
      std::vector<std::uint8_t> block(std::min<std::size_t>(5000, want.size() - off));
      auto r = d.read(p, off, block);
      ASSERT_TRUE(r) << r.error().message;
      EXPECT_EQ(*r, block.size());
      ASSERT_TRUE(std::equal(block.begin(), block.end(), want.begin() + off)) << p << "@" << off;
    }
  }
  for (std::size_t i = 0; i < s.m.files.size(); ++i) {
    EXPECT_EQ(read_all(d.file_path(i)), expected_file(s, i)) << d.file_path(i);
  }
}

TEST(DiskStorage, FilesAreSparseAndGetTheirFinalSize) {
  temp_dir t;
  auto s = make_sample({{"big", 8 << 20}, {"small", 1000}}, piece);
  auto d = open_or_die(s, t.path());
  ASSERT_TRUE(d.write_piece(0, s.piece(0)));
  struct stat st {};
  ASSERT_EQ(::stat((t.path() / "t/big").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 8 << 20);
  EXPECT_LT(st.st_blocks * 512, 1 << 20) << "the untouched part should be a hole";
  // Files no piece has touched yet are not created.
  EXPECT_FALSE(fs::exists(t.path() / "t/small"));
}

TEST(DiskStorage, PreallocatedFilesGetAllTheirBlocksAndKeepTheirData) {
  temp_dir t;
  fs::create_directories(t.path() / "t");
  {  // Whether this filesystem allocates at all (a sparse file is all it can do otherwise).
    int fd = ::open((t.path() / "probe").c_str(), O_RDWR | O_CREAT, 0644);
    ASSERT_GE(fd, 0);
    int r = ::fallocate(fd, 0, 0, 4096);
    ::close(fd);
    if (r != 0 && (errno == EOPNOTSUPP || errno == ENOSYS)) GTEST_SKIP() << "no fallocate here";
  }
  auto s = make_sample({{"big", 8 << 20}, {"small", 1000}}, piece);
  // A partial file from before: its bytes must survive the allocation around them.
  const std::string head = expected_file(s, 0).substr(0, 4096);
  std::ofstream(t.path() / "t/big", std::ios::binary) << head;
  storage_options o;
  o.preallocate = true;
  auto d = open_or_die(s, t.path(), o);
  ASSERT_TRUE(d.write_piece(3, s.piece(3)));
  struct stat st {};
  ASSERT_EQ(::stat((t.path() / "t/big").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 8 << 20);
  EXPECT_GE(st.st_blocks * 512, 8 << 20) << "allocated in full, not sparse";
  std::vector<std::uint8_t> back(head.size());
  ASSERT_TRUE(d.read(0, 0, back));
  EXPECT_EQ(std::string(back.begin(), back.end()), head);
  EXPECT_FALSE(fs::exists(t.path() / "t/small"));
  write_all_pieces(d, s);
  EXPECT_EQ(read_all(t.path() / "t/big"), expected_file(s, 0));
  EXPECT_EQ(read_all(t.path() / "t/small"), expected_file(s, 1));
}

TEST(DiskStorage, PaddingIsNeverCreatedAndReadsAsZeros) {
  temp_dir t;
  auto s = make_sample({{"a", 1000}, {".pad/15384", piece - 1000, true}, {"b", piece + 3}}, piece);
  auto d = open_or_die(s, t.path());
  write_all_pieces(d, s);
  EXPECT_FALSE(fs::exists(t.path() / "t/.pad"));
  std::vector<std::uint8_t> block(piece - 1000, 0xff);
  ASSERT_TRUE(d.read(0, 1000, block));
  EXPECT_TRUE(std::all_of(block.begin(), block.end(), [](auto b) { return b == 0; }));
  EXPECT_EQ(read_all(t.path() / "t/b"), expected_file(s, 2));
  auto stamps = d.stamps();
  EXPECT_EQ(stamps[1], (file_stamp{0, 0}));
  EXPECT_EQ(stamps[2].size, piece + 3);
}

TEST(DiskStorage, EmptyFilesAreCreatedWithTheirPiece) {
  temp_dir t;
  auto s = awkward();
  auto d = open_or_die(s, t.path());
  ASSERT_TRUE(d.write_piece(0, s.piece(0)));
  EXPECT_TRUE(fs::is_regular_file(t.path() / "t/empty0"));
  EXPECT_FALSE(fs::exists(t.path() / "t/z/empty2"));
  write_all_pieces(d, s);
  EXPECT_TRUE(fs::is_regular_file(t.path() / "t/dir/empty1"));
  EXPECT_TRUE(fs::is_regular_file(t.path() / "t/z/empty2"));
  EXPECT_EQ(fs::file_size(t.path() / "t/z/empty2"), 0u);
}

TEST(DiskStorage, SingleFileTorrentAndExecutableBit) {
  temp_dir t;
  auto s = make_sample({{"", 3 * piece + 1}}, piece, true, 3, "run.sh");
  s.m.files[0].executable = true;
  auto d = open_or_die(s, t.path() / "new" / "dir");  // the save path is created too
  write_all_pieces(d, s);
  fs::path f = t.path() / "new/dir/run.sh";
  EXPECT_EQ(read_all(f), s.data);
  EXPECT_NE(fs::status(f).permissions() & fs::perms::owner_exec, fs::perms::none);
}

TEST(DiskStorage, HashPieceReadsBack) {
  temp_dir t;
  auto s = awkward();
  auto d = open_or_die(s, t.path());
  write_all_pieces(d, s);
  for (std::uint32_t p = 0; p < s.m.piece_count(); ++p) {
    auto h = d.hash_piece(p);
    ASSERT_TRUE(h) << h.error().message;
    EXPECT_EQ(*h, s.m.pieces[p]) << p;
  }
}

TEST(DiskStorage, MissingFilesAreReportedAsMissing) {
  temp_dir t;
  auto s = awkward();
  auto d = open_or_die(s, t.path());
  std::vector<std::uint8_t> block(10);
  auto r = d.read(0, 0, block);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, error_kind::missing);
  EXPECT_NE(r.error().message.find("t/a"), std::string::npos) << r.error().message;
  auto h = d.hash_piece(1);
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().kind, error_kind::missing);
  // stamps: absent files are size -1.
  for (const auto& st : d.stamps()) EXPECT_EQ(st.size, -1);
}

TEST(DiskStorage, RejectsOutOfRangeArguments) {
  temp_dir t;
  auto s = awkward();
  auto d = open_or_die(s, t.path());
  std::vector<std::uint8_t> too_short(10);
  EXPECT_EQ(d.write_piece(0, too_short).error().kind, error_kind::invalid_argument);
  auto n = static_cast<std::uint32_t>(s.m.piece_count());
  EXPECT_EQ(d.write_piece(n, s.piece(0)).error().kind, error_kind::invalid_argument);
  std::vector<std::uint8_t> block(100);
  EXPECT_EQ(d.read(0, piece - 50, block).error().kind, error_kind::invalid_argument);
  EXPECT_EQ(d.read(n, 0, block).error().kind, error_kind::invalid_argument);
  EXPECT_EQ(d.hash_piece(n).error().kind, error_kind::invalid_argument);
  EXPECT_FALSE(fs::exists(t.path() / "t")) << "nothing is written on a bad call";
}

TEST(DiskStorage, OpenRejectsAnInconsistentLayout) {
  temp_dir t;
  auto s = awkward();
  s.m.files[1].offset += 1;
  EXPECT_EQ(disk_storage::open(s.m, t.path()).error().kind, error_kind::invalid_argument);
  s = awkward();
  s.m.pieces.pop_back();
  EXPECT_FALSE(disk_storage::open(s.m, t.path()));
  s = awkward();
  s.m.files[0].path.back() = "..";
  EXPECT_FALSE(disk_storage::open(s.m, t.path()));
}

TEST(DiskStorage, ConcurrentWritesAndReadsWithFewDescriptors) {
  temp_dir t;
  std::vector<file_spec> files;
  for (int i = 0; i < 12; ++i) files.push_back({"f" + std::to_string(i), 3 * piece / 2 + i});
  auto s = make_sample(files, piece);
  auto d = open_or_die(s, t.path(), storage_options{2});  // constant eviction
  std::atomic<std::uint32_t> next{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      for (std::uint32_t p; (p = next++) < s.m.piece_count();) {
        std::vector<std::uint8_t> block(std::min<std::size_t>(1000, s.piece(p).size()));
        if (auto r = d.write_piece(p, s.piece(p)); !r) {
          ADD_FAILURE() << r.error().message;
          ++failures;
        }
        if (auto r = d.read(p, 0, block); !r) {
          ADD_FAILURE() << r.error().message;
          ++failures;
        } else if (!std::equal(block.begin(), block.end(), s.piece(p).begin())) {
          ++failures;
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  EXPECT_EQ(failures, 0);
  ASSERT_TRUE(d.flush());
  for (std::size_t i = 0; i < s.m.files.size(); ++i) {
    EXPECT_EQ(read_all(d.file_path(i)), expected_file(s, i));
  }
}

TEST(DiskStorage, StampsFollowTheFiles) {
  temp_dir t;
  auto s = awkward();
  auto d = open_or_die(s, t.path());
  write_all_pieces(d, s);
  ASSERT_TRUE(d.flush());
  auto before = d.stamps();
  for (std::size_t i = 0; i < s.m.files.size(); ++i) EXPECT_EQ(before[i].size, s.m.files[i].size);
  EXPECT_EQ(d.stamps(), before);
  fs::remove(t.path() / "t/h");
  auto after = d.stamps();
  EXPECT_EQ(after[7].size, -1);
  after[7] = before[7];
  EXPECT_EQ(after, before);
}
