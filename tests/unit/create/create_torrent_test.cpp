#include <gtest/gtest.h>

#include "peerwire/bencode_value.hpp"
#include "peerwire/create.hpp"
#include "unit/create/temp_tree.hpp"

using namespace peerwire;
using create_test::reference_pieces;
using create_test::temp_tree;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> keys(bencode::node dict) {
  std::vector<std::string> out;
  for (auto [k, v] : dict.pairs()) out.emplace_back(k);
  return out;
}

std::string pieces_string(const std::vector<sha1_digest>& pieces) {
  std::string out;
  for (const auto& d : pieces) out.append(reinterpret_cast<const char*>(d.data()), d.size());
  return out;
}

std::vector<std::string> strings(bencode::node list) {
  std::vector<std::string> out;
  for (auto item : list.items()) out.emplace_back(item.as_string());
  return out;
}

}  // namespace

TEST(CreateTorrent, SingleFile) {
  temp_tree t;
  t.write("video.mkv", 100'000);
  create_options o;
  o.trackers = {{"http://tracker.example/announce"}};
  o.creation_date = 1700000000;
  auto made = create_torrent(t.root() / "video.mkv", o);
  ASSERT_TRUE(made) << made.error().describe();
  EXPECT_EQ(made->name, "video.mkv");
  EXPECT_EQ(made->piece_length, 16384);
  EXPECT_EQ(made->piece_count, 7u);
  EXPECT_EQ(made->total_size, 100'000);
  EXPECT_EQ(made->file_count, 1u);

  auto doc = bencode::decode(made->torrent);
  ASSERT_TRUE(doc) << doc.error().describe();
  auto root = doc->root();
  // Canonical: decoding and re-encoding changes nothing.
  EXPECT_EQ(bencode::encode(root), made->torrent);
  EXPECT_EQ(keys(root),
            (std::vector<std::string>{"announce", "created by", "creation date", "info"}));
  EXPECT_EQ(root.find_string("announce"), "http://tracker.example/announce");
  EXPECT_EQ(root.find_string("created by"), "peerwire/0.1.0");
  EXPECT_EQ(root.find_int("creation date"), 1700000000);

  auto info = *root.find_dict("info");
  EXPECT_EQ(keys(info), (std::vector<std::string>{"length", "name", "piece length", "pieces"}));
  EXPECT_EQ(info.find_int("length"), 100'000);
  EXPECT_EQ(info.find_string("name"), "video.mkv");
  EXPECT_EQ(info.find_int("piece length"), 16384);
  std::vector<source_file> files = {{t.root() / "video.mkv", {"video.mkv"}, 100'000, false, false}};
  EXPECT_EQ(info.find_string("pieces"), pieces_string(reference_pieces(files, 16384)));
  EXPECT_EQ(made->info_hash.bytes, sha1(info.raw()));
}

TEST(CreateTorrent, Directory) {
  temp_tree t;
  t.write("album/cd2/01.flac", 40'000);
  t.write("album/cd1/01.flac", 50'000);
  t.write("album/cover.jpg", 3'000);
  t.write("album/empty.txt", 0);
  fs::permissions(t.root() / "album/cover.jpg", fs::perms::owner_exec, fs::perm_options::add);
  create_options o;
  o.piece_length = 32768;
  auto made = create_torrent(t.root() / "album", o);
  ASSERT_TRUE(made) << made.error().describe();
  EXPECT_EQ(made->file_count, 4u);

  auto doc = bencode::decode(made->torrent);
  ASSERT_TRUE(doc) << doc.error().describe();
  EXPECT_EQ(keys(doc->root()), (std::vector<std::string>{"created by", "info"}));
  auto info = *doc->root().find_dict("info");
  EXPECT_EQ(keys(info), (std::vector<std::string>{"files", "name", "piece length", "pieces"}));
  EXPECT_EQ(info.find_string("name"), "album");
  std::vector<std::string> paths;
  std::vector<std::int64_t> sizes;
  std::vector<std::string> attrs;
  for (auto f : info.find_list("files")->items()) {
    std::string p;
    for (const auto& c : strings(*f.find_list("path"))) p += (p.empty() ? "" : "/") + c;
    paths.push_back(p);
    sizes.push_back(*f.find_int("length"));
    attrs.emplace_back(f.find_string("attr").value_or(""));
  }
  EXPECT_EQ(paths,
            (std::vector<std::string>{"cd1/01.flac", "cd2/01.flac", "cover.jpg", "empty.txt"}));
  EXPECT_EQ(sizes, (std::vector<std::int64_t>{50'000, 40'000, 3'000, 0}));
  EXPECT_EQ(attrs, (std::vector<std::string>{"", "", "x", ""}));

  auto tree = scan_source(t.root() / "album");
  ASSERT_TRUE(tree);
  EXPECT_EQ(info.find_string("pieces"), pieces_string(reference_pieces(tree->files, 32768)));
  EXPECT_EQ(made->info_hash.bytes, sha1(info.raw()));
}

TEST(CreateTorrent, AllOptions) {
  temp_tree t;
  t.write("d/a", 20'000);
  t.write("d/b", 20'000);
  create_options o;
  o.trackers = {{"udp://a.example:1", ""}, {}, {"http://b.example/ann", "http://c.example/ann"}};
  o.web_seeds = {"http://seed1.example/", "http://seed2.example/"};
  o.is_private = true;
  o.comment = "a comment";
  o.source = "TRACKER";
  o.created_by = "";
  o.name = "renamed";
  o.pad_files = true;
  o.threads = 3;
  auto made = create_torrent(t.root() / "d", o);
  ASSERT_TRUE(made) << made.error().describe();
  EXPECT_EQ(made->total_size, 40'000);
  EXPECT_EQ(made->file_count, 2u);

  auto doc = bencode::decode(made->torrent);
  ASSERT_TRUE(doc) << doc.error().describe();
  auto root = doc->root();
  EXPECT_EQ(keys(root),
            (std::vector<std::string>{"announce", "announce-list", "comment", "info", "url-list"}));
  EXPECT_EQ(root.find_string("announce"), "udp://a.example:1");
  std::vector<std::vector<std::string>> tiers;
  for (auto tier : root.find_list("announce-list")->items()) tiers.push_back(strings(tier));
  EXPECT_EQ(tiers, (std::vector<std::vector<std::string>>{
                       {"udp://a.example:1"}, {"http://b.example/ann", "http://c.example/ann"}}));
  EXPECT_EQ(strings(*root.find_list("url-list")),
            (std::vector<std::string>{"http://seed1.example/", "http://seed2.example/"}));
  EXPECT_EQ(root.find_string("comment"), "a comment");

  auto info = *root.find_dict("info");
  EXPECT_EQ(keys(info), (std::vector<std::string>{"files", "name", "piece length", "pieces",
                                                  "private", "source"}));
  EXPECT_EQ(info.find_string("name"), "renamed");
  EXPECT_EQ(info.find_int("private"), 1);
  EXPECT_EQ(info.find_string("source"), "TRACKER");

  // 20000 bytes -> 16384-byte pieces; a is padded to 32768, b is last and not padded.
  auto files = *info.find_list("files");
  ASSERT_EQ(files.size(), 3u);
  auto entries = files.items().begin();
  ++entries;
  auto pad = *entries;
  EXPECT_EQ(pad.find_string("attr"), "p");
  EXPECT_EQ(pad.find_int("length"), 12'768);
  EXPECT_EQ(strings(*pad.find_list("path")), (std::vector<std::string>{".pad", "12768"}));
  EXPECT_EQ(info.find_string("pieces")->size(), 20u * 4);  // (32768 + 20000) / 16384 -> 4
}

TEST(CreateTorrent, SingleWebSeedIsAString) {
  temp_tree t;
  t.write("f", 10);
  create_options o;
  o.web_seeds = {"http://seed.example/f"};
  o.pad_files = true;  // meaningless for one file: ignored
  auto made = create_torrent(t.root() / "f", o);
  ASSERT_TRUE(made) << made.error().describe();
  auto doc = bencode::decode(made->torrent);
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->root().find_string("url-list"), "http://seed.example/f");
  EXPECT_FALSE(doc->root().find_dict("info")->find("files"));
}

TEST(CreateTorrent, SameInputSameBytes) {
  temp_tree t;
  for (int i = 0; i < 20; ++i) t.write("d/file" + std::to_string(i * 7 % 20), 5000 + i);
  create_options o;
  o.threads = 1;
  auto a = create_torrent(t.root() / "d", o);
  o.threads = 4;
  auto b = create_torrent(t.root() / "d", o);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->torrent, b->torrent);
  EXPECT_EQ(a->info_hash, b->info_hash);
}

TEST(CreateTorrent, Errors) {
  temp_tree t;
  EXPECT_FALSE(create_torrent(t.root() / "missing", {}));
  fs::create_directory(t.root() / "empty-dir");
  EXPECT_FALSE(create_torrent(t.root() / "empty-dir", {}));

  t.write("zero/a", 0);
  auto zero = create_torrent(t.root() / "zero", {});
  ASSERT_FALSE(zero);
  EXPECT_NE(zero.error().message.find("empty"), std::string::npos) << zero.error().message;

  t.write("f", 10);
  create_options bad_piece;
  bad_piece.piece_length = 1000;
  EXPECT_FALSE(create_torrent(t.root() / "f", bad_piece));
  create_options bad_name;
  bad_name.name = "a/b";
  EXPECT_FALSE(create_torrent(t.root() / "f", bad_name));
  std::atomic<bool> stop{true};
  auto cancelled = create_torrent(t.root() / "f", {}, {}, &stop);
  ASSERT_FALSE(cancelled);
  EXPECT_EQ(cancelled.error().message, "cancelled");
}

TEST(CreateTorrent, RefusesOversizedTorrentBeforeHashing) {
  temp_tree t;
  // 16 GiB sparse at 16 KiB pieces is a million piece hashes: a 20 MB .torrent.
  fs::path p = t.root() / "huge";
  { std::ofstream(p, std::ios::binary); }
  fs::resize_file(p, std::uintmax_t{16} << 30);
  create_options o;
  o.piece_length = 16384;
  auto made = create_torrent(p, o);
  ASSERT_FALSE(made);
  EXPECT_NE(made.error().message.find("larger than 10 MB"), std::string::npos)
      << made.error().message;
}
