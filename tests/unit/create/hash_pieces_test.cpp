#include <gtest/gtest.h>

#include <thread>

#include "peerwire/create.hpp"
#include "unit/create/temp_tree.hpp"

using namespace peerwire;
using create_test::reference_pieces;
using create_test::temp_tree;
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t piece = 16 * 1024;

source_file file_of(const temp_tree& t, const std::string& rel) {
  fs::path p = t.root() / rel;
  return {p, {rel}, static_cast<std::int64_t>(fs::file_size(p)), false, false};
}

// Files crossing piece boundaries in every way: inside one piece, spanning several, ending
// exactly on a boundary, empty ones in between, and an odd-sized last piece.
std::vector<source_file> awkward_set(temp_tree& t) {
  std::vector<std::pair<std::string, std::size_t>> spec = {
      {"a", 100},           {"b", 0}, {"c", piece - 100},  // a+c end exactly on a boundary
      {"d", 3 * piece + 7}, {"e", 1}, {"f", 0},           {"g", 5 * piece / 2}, {"h", 12345},
  };
  std::vector<source_file> files;
  for (auto& [name, size] : spec) {
    t.write(name, size);
    files.push_back(file_of(t, name));
  }
  return files;
}

}  // namespace

TEST(HashPieces, MatchesReferenceAcrossBoundaries) {
  temp_tree t;
  auto files = awkward_set(t);
  auto got = hash_pieces(files, piece, 1);
  ASSERT_TRUE(got) << got.error().describe();
  auto expected = reference_pieces(files, piece);
  EXPECT_EQ(expected.size(), static_cast<std::size_t>((total_size(files) + piece - 1) / piece));
  EXPECT_EQ(*got, expected);
}

TEST(HashPieces, ThreadCountDoesNotChangeResult) {
  temp_tree t;
  // Enough data for several jobs (1 MiB each) and several read windows per job.
  std::vector<source_file> files;
  for (int i = 0; i < 5; ++i) {
    std::string name = "f" + std::to_string(i);
    t.write(name, static_cast<std::size_t>(700'000 + 99'991 * i));
    files.push_back(file_of(t, name));
  }
  for (std::int64_t length : {piece, std::int64_t{256 * 1024}, std::int64_t{4 << 20}}) {
    auto one = hash_pieces(files, length, 1);
    ASSERT_TRUE(one) << one.error().describe();
    EXPECT_EQ(*one, reference_pieces(files, length)) << length;
    for (unsigned threads : {2u, 3u, 8u, 0u}) {
      auto many = hash_pieces(files, length, threads);
      ASSERT_TRUE(many) << many.error().describe();
      EXPECT_EQ(*many, *one) << "threads=" << threads << " length=" << length;
    }
  }
}

TEST(HashPieces, SinglePieceAndExactMultiple) {
  temp_tree t;
  t.write("small", 5);
  t.write("exact", 4 * piece);
  for (const char* name : {"small", "exact"}) {
    std::vector<source_file> files = {file_of(t, name)};
    auto got = hash_pieces(files, piece, 4);
    ASSERT_TRUE(got) << got.error().describe();
    EXPECT_EQ(*got, reference_pieces(files, piece)) << name;
  }
}

TEST(HashPieces, NothingToHash) {
  temp_tree t;
  t.write("empty", 0);
  auto got = hash_pieces({file_of(t, "empty")}, piece, 2);
  ASSERT_TRUE(got) << got.error().describe();
  EXPECT_TRUE(got->empty());
}

TEST(HashPieces, PaddingHashesAsZeros) {
  temp_tree t;
  auto files = add_padding(awkward_set(t), piece);
  std::size_t pads = 0;
  for (const auto& f : files) pads += f.pad;
  EXPECT_GT(pads, 2u);
  EXPECT_FALSE(files.back().pad);
  auto got = hash_pieces(files, piece, 3);
  ASSERT_TRUE(got) << got.error().describe();
  EXPECT_EQ(*got, reference_pieces(files, piece));
  // A file that is all zeros and aligned hashes like its zero padding would.
  std::vector<source_file> only_pad = {{{}, {".pad", "16384"}, piece, true, false}};
  auto zeros = hash_pieces(only_pad, piece, 1);
  ASSERT_TRUE(zeros);
  EXPECT_EQ((*zeros)[0], sha1(std::string(piece, '\0')));
}

