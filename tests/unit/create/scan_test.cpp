#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "peerwire/create.hpp"
#include "unit/create/temp_tree.hpp"

using namespace peerwire;
using create_test::temp_tree;
namespace fs = std::filesystem;

namespace {
std::vector<std::string> joined_paths(const std::vector<source_file>& files) {
  std::vector<std::string> out;
  for (const auto& f : files) {
    std::string s;
    for (const auto& c : f.components) s += (s.empty() ? "" : "/") + c;
    out.push_back(s);
  }
  return out;
}
}  // namespace

TEST(Scan, SingleFile) {
  temp_tree t;
  t.write("movie.mkv", 1234);
  auto tree = scan_source(t.root() / "movie.mkv");
  ASSERT_TRUE(tree) << tree.error().describe();
  EXPECT_TRUE(tree->single_file);
  EXPECT_EQ(tree->name, "movie.mkv");
  ASSERT_EQ(tree->files.size(), 1u);
  EXPECT_EQ(tree->files[0].size, 1234);
  EXPECT_EQ(tree->files[0].components, std::vector<std::string>{"movie.mkv"});
}

TEST(Scan, DeterministicComponentOrder) {
  temp_tree t;
  // Created in an order unrelated to the expected one. "a/b" sorts before "a-c" because the
  // comparison is per component ("a" < "a-c"), even though '-' < '/' as whole strings.
  for (const char* p : {"z", "a-c", "a/b", "B", "a/a/z", "\xc3\xa9t\xc3\xa9", "a/A", "0"}) {
    t.write(p, 3);
  }
  auto tree = scan_source(t.root());
  ASSERT_TRUE(tree) << tree.error().describe();
  EXPECT_FALSE(tree->single_file);
  std::vector<std::string> expected = {"0",   "B",   "a/A", "a/a/z",
                                       "a/b", "a-c", "z",   "\xc3\xa9t\xc3\xa9"};
  EXPECT_EQ(joined_paths(tree->files), expected);
  for (const auto& f : tree->files) EXPECT_EQ(f.disk_path, t.root() / joined_paths({f})[0]);
}

TEST(Scan, NameOfDirectoryWithTrailingSlashOrDot) {
  temp_tree t;
  t.write("show/e1", 10);
  auto a = scan_source(t.root() / "show" / "");
  ASSERT_TRUE(a) << a.error().describe();
  EXPECT_EQ(a->name, "show");
  auto b = scan_source(t.root() / "show" / ".");
  ASSERT_TRUE(b) << b.error().describe();
  EXPECT_EQ(b->name, "show");
  EXPECT_EQ(joined_paths(b->files), std::vector<std::string>{"e1"});
}

TEST(Scan, EmptyFilesAreKept) {
  temp_tree t;
  t.write("d/empty", 0);
  t.write("d/full", 5);
  auto tree = scan_source(t.root() / "d");
  ASSERT_TRUE(tree) << tree.error().describe();
  ASSERT_EQ(tree->files.size(), 2u);
  EXPECT_EQ(tree->files[0].size, 0);
}

TEST(Scan, SymlinksAndSpecialFiles) {
  temp_tree t;
  t.write("outside/target.bin", 100);
  t.write("outside/dir/inner", 7);
  t.write("d/real", 10);
  fs::create_symlink(t.root() / "outside/target.bin", t.root() / "d/link-to-file");
  fs::create_directory_symlink(t.root() / "outside/dir", t.root() / "d/link-to-dir");
  fs::create_symlink(t.root() / "nowhere", t.root() / "d/broken");
  ASSERT_EQ(::mkfifo((t.root() / "d/fifo").c_str(), 0600), 0);

  auto tree = scan_source(t.root() / "d");
  ASSERT_TRUE(tree) << tree.error().describe();
  EXPECT_EQ(joined_paths(tree->files), (std::vector<std::string>{"link-to-file", "real"}));
  EXPECT_EQ(tree->files[0].size, 100);  // the target's size
  ASSERT_EQ(tree->skipped.size(), 3u);
  std::string all;
  for (const auto& s : tree->skipped) all += s + "\n";
  EXPECT_NE(all.find("broken: broken symlink"), std::string::npos) << all;
  EXPECT_NE(all.find("link-to-dir: symlink to a directory"), std::string::npos) << all;
  EXPECT_NE(all.find("fifo: FIFO"), std::string::npos) << all;
}

