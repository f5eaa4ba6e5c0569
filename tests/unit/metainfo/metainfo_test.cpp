#include <gtest/gtest.h>

#include "peerwire/bencode_value.hpp"
#include "peerwire/encoding.hpp"
#include "peerwire/metainfo.hpp"

using namespace peerwire;
using bencode::dict;
using bencode::list;
using bencode::value;

namespace {

std::string hashes(std::size_t count) {
  return std::string(count * 20, 'h');
}

dict single_file_info(std::int64_t length = 100000, std::int64_t piece_length = 32768) {
  std::size_t pieces = static_cast<std::size_t>((length + piece_length - 1) / piece_length);
  return dict{{"name", "file.bin"},
              {"length", length},
              {"piece length", piece_length},
              {"pieces", hashes(pieces)}};
}

dict file(std::int64_t length, list path, std::string attr = "") {
  dict f{{"length", length}, {"path", std::move(path)}};
  if (!attr.empty()) f["attr"] = attr;
  return f;
}

dict multi_file_info(list files, std::int64_t piece_length = 16384) {
  std::int64_t total = 0;
  for (auto& f : files) total += f.as_dict().at("length").as_int();
  std::size_t pieces = static_cast<std::size_t>((total + piece_length - 1) / piece_length);
  return dict{{"name", "album"},
              {"files", std::move(files)},
              {"piece length", piece_length},
              {"pieces", hashes(pieces)}};
}

std::string torrent(dict info, dict extra = {}) {
  extra["info"] = std::move(info);
  return bencode::encode(value(std::move(extra)));
}

failure parse_error(const std::string& data) {
  auto m = parse_metainfo(data);
  EXPECT_FALSE(m) << "parsed unexpectedly";
  return m ? failure{} : m.error();
}

bool mentions(const failure& e, std::string_view part) {
  return e.message.find(part) != std::string::npos;
}

}  // namespace

TEST(Metainfo, SingleFile) {
  std::string data = torrent(single_file_info(), dict{{"announce", "http://t.example/announce"},
                                                      {"comment", "hello"},
                                                      {"created by", "test"},
                                                      {"creation date", 1700000000}});
  auto m = parse_metainfo(data);
  ASSERT_TRUE(m) << m.error().describe();
  EXPECT_EQ(m->name, "file.bin");
  EXPECT_FALSE(m->multi_file);
  EXPECT_EQ(m->total_size, 100000);
  EXPECT_EQ(m->piece_length, 32768);
  EXPECT_EQ(m->piece_count(), 4u);
  EXPECT_EQ(m->piece_size(0), 32768);
  EXPECT_EQ(m->piece_size(3), 100000 - 3 * 32768);
  ASSERT_EQ(m->files.size(), 1u);
  EXPECT_EQ(m->files[0].joined_path(), "file.bin");
  EXPECT_EQ(m->trackers, (std::vector<std::vector<std::string>>{{"http://t.example/announce"}}));
  EXPECT_EQ(m->comment, "hello");
  EXPECT_EQ(m->created_by, "test");
  EXPECT_EQ(m->creation_date, 1700000000);
  EXPECT_FALSE(m->is_private);
}

TEST(Metainfo, InfoHashIsSha1OfExactInfoBytes) {
  // Keys deliberately out of order: the hash must cover the bytes as written, not a
  // re-encoding.
  std::string info = "d6:lengthi5e4:name1:x12:piece lengthi16384e6:pieces20:" + hashes(1) + "e";
  std::string unsorted = "d6:lengthi5e12:piece lengthi16384e4:name1:x6:pieces20:" + hashes(1) + "e";
  auto a = parse_metainfo("d4:info" + info + "e");
  auto b = parse_metainfo("d4:info" + unsorted + "e");
  ASSERT_TRUE(a) << a.error().describe();
  ASSERT_TRUE(b) << b.error().describe();
  EXPECT_EQ(a->hash.v1->bytes, sha1(info));
  EXPECT_EQ(b->hash.v1->bytes, sha1(unsorted));
  EXPECT_NE(a->hash, b->hash);
  EXPECT_EQ(a->info_bytes, info);
  EXPECT_EQ(a->hash.v1->hex(), to_hex(sha1(info)));
}