TEST(HashPieces, ProgressIsMonotonicAndEndsComplete) {
  temp_tree t;
  auto files = awkward_set(t);
  std::vector<create_progress> seen;
  auto caller = std::this_thread::get_id();
  bool other_thread = false;
  auto got = hash_pieces(files, piece, 2, [&](const create_progress& p) {
    other_thread |= std::this_thread::get_id() != caller;
    seen.push_back(p);
  });
  ASSERT_TRUE(got) << got.error().describe();
  EXPECT_FALSE(other_thread);
  ASSERT_FALSE(seen.empty());
  for (std::size_t i = 1; i < seen.size(); ++i) {
    EXPECT_GE(seen[i].bytes_hashed, seen[i - 1].bytes_hashed);
    EXPECT_GE(seen[i].pieces_done, seen[i - 1].pieces_done);
  }
  EXPECT_EQ(seen.back().bytes_hashed, total_size(files));
  EXPECT_EQ(seen.back().bytes_total, total_size(files));
  EXPECT_EQ(seen.back().pieces_done, got->size());
  EXPECT_EQ(seen.back().piece_count, got->size());
}

TEST(HashPieces, StopFlagCancels) {
  temp_tree t;
  auto files = awkward_set(t);
  std::atomic<bool> stop{true};
  auto got = hash_pieces(files, piece, 2, {}, &stop);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().message, "cancelled");
}

TEST(HashPieces, MissingFileIsAnError) {
  temp_tree t;
  auto files = awkward_set(t);
  fs::remove(t.root() / "d");
  auto got = hash_pieces(files, piece, 2);
  ASSERT_FALSE(got);
  EXPECT_NE(got.error().message.find("/d: cannot open"), std::string::npos) << got.error().message;
}

TEST(HashPieces, PermissionDeniedIsAnError) {
  if (::geteuid() == 0) GTEST_SKIP() << "root can read any file";
  temp_tree t;
  auto files = awkward_set(t);
  fs::permissions(t.root() / "g", fs::perms::none);
  auto got = hash_pieces(files, piece, 2);
  ASSERT_FALSE(got);
  EXPECT_NE(got.error().message.find("/g: cannot open: Permission denied"), std::string::npos)
      << got.error().message;
}

TEST(HashPieces, FileReplacedByDirectoryIsAnError) {
  temp_tree t;
  auto files = awkward_set(t);
  // A directory opens fine but is not a regular file; read() on it fails with EISDIR. This
  // works even as root, unlike chmod 000.
  fs::remove(t.root() / "g");
  fs::create_directory(t.root() / "g");
  auto got = hash_pieces(files, piece, 2);
  ASSERT_FALSE(got);
  EXPECT_NE(got.error().message.find("/g: changed since"), std::string::npos)
      << got.error().message;
}

TEST(HashPieces, FileChangedSinceScan) {
  temp_tree t;
  auto files = awkward_set(t);
  t.write("d", 10);  // shrank after the scan recorded its size
  auto got = hash_pieces(files, piece, 2);
  ASSERT_FALSE(got);
  EXPECT_NE(got.error().message.find("/d: changed"), std::string::npos) << got.error().message;
}

// The progress callback runs on the caller's thread while workers read, which lets a test
// change a file mid-hash. A sparse file is large enough to outlast the first 100 ms tick
// without using disk space.
std::string change_mid_hash(const char* change) {
  temp_tree t;
  fs::path p = t.root() / "sparse";
  { std::ofstream(p, std::ios::binary); }
  fs::resize_file(p, std::uintmax_t{384} << 20);
  std::vector<source_file> files = {file_of(t, "sparse")};
  bool changed = false;
  auto got = hash_pieces(files, 1 << 20, 1, [&](const create_progress& pr) {
    if (changed || pr.bytes_hashed == pr.bytes_total) return;
    if (std::string(change) == "shrink") {
      fs::resize_file(p, 1 << 20);
    } else if (std::string(change) == "touch") {
      fs::last_write_time(p, fs::last_write_time(p) + std::chrono::hours(1));
    } else {
      std::ofstream(p, std::ios::binary | std::ios::app) << "more";
    }
    changed = true;
  });
  if (!changed) return "not changed in time";
  return got ? "no error" : got.error().message;
}

TEST(HashPieces, FileShrinksWhileHashing) {
  std::string msg = change_mid_hash("shrink");
  if (msg == "not changed in time") GTEST_SKIP() << msg;
  EXPECT_NE(msg.find("sparse: file shrank while it was being hashed"), std::string::npos) << msg;
}

TEST(HashPieces, FileGrowsWhileHashing) {
  std::string msg = change_mid_hash("grow");
  if (msg == "not changed in time") GTEST_SKIP() << msg;
  EXPECT_NE(msg.find("sparse: file changed size while it was being hashed"), std::string::npos)
      << msg;
}

TEST(HashPieces, FileTouchedWhileHashing) {
  std::string msg = change_mid_hash("touch");
  if (msg == "not changed in time") GTEST_SKIP() << msg;
  EXPECT_NE(msg.find("sparse: file was modified while it was being hashed"), std::string::npos)
      << msg;
}

TEST(HashPieces, RejectsBadPieceLength) {
  EXPECT_FALSE(hash_pieces({}, 1000, 1));
}
