#include <gtest/gtest.h>

#include "peerwire/bencode.hpp"
#include "peerwire/ext_metadata.hpp"
#include "peerwire/sha1.hpp"

using namespace peerwire;
using ext::metadata_assembler;
using ext::metadata_msg_type;
using status = metadata_assembler::status;

namespace {

std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

result<ext::metadata_message> parse(std::string_view s,
                                    std::int64_t max = ext::default_max_metadata_size) {
  return ext::parse_metadata_message(bytes_of(s), max);
}

// A well-formed info dictionary of exactly `size` bytes (size >= 20).
std::string info_dict(std::size_t size) {
  // "d4:name" + "<n>:" + payload + "e"
  std::string payload_len;
  std::size_t n = size - 8;
  for (;;) {
    payload_len = std::to_string(n);
    if (7 + payload_len.size() + 1 + n + 1 == size) break;
    --n;
  }
  std::string s = "d4:name" + payload_len + ":";
  for (std::size_t i = 0; i < n; ++i) s.push_back(static_cast<char>('a' + i % 26));
  s += "e";
  return s;
}

sha1_hash hash_of(std::string_view s) {
  return sha1_hash{sha1(s)};
}

std::span<const std::uint8_t> piece_of(const std::string& all, std::uint32_t piece) {
  auto s = std::string_view(all).substr(piece * ext::metadata_piece_size, ext::metadata_piece_size);
  return bytes_of(s);
}

}  // namespace

TEST(UtMetadata, PieceCount) {
  EXPECT_EQ(ext::metadata_piece_count(0), 0u);
  EXPECT_EQ(ext::metadata_piece_count(1), 1u);
  EXPECT_EQ(ext::metadata_piece_count(16384), 1u);
  EXPECT_EQ(ext::metadata_piece_count(16385), 2u);
  EXPECT_EQ(ext::metadata_piece_count(ext::default_max_metadata_size), 4096u);
  EXPECT_EQ(ext::metadata_piece_count(INT64_MAX), UINT32_MAX);    // clamped, no overflow
  EXPECT_TRUE(parse("d8:msg_typei0e5:piecei4096ee", INT64_MAX));  // a huge limit is fine
}

TEST(UtMetadata, RequestAndRejectRoundTrip) {
  EXPECT_EQ(ext::encode_metadata_request(3), "d8:msg_typei0e5:piecei3ee");
  EXPECT_EQ(ext::encode_metadata_reject(0), "d8:msg_typei2e5:piecei0ee");
  auto r = parse(ext::encode_metadata_request(3));
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->type, metadata_msg_type::request);
  EXPECT_EQ(r->piece, 3u);
  EXPECT_TRUE(r->data.empty());
  auto j = parse(ext::encode_metadata_reject(7));
  ASSERT_TRUE(j);
  EXPECT_EQ(j->type, metadata_msg_type::reject);
  EXPECT_EQ(j->piece, 7u);
}

TEST(UtMetadata, DataRoundTripFullAndLastPiece) {
  const std::string all = info_dict(40000);  // pieces of 16384, 16384, 7232
  for (std::uint32_t p = 0; p < 3; ++p) {
    std::string msg = ext::metadata_reply(all, p);
    auto m = parse(msg);
    ASSERT_TRUE(m) << m.error().describe();
    EXPECT_EQ(m->type, metadata_msg_type::data);
    EXPECT_EQ(m->piece, p);
    EXPECT_EQ(m->total_size, 40000);
    auto want = piece_of(all, p);
    ASSERT_EQ(m->data.size(), want.size());
    EXPECT_TRUE(std::equal(want.begin(), want.end(), m->data.begin()));
  }
  // Extra keys are ignored (some clients add them), key order does not matter.
  // (The message outlives the parse: data is a view into it.)
  const std::string extra =
      "d5:piecei0e10:total_sizei3e8:msg_typei1e3:fooi1ee" + std::string("xyz");
  auto m = parse(extra);
  ASSERT_TRUE(m) << m.error().describe();
  EXPECT_EQ(std::string(m->data.begin(), m->data.end()), "xyz");
}

TEST(UtMetadata, ReplyRejectsOutOfRangeOrNoMetadata) {
  const std::string all = info_dict(100);
  EXPECT_EQ(ext::metadata_reply(all, 1), ext::encode_metadata_reject(1));
  EXPECT_EQ(ext::metadata_reply("", 0), ext::encode_metadata_reject(0));
}