TEST(Metainfo, MultiFileOffsetsAndPadding) {
  list files{file(20000, list{"a", "one.bin"}), file(12768, list{".pad", "12768"}, "p"),
             file(0, list{"empty"}), file(5, list{"run.sh"}, "x"),
             file(16379, list{".pad", "16379"}, "p")};
  auto m = parse_metainfo(torrent(multi_file_info(files)));
  ASSERT_TRUE(m) << m.error().describe();
  EXPECT_TRUE(m->multi_file);
  ASSERT_EQ(m->files.size(), 5u);
  EXPECT_EQ(m->files[0].joined_path(), "album/a/one.bin");
  EXPECT_EQ(m->files[1].offset, 20000);
  EXPECT_TRUE(m->files[1].pad);
  EXPECT_EQ(m->files[3].offset, 32768);
  EXPECT_TRUE(m->files[3].executable);
  EXPECT_EQ(m->total_size, 20000 + 12768 + 5 + 16379);
  EXPECT_EQ(m->content_size(), 20005);
  EXPECT_EQ(m->piece_count(), 3u);
}

TEST(Metainfo, RepeatedPadPathsAreAllowed) {
  list files{file(100, list{"a"}), file(16284, list{".pad", "16284"}, "p"), file(100, list{"b"}),
             file(16284, list{".pad", "16284"}, "p"), file(100, list{"c"})};
  auto m = parse_metainfo(torrent(multi_file_info(files)));
  ASSERT_TRUE(m) << m.error().describe();
}

TEST(Metainfo, UnsafePathsAreRejectedWithThePath) {
  struct case_t {
    list path;
    const char* why;
  };
  for (auto& c : {case_t{list{"..", "etc", "passwd"}, "'..'"}, case_t{list{"a", "", "b"}, "empty"},
                  case_t{list{"/etc/passwd"}, "'/'"}, case_t{list{"."}, "'.'"},
                  case_t{list{"a\\..\\b"}, "'\\'"}, case_t{list{std::string("a\0b", 3)}, "NUL"},
                  case_t{list{"a\x1b[31m"}, "control"}, case_t{list{}, "empty path"}}) {
    failure e = parse_error(torrent(multi_file_info(list{file(10, c.path)})));
    EXPECT_TRUE(mentions(e, c.why)) << e.message;
    EXPECT_NE(e.offset, failure::no_offset);
  }
  failure named = parse_error(torrent(multi_file_info(list{file(10, list{"ok", "..", "x"})})));
  EXPECT_TRUE(mentions(named, "unsafe file path 'album/ok/../x'")) << named.message;

  dict bad_name = single_file_info();
  bad_name["name"] = "..";
  EXPECT_TRUE(mentions(parse_error(torrent(bad_name)), "unsafe torrent name"));
  bad_name["name"] = "";
  EXPECT_TRUE(mentions(parse_error(torrent(bad_name)), "unsafe torrent name"));
}

TEST(Metainfo, ClashingPathsAreRejected) {
  EXPECT_TRUE(mentions(parse_error(torrent(multi_file_info(
                           list{file(10, list{"a", "b"}), file(10, list{"a", "b"})}))),
                       "two files have the same path"));
  EXPECT_TRUE(mentions(
      parse_error(torrent(multi_file_info(list{file(10, list{"a"}), file(10, list{"a", "b"})}))),
      "used as a directory"));
  EXPECT_TRUE(mentions(
      parse_error(torrent(multi_file_info(list{file(10, list{"a", "b"}), file(10, list{"a"})}))),
      "used as a directory"));
}

TEST(Metainfo, ClashDetectionIsNotFooledBySortOrder) {
  // '!' (0x21) sorts between "a" and "a/b" when paths are joined with '/'.
  EXPECT_TRUE(mentions(parse_error(torrent(multi_file_info(list{
                           file(10, list{"a"}), file(10, list{"a!"}), file(10, list{"a", "b"})}))),
                       "used as a directory"));
  EXPECT_TRUE(parse_metainfo(
      torrent(multi_file_info(list{file(10, list{"a", "b"}), file(10, list{"ab"}),
                                   file(10, list{"a!"}), file(10, list{"a", "c"})}))));
}

TEST(Metainfo, PathDepthLimit) {
  list deep;
  for (int i = 0; i < 99; ++i) deep.push_back(value("d"));
  EXPECT_TRUE(parse_metainfo(torrent(multi_file_info(list{file(10, deep)}))));
  deep.push_back(value("d"));
  EXPECT_TRUE(
      mentions(parse_error(torrent(multi_file_info(list{file(10, deep)}))), "deeper than 100"));
}

