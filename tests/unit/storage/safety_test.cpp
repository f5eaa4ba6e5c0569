// Path safety and the errors that must pause a torrent rather than crash it: planted symlinks,
// special files, permission denied, disk full.
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <csignal>
#include <fstream>

#include "peerwire/storage.hpp"
#include "unit/storage/child_process.hpp"
#include "unit/storage/storage_fixture.hpp"

using namespace peerwire;
using namespace peerwire::storage;
using namespace storage_test;

namespace {

constexpr std::int64_t piece = 16 * 1024;

sample two_files() {
  return make_sample({{"a", 1000}, {"sub/b", 3 * piece}}, piece);
}

storage_result<void> write_everything(const sample& s, const fs::path& dir) {
  auto d = disk_storage::open(s.m, dir);
  if (!d) return d.error();
  for (std::uint32_t p = 0; p < s.m.piece_count(); ++p) {
    if (auto r = d->write_piece(p, s.piece(p)); !r) return r;
  }
  return {};
}

// Runs write_everything in a child; the exit code carries the error kind (100 = success).
child_outcome write_in_child(const sample& s, const fs::path& dir,
                             const std::function<bool()>& setup) {
  return run_in_child([&]() -> std::pair<int, std::string> {
    if (!setup()) return {child_skip, "setup not possible here"};
    auto r = write_everything(s, dir);
    if (r) return {100, ""};
    return {static_cast<int>(r.error().kind), r.error().message};
  });
}

}  // namespace

TEST(Safety, PlantedFileSymlinkIsNotFollowed) {
  temp_dir t, outside;
  auto s = two_files();
  std::ofstream(outside.path() / "victim") << "precious";
  fs::create_directories(t.path() / "t");
  fs::create_symlink(outside.path() / "victim", t.path() / "t/a");
  auto r = write_everything(s, t.path());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, error_kind::unsafe_path);
  EXPECT_NE(r.error().message.find("symbolic link"), std::string::npos) << r.error().message;
  EXPECT_EQ(read_all(outside.path() / "victim"), "precious");
}

TEST(Safety, PlantedDirectorySymlinkIsNotFollowed) {
  temp_dir t, outside;
  auto s = two_files();
  fs::create_directories(t.path() / "t");
  fs::create_symlink(outside.path(), t.path() / "t/sub");
  auto d = disk_storage::open(s.m, t.path());
  ASSERT_TRUE(d);
  auto r = d->write_piece(1, s.piece(1));  // entirely inside sub/b
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, error_kind::unsafe_path);
  EXPECT_TRUE(fs::is_empty(outside.path()));
  // Reading and stamping do not follow it either.
  std::vector<std::uint8_t> block(10);
  EXPECT_EQ(d->read(1, 0, block).error().kind, error_kind::unsafe_path);
  EXPECT_EQ(d->stamps()[1].size, -1);
}

TEST(Safety, SymlinkedSavePathItselfIsFine) {
  temp_dir t;
  auto s = two_files();
  fs::create_directories(t.path() / "real");
  fs::create_directory_symlink(t.path() / "real", t.path() / "link");
  ASSERT_TRUE(write_everything(s, t.path() / "link"));
  EXPECT_EQ(read_all(t.path() / "real/t/sub/b"), expected_file(s, 1));
}

TEST(Safety, SpecialFilesAndDirectoriesAreRefused) {
  temp_dir t;
  auto s = two_files();
  fs::create_directories(t.path() / "t/sub");
  ASSERT_EQ(::mkfifo((t.path() / "t/a").c_str(), 0644), 0);
  auto r = write_everything(s, t.path());  // must not hang on the FIFO
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, error_kind::unsafe_path);
  fs::remove(t.path() / "t/a");
  fs::create_directories(t.path() / "t/a");
  r = write_everything(s, t.path());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, error_kind::unsafe_path);
  fs::remove(t.path() / "t/a");
  fs::remove_all(t.path() / "t/sub");
  std::ofstream(t.path() / "t/sub") << "x";  // a file where a directory belongs
  r = write_everything(s, t.path());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, error_kind::unsafe_path);
  EXPECT_NE(r.error().message.find("in the way"), std::string::npos) << r.error().message;
}

TEST(Safety, ReadOnlyDirectoryIsAPermissionError) {
  temp_dir t;
  auto s = two_files();
  // Others (the unprivileged child below) may enter the test directory but not write in ro.
  fs::permissions(t.path(),
                  fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                      fs::perms::others_read | fs::perms::others_exec,
                  fs::perm_options::replace);
  fs::path ro = t.path() / "ro";
  fs::create_directories(ro);
  fs::permissions(ro,
                  fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                      fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec,
                  fs::perm_options::replace);
  // Root ignores permissions, so the child drops to an unprivileged user first.
  auto out = write_in_child(s, ro, [] {
    if (::geteuid() != 0) return true;
    return ::setgid(65534) == 0 && ::setuid(65534) == 0;
  });
  if (out.exit_code == child_skip) GTEST_SKIP() << out.text;
  EXPECT_EQ(out.exit_code, static_cast<int>(error_kind::permission)) << out.text;
  EXPECT_NE(out.text.find("permission denied"), std::string::npos) << out.text;
  EXPECT_NE(out.text.find(ro.string()), std::string::npos) << out.text;
}

TEST(Safety, FileSizeLimitIsADiskFullError) {
  temp_dir t;
  auto s = make_sample({{"big", 1 << 20}}, piece);
  // RLIMIT_FSIZE makes ftruncate to the final size fail with EFBIG.
  auto out = write_in_child(s, t.path(), [] {
    std::signal(SIGXFSZ, SIG_IGN);
    rlimit lim{64 << 10, 64 << 10};
    return ::setrlimit(RLIMIT_FSIZE, &lim) == 0;
  });
  if (out.exit_code == child_skip) GTEST_SKIP() << out.text;
  EXPECT_EQ(out.exit_code, static_cast<int>(error_kind::disk_full)) << out.text;
  EXPECT_NE(out.text.find("t/big"), std::string::npos) << out.text;
}

TEST(Safety, FullDiskIsReportedClearly) {
  temp_dir t;
  auto s = make_sample({{"big", 1 << 20}}, piece);
  // A 64 KiB tmpfs in a private mount namespace: needs CAP_SYS_ADMIN, so CI may skip.
  fs::path mnt = t.path() / "small";
  fs::create_directories(mnt);
  auto out = write_in_child(s, mnt, [&] {
    return ::unshare(CLONE_NEWNS) == 0 &&
           ::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0 &&
           ::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=64k") == 0;
  });
  if (out.exit_code == child_skip) GTEST_SKIP() << "no mount namespace: " << out.text;
  EXPECT_EQ(out.exit_code, static_cast<int>(error_kind::disk_full)) << out.text;
  EXPECT_NE(out.text.find("the disk is full"), std::string::npos) << out.text;
  EXPECT_NE(out.text.find("t/big"), std::string::npos) << out.text;
}