TEST(UtMetadata, UnknownMsgTypeIsNotAnError) {
  EXPECT_TRUE(parse("d8:msg_typei3ee"));  // piece is optional for unknown types
  auto m = parse("d8:msg_typei9e5:piecei0eeanything");
  ASSERT_TRUE(m) << m.error().describe();
  EXPECT_EQ(m->type, metadata_msg_type::unknown);
  EXPECT_EQ(m->raw_type, 9);
}

TEST(UtMetadata, Rejections) {
  const char* bad[] = {
      "",                                             // empty
      "le",                                           // not a dict
      "i1e",                                          // not a dict
      "d8:msg_typei0e5:piecei0e",                     // unterminated
      "d5:piecei0ee",                                 // no msg_type
      "d8:msg_type1:05:piecei0ee",                    // msg_type a string
      "d8:msg_typei-1e5:piecei0ee",                   // negative msg_type
      "d8:msg_typei0ee",                              // no piece
      "d8:msg_typei0e5:piecei-1ee",                   // negative piece
      "d8:msg_typei0e5:piece1:0e",                    // piece a string
      "d8:msg_typei0e5:piecei4096ee",                 // beyond 64 MiB worth of pieces
      "d8:msg_typei0e5:piecei0eex",                   // request with trailing bytes
      "d8:msg_typei2e5:piecei0eex",                   // reject with trailing bytes
      "d8:msg_typei1e5:piecei0eex",                   // data without total_size
      "d8:msg_typei1e5:piecei0e10:total_sizei0eex",   // total_size 0
      "d8:msg_typei1e5:piecei0e10:total_sizei-5eex",  // negative total_size
      "d8:msg_typei1e5:piecei0e10:total_size1:1ex",   // total_size a string
      "d8:msg_typei1e5:piecei1e10:total_sizei1eex",   // piece beyond total_size
      "d8:msg_typei1e5:piecei0e10:total_sizei2eex",   // too few bytes
      "d8:msg_typei1e5:piecei0e10:total_sizei1eexy",  // too many bytes
      "d8:msg_typei01e5:piecei0ee",                   // non-canonical integer
      "d8:msg_typei0e8:msg_typei0e5:piecei0ee",       // duplicate key
      "d8:msg_typei0e5:piecei0e3:fooddddddddddddeeeeeeeeeeeeeeeee",  // too deep
  };
  for (const char* s : bad) EXPECT_FALSE(parse(s)) << s;
  EXPECT_FALSE(parse("d8:msg_typei1e5:piecei0e10:total_sizei67108865ee"));
  // A smaller configured limit applies to total_size and request piece indices.
  EXPECT_FALSE(parse("d8:msg_typei1e5:piecei0e10:total_sizei2eexy", 1));
  EXPECT_FALSE(parse("d8:msg_typei0e5:piecei1ee", 16384));
  EXPECT_TRUE(parse("d8:msg_typei0e5:piecei1ee", 16385));
  // A data piece that is not the last must be exactly 16 KiB.
  std::string short_piece = "d8:msg_typei1e5:piecei0e10:total_sizei20000ee" + std::string(100, 'x');
  EXPECT_FALSE(parse(short_piece));
  // An oversized header is refused rather than scanned.
  std::string huge = "d3:foo9000:" + std::string(9000, 'x') + "8:msg_typei0e5:piecei0ee";
  EXPECT_FALSE(parse(huge));
}

TEST(UtMetadataAssembler, CreateBounds) {
  sha1_hash h{};
  EXPECT_FALSE(metadata_assembler::create(h, 0));
  EXPECT_FALSE(metadata_assembler::create(h, -1));
  EXPECT_FALSE(metadata_assembler::create(h, ext::default_max_metadata_size + 1));
  EXPECT_TRUE(metadata_assembler::create(h, ext::default_max_metadata_size));
  EXPECT_FALSE(metadata_assembler::create(h, 5000, 4096));
  auto a = metadata_assembler::create(h, 40000);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->piece_count(), 3u);
  EXPECT_EQ(a->piece_length(0), 16384u);
  EXPECT_EQ(a->piece_length(2), 40000u - 32768u);
  EXPECT_EQ(a->piece_length(3), 0u);
}