TEST(Scan, ExecutableBit) {
  temp_tree t;
  t.write("d/run.sh", 4);
  t.write("d/data", 4);
  fs::permissions(t.root() / "d/run.sh", fs::perms::owner_exec, fs::perm_options::add);
  auto tree = scan_source(t.root() / "d");
  ASSERT_TRUE(tree) << tree.error().describe();
  EXPECT_FALSE(tree->files[0].executable);  // data
  EXPECT_TRUE(tree->files[1].executable);   // run.sh
}

TEST(Scan, MissingPath) {
  temp_tree t;
  auto tree = scan_source(t.root() / "nope");
  ASSERT_FALSE(tree);
  EXPECT_NE(tree.error().message.find("No such file"), std::string::npos) << tree.error().message;
}

TEST(Scan, EmptyDirectory) {
  temp_tree t;
  fs::create_directories(t.root() / "d/sub/subsub");
  auto tree = scan_source(t.root() / "d");
  ASSERT_FALSE(tree);
  EXPECT_NE(tree.error().message.find("no files"), std::string::npos) << tree.error().message;
}

TEST(Scan, UnsafeNames) {
  for (const char* bad : {"tab\there", "back\\slash", "del\x7f"}) {
    temp_tree t;
    t.write(fs::path("d") / bad, 1);
    auto tree = scan_source(t.root() / "d");
    EXPECT_FALSE(tree) << bad;
  }
  EXPECT_TRUE(unsafe_name(""));
  EXPECT_TRUE(unsafe_name(".."));
  EXPECT_TRUE(unsafe_name(std::string(256, 'a')));
  EXPECT_FALSE(unsafe_name(std::string(255, 'a')));
  EXPECT_FALSE(unsafe_name(".hidden"));
}

TEST(Scan, UnreadableDirectory) {
  if (::geteuid() == 0) GTEST_SKIP() << "root can read any directory";
  temp_tree t;
  t.write("d/ok", 1);
  t.write("d/locked/secret", 1);
  fs::permissions(t.root() / "d/locked", fs::perms::none);
  auto tree = scan_source(t.root() / "d");
  ASSERT_FALSE(tree);
  EXPECT_NE(tree.error().message.find("locked"), std::string::npos) << tree.error().message;
}

TEST(Scan, NotFileOrDirectory) {
  temp_tree t;
  ASSERT_EQ(::mkfifo((t.root() / "fifo").c_str(), 0600), 0);
  EXPECT_FALSE(scan_source(t.root() / "fifo"));
}

TEST(Padding, AlignsEveryFileButTheLast) {
  std::vector<source_file> files = {
      {"a", {"a"}, 10, false, false},
      {"b", {"b"}, 16384, false, false},  // already ends on a boundary after padding a
      {"c", {"c"}, 1, false, false},
      {"d", {"d"}, 0, false, false},  // empty: needs no padding, and c gets padding before it
      {"e", {"e"}, 5, false, false},  // last with data: no padding after it
      {"f", {"f"}, 0, false, false},
  };
  auto padded = add_padding(files, 16384);
  std::vector<std::string> names;
  std::int64_t offset = 0;
  for (const auto& f : padded) {
    names.push_back(f.pad ? ".pad/" + f.components[1] : f.components[0]);
    if (!f.pad && f.size > 0) {
      EXPECT_EQ(offset % 16384, 0) << f.components[0];
    }
    offset += f.size;
  }
  EXPECT_EQ(names,
            (std::vector<std::string>{"a", ".pad/16374", "b", "c", ".pad/16383", "d", "e", "f"}));
  EXPECT_EQ(padded[1].size, 16374);
  EXPECT_TRUE(padded[1].pad);
  EXPECT_TRUE(padded[1].disk_path.empty());
}

TEST(Scan, TooDeep) {
  temp_tree t;
  fs::path deep = "d";
  for (int i = 0; i < 100; ++i) deep /= "x";
  t.write(deep / "f", 1);
  auto tree = scan_source(t.root() / "d");  // x/.../x/f: 101 components
  ASSERT_FALSE(tree);
  EXPECT_NE(tree.error().message.find("deeper than 100"), std::string::npos)
      << tree.error().message;
  EXPECT_TRUE(scan_source(t.root() / "d/x"));  // exactly 100
}
