#include <gtest/gtest.h>

#include <random>

#include "peerwire/bencode_value.hpp"
#include "peerwire/resume.hpp"
#include "unit/storage/storage_fixture.hpp"

using namespace peerwire;
using namespace peerwire::storage;
using namespace storage_test;

namespace {

constexpr std::int64_t piece = 16 * 1024;

// Piece layout: a=[0, 20000) → pieces 0-1; b=[20000, 20000+2*piece) → pieces 1-3;
// pad; c starts on piece 4 → pieces 4-5; empty file at the end.
sample three_files() {
  return make_sample({{"a", 20000},
                      {"b", 2 * piece},
                      {".pad/x", 4 * piece - 20000 - 2 * piece, true},
                      {"c", piece + 100},
                      {"e", 0}},
                     piece);
}

resume_data resume_for(const sample& s) {
  resume_data r;
  r.info_hash = *s.m.hash.v1;
  r.have.assign(s.m.piece_count(), false);
  r.have[0] = r.have[3] = r.have[5] = true;
  r.files = {{20000, 111}, {2 * piece, 222}, {0, 0}, {piece + 100, -5}, {0, 1}};
  r.uploaded = 12345;
  r.downloaded = 1ll << 40;
  return r;
}

}  // namespace

TEST(Resume, EncodeDecodeRoundTrip) {
  auto s = three_files();
  auto r = resume_for(s);
  std::string bytes = encode_resume(r);
  auto back = decode_resume(bytes, s.m);
  ASSERT_TRUE(back) << back.error().describe();
  EXPECT_EQ(*back, r);
  // Canonical: encoding is stable.
  EXPECT_EQ(encode_resume(*back), bytes);
  EXPECT_NE(bytes.find("7:version"), std::string::npos);
}

TEST(Resume, DecodeRejectsGarbageAndEveryTruncation) {
  auto s = three_files();
  std::string bytes = encode_resume(resume_for(s));
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(decode_resume(bytes.substr(0, n), s.m)) << n;
  }
  for (std::string junk : {"", "garbage", "i42e", "le", "de", "d6:format15:peerwire resumee"}) {
    EXPECT_FALSE(decode_resume(junk, s.m)) << junk;
  }
  // Random byte flips never crash; most are rejected and none yield a wrong-size answer.
  std::mt19937 rng(3);
  for (int i = 0; i < 3000; ++i) {
    std::string m = bytes;
    for (int k = 0; k < 3; ++k) m[rng() % m.size()] = static_cast<char>(rng());
    auto r = decode_resume(m, s.m);
    if (r) {
      EXPECT_EQ(r->have.size(), s.m.piece_count());
      EXPECT_EQ(r->files.size(), s.m.files.size());
    }
  }
}

TEST(Resume, DecodeRejectsDataOfAnotherShape) {
  auto s = three_files();
  auto good = resume_for(s);
  auto expect_bad = [&](resume_data r, const char* what) {
    auto d = decode_resume(encode_resume(r), s.m);
    ASSERT_FALSE(d) << what;
    EXPECT_NE(d.error().message.find("invalid resume data"), std::string::npos);
  };
  auto r = good;
  r.info_hash.bytes[0] ^= 1;
  expect_bad(r, "other info-hash");
  r = good;
  r.have.resize(r.have.size() + 8);
  expect_bad(r, "more pieces");
  r = good;
  r.have.push_back(true);  // same byte count, a bit past the end set
  expect_bad(r, "spare bit");
  r = good;
  r.files.pop_back();
  expect_bad(r, "fewer files");
  r = good;
  r.files[0].size = -2;
  expect_bad(r, "negative size");
  r = good;
  r.uploaded = -1;
  expect_bad(r, "negative counter");

  // Another torrent entirely.
  auto other = make_sample({{"x", 100}}, piece, false, 9);
  EXPECT_FALSE(decode_resume(encode_resume(good), other.m));

  // Unknown version.
  bencode::dict d;
  d["format"] = "peerwire resume";
  d["version"] = 2;
  auto v2 = decode_resume(bencode::encode(bencode::value(std::move(d))), s.m);
  ASSERT_FALSE(v2);
  EXPECT_NE(v2.error().message.find("version 2"), std::string::npos) << v2.error().message;
}

TEST(Resume, SavedAtomically) {
  temp_dir t;
  auto s = three_files();
  auto r = resume_for(s);
  fs::path file = t.path() / ".peerwire" / (s.m.hash.v1->hex() + ".resume");
  ASSERT_TRUE(save_resume_atomically(file, r));
  EXPECT_FALSE(fs::exists(file.string() + ".tmp"));
  EXPECT_EQ(read_all(file), encode_resume(r));
  // Overwriting replaces the content whole.
  r.have.assign(r.have.size(), true);
  ASSERT_TRUE(save_resume_atomically(file, r));
  auto loaded = load_resume(file, s.m);
  ASSERT_TRUE(loaded) << loaded.error().describe();
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ(**loaded, r);
  EXPECT_EQ(std::distance(fs::directory_iterator(file.parent_path()), fs::directory_iterator()), 1);
}