TEST(UtMetadataAssembler, SharesWorkAndVerifies) {
  const std::string all = info_dict(40000);
  auto a = metadata_assembler::create(hash_of(all), 40000);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->next_request(1), 0u);
  EXPECT_EQ(a->next_request(2), 1u);
  EXPECT_EQ(a->next_request(2), 2u);
  EXPECT_EQ(a->next_request(3), std::nullopt);  // everything in flight
  EXPECT_EQ(a->pieces_in_flight(), 3u);

  a->release(1);  // peer 2 rejected piece 1
  EXPECT_EQ(a->next_request(3), 1u);
  a->release_peer(2);  // peer 2 left with piece 2 outstanding
  EXPECT_EQ(a->next_request(1), 2u);

  auto r0 = a->add_piece(0, piece_of(all, 0), 1);
  ASSERT_TRUE(r0);
  EXPECT_EQ(r0->state, status::accepted);
  auto dup = a->add_piece(0, piece_of(all, 0), 3);
  ASSERT_TRUE(dup);
  EXPECT_EQ(dup->state, status::duplicate);
  // Wrong sizes and ranges are the sender's error and change nothing.
  EXPECT_FALSE(a->add_piece(1, piece_of(all, 2), 3));
  EXPECT_FALSE(a->add_piece(3, piece_of(all, 2), 3));
  EXPECT_EQ(a->pieces_received(), 1u);

  // Through a parsed message, as the session will do it.
  std::string msg = ext::metadata_reply(all, 2);
  auto m = ext::parse_metadata_message(bytes_of(msg));
  ASSERT_TRUE(m);
  auto r2 = a->add_piece(*m, 1);
  ASSERT_TRUE(r2) << r2.error().describe();
  EXPECT_EQ(r2->state, status::accepted);
  EXPECT_EQ(a->next_request(4), std::nullopt);

  auto r1 = a->add_piece(1, piece_of(all, 1), 3);
  ASSERT_TRUE(r1);
  ASSERT_EQ(r1->state, status::complete);
  EXPECT_EQ(r1->metadata, all);
}

TEST(UtMetadataAssembler, MessageMustMatchAnnouncedSize) {
  const std::string all = info_dict(100);
  auto a = metadata_assembler::create(hash_of(all), 100);
  ASSERT_TRUE(a);
  std::string other = ext::encode_metadata_data(0, 99, piece_of(all, 0).first(99));
  auto m = ext::parse_metadata_message(bytes_of(other));
  ASSERT_TRUE(m);
  EXPECT_FALSE(a->add_piece(*m, 1));
  auto req = ext::parse_metadata_message(bytes_of(ext::encode_metadata_request(0)));
  ASSERT_TRUE(req);
  EXPECT_FALSE(a->add_piece(*req, 1));
}

TEST(UtMetadataAssembler, HashMismatchBlamesEveryContributorAndResets) {
  const std::string all = info_dict(40000);
  std::string corrupt = all;
  corrupt[20000] ^= 1;
  auto a = metadata_assembler::create(hash_of(all), 40000);
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->add_piece(0, piece_of(all, 0), 7));
  ASSERT_TRUE(a->add_piece(1, piece_of(corrupt, 1), 5));
  auto r = a->add_piece(2, piece_of(all, 2), 7);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->state, status::hash_mismatch);
  EXPECT_EQ(r->contributors, (std::vector<ext::metadata_peer_key>{5, 7}));
  EXPECT_EQ(a->pieces_received(), 0u);
  EXPECT_EQ(a->pieces_in_flight(), 0u);

  // Start over with good peers.
  for (std::uint32_t p = 0; p < 3; ++p) {
    EXPECT_EQ(a->next_request(9), p);
    auto again = a->add_piece(p, piece_of(all, p), 9);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->state, p < 2 ? status::accepted : status::complete);
  }
}

TEST(UtMetadataAssembler, MatchingHashButNotADictionary) {
  const std::string junk = "l4:spame";
  auto a = metadata_assembler::create(hash_of(junk), junk.size());
  ASSERT_TRUE(a);
  auto r = a->add_piece(0, bytes_of(junk), 1);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->state, status::invalid_metadata);
  const std::string garbage = "not bencode";
  auto b = metadata_assembler::create(hash_of(garbage), garbage.size());
  ASSERT_TRUE(b);
  auto g = b->add_piece(0, bytes_of(garbage), 1);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->state, status::invalid_metadata);
  EXPECT_FALSE(g->reason.empty());
}