TEST(Metainfo, PieceConsistency) {
  dict info = single_file_info();
  info["pieces"] = hashes(3);
  EXPECT_TRUE(mentions(parse_error(torrent(info)), "has 3 hashes but the files need 4 pieces"));
  info["pieces"] = std::string(41, 'x');
  EXPECT_TRUE(mentions(parse_error(torrent(info)), "not a multiple of 20"));
  info = single_file_info();
  info["piece length"] = 0;
  EXPECT_TRUE(mentions(parse_error(torrent(info)), "piece length 0 is out of range"));
  info["piece length"] = -16384;
  EXPECT_TRUE(mentions(parse_error(torrent(info)), "out of range"));
}

TEST(Metainfo, PieceCountLimit) {
  metainfo_limits lim;
  lim.max_pieces = 3;
  auto m = parse_metainfo(torrent(single_file_info()), lim);
  ASSERT_FALSE(m);
  EXPECT_TRUE(mentions(m.error(), "more than the limit of 3"));
}

TEST(Metainfo, SizeOverflowAndNegativeLengths) {
  list files{file(INT64_MAX, list{"a"}), file(1, list{"b"})};
  dict info{{"name", "x"}, {"files", files}, {"piece length", 16384}, {"pieces", hashes(1)}};
  EXPECT_TRUE(mentions(parse_error(torrent(info)), "overflows"));
  dict neg = single_file_info();
  neg["length"] = -1;
  EXPECT_TRUE(mentions(parse_error(torrent(neg)), "negative"));
  EXPECT_TRUE(
      mentions(parse_error(torrent(multi_file_info(list{file(-5, list{"a"})}))), "negative"));
}

TEST(Metainfo, StructuralErrors) {
  EXPECT_TRUE(mentions(parse_error("li1ee"), "must be a dictionary"));
  EXPECT_TRUE(mentions(parse_error("d8:announce1:xe"), "missing 'info'"));
  EXPECT_TRUE(mentions(parse_error("d4:infoi1ee"), "'info' is not a dictionary"));
  dict both = single_file_info();
  both["files"] = list{file(1, list{"a"})};
  EXPECT_TRUE(mentions(parse_error(torrent(both)), "both 'length' and 'files'"));
  dict neither = single_file_info();
  neither.erase("length");
  EXPECT_TRUE(mentions(parse_error(torrent(neither)), "neither"));
  dict empty = multi_file_info(list{});
  EXPECT_TRUE(mentions(parse_error(torrent(empty)), "empty list"));
  EXPECT_TRUE(mentions(parse_error(torrent(single_file_info(0))), "no data"));
  failure syntax = parse_error("d4:infod4:name");
  EXPECT_TRUE(mentions(syntax, "unexpected end of input"));
  EXPECT_EQ(syntax.offset, 14u);
}

TEST(Metainfo, TrackersWebSeedsAndPrivate) {
  dict info = single_file_info();
  info["private"] = 1;
  info["source"] = "TRK";
  dict extra{{"announce", "http://a/announce"},
             {"announce-list", list{list{"http://a/announce", "http://b/announce"}, list{},
                                    list{42, "udp://c:80"}, "not-a-tier"}},
             {"url-list", list{"http://ws1/", "", 7, "http://ws2/"}}};
  auto m = parse_metainfo(torrent(info, extra));
  ASSERT_TRUE(m) << m.error().describe();
  EXPECT_TRUE(m->is_private);
  EXPECT_EQ(m->source, "TRK");
  EXPECT_EQ(m->trackers, (std::vector<std::vector<std::string>>{
                             {"http://a/announce", "http://b/announce"}, {"udp://c:80"}}));
  EXPECT_EQ(m->web_seeds, (std::vector<std::string>{"http://ws1/", "http://ws2/"}));

  auto single_ws = parse_metainfo(torrent(single_file_info(), dict{{"url-list", "http://ws/"}}));
  ASSERT_TRUE(single_ws);
  EXPECT_EQ(single_ws->web_seeds, (std::vector<std::string>{"http://ws/"}));
  EXPECT_TRUE(single_ws->trackers.empty());
}

TEST(Metainfo, Utf8VariantsArePreferred) {
  list files{dict{{"length", 10}, {"path", list{"legacy"}}, {"path.utf-8", list{"unicodé"}}}};
  dict info = multi_file_info(files);
  info["name.utf-8"] = "albüm";
  auto m = parse_metainfo(torrent(info));
  ASSERT_TRUE(m) << m.error().describe();
  EXPECT_EQ(m->name, "albüm");
  EXPECT_EQ(m->files[0].joined_path(), "albüm/unicodé");
}

TEST(Metainfo, ParseInfoDictAlone) {
  std::string info = bencode::encode(value(single_file_info()));
  auto m = parse_info_dict(info);
  ASSERT_TRUE(m) << m.error().describe();
  EXPECT_EQ(m->hash.v1->bytes, sha1(info));
}