TEST(Resume, LoadDistinguishesAbsentFromBroken) {
  temp_dir t;
  auto s = three_files();
  auto none = load_resume(t.path() / "nothing.resume", s.m);
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
  std::ofstream(t.path() / "broken.resume") << "d6:formate";
  auto broken = load_resume(t.path() / "broken.resume", s.m);
  ASSERT_FALSE(broken);
  EXPECT_NE(broken.error().message.find("broken.resume"), std::string::npos);
  // A huge file is refused without reading it all.
  fs::resize_file(t.path() / "broken.resume", 1 << 30);
  EXPECT_FALSE(load_resume(t.path() / "broken.resume", s.m));
}

TEST(Resume, SaveRefusesASymlinkedTempFile) {
  temp_dir t, outside;
  auto s = three_files();
  std::ofstream(outside.path() / "victim") << "precious";
  fs::create_symlink(outside.path() / "victim", t.path() / "x.resume.tmp");
  auto r = save_resume_atomically(t.path() / "x.resume", resume_for(s));
  EXPECT_FALSE(r);
  EXPECT_EQ(read_all(outside.path() / "victim"), "precious");
}

TEST(Resume, RecheckOnlyPiecesOfChangedFiles) {
  auto s = three_files();
  auto r = resume_for(s);
  auto now = r.files;
  EXPECT_TRUE(pieces_to_recheck(s.m, r, now).empty());

  now[0].mtime_ns += 1;  // a touched: pieces 0-1, had or not
  EXPECT_EQ(pieces_to_recheck(s.m, r, now), (std::vector<std::uint32_t>{0, 1}));

  now = r.files;
  now[1].size = 5;  // b truncated: pieces 1-3
  EXPECT_EQ(pieces_to_recheck(s.m, r, now), (std::vector<std::uint32_t>{1, 2, 3}));

  now = r.files;
  now[3] = {-1, 0};  // c deleted: only had pieces (5) need a look; 4 cannot be on disk
  EXPECT_EQ(pieces_to_recheck(s.m, r, now), (std::vector<std::uint32_t>{5}));

  now = r.files;
  now[2] = {7, 7};  // padding and empty files never matter
  now[4] = {-1, 0};
  EXPECT_TRUE(pieces_to_recheck(s.m, r, now).empty());

  // A recorded size that is not the torrent's is a change even if unchanged since.
  auto odd = r;
  odd.files[0].size = now[0].size = 19999;
  now = odd.files;
  EXPECT_EQ(pieces_to_recheck(s.m, odd, now), (std::vector<std::uint32_t>{0, 1}));

  // Stamps of the wrong length: everything.
  EXPECT_EQ(pieces_to_recheck(s.m, r, {}).size(), s.m.piece_count());
}

// Saved without a data sync: the record names its boot, survives the round trip, and is
// trusted only in that boot.
TEST(Resume, UnsyncedRecordIsBoundToItsBoot) {
  auto s = three_files();
  auto r = resume_for(s);
  EXPECT_TRUE(claims_trusted(r));  // flushed: always
  r.unsynced_boot = "0b7d2f7e-5a4b-4c59-9a43-6f1c2a0d9e11";
  std::string bytes = encode_resume(r);
  EXPECT_NE(bytes.find("13:unsynced boot"), std::string::npos);
  auto back = decode_resume(bytes, s.m);
  ASSERT_TRUE(back) << back.error().describe();
  EXPECT_EQ(back->unsynced_boot, r.unsynced_boot);
  EXPECT_FALSE(claims_trusted(*back));  // another boot (a restart since): checked again
  auto now = boot_id();
  ASSERT_TRUE(now.has_value()) << "no /proc/sys/kernel/random/boot_id";
  EXPECT_EQ(now->size(), 36u);
  r.unsynced_boot = *now;
  EXPECT_TRUE(claims_trusted(r));  // this boot: the page cache still has the data
}

TEST(Resume, UnsyncedBootMustBeAShortString) {
  auto s = three_files();
  auto text = [&](const std::string& value) {
    std::string bytes = encode_resume(resume_for(s));
    // The key sorts after "pieces" and before "uploaded".
    auto at = bytes.find("8:uploaded");
    return bytes.substr(0, at) + "13:unsynced boot" + value + bytes.substr(at);
  };
  EXPECT_TRUE(decode_resume(text("4:boot"), s.m));
  EXPECT_FALSE(decode_resume(text("0:"), s.m));
  EXPECT_FALSE(decode_resume(text("i7e"), s.m));
  EXPECT_FALSE(decode_resume(text("65:" + std::string(65, 'x')), s.m));
}
