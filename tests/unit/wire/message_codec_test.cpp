// Every message both ways: known byte vectors, encode → decode, split and coalesced input.
#include <gtest/gtest.h>

#include "peerwire/wire.hpp"
#include "wire_test_util.hpp"

using namespace peerwire::wire;
using namespace wire_test;

namespace {

// 3 pieces of 32 KiB and a last one of 1000 bytes; everything negotiated.
decoder_config full_config() {
  auto cfg = decoder_config::for_torrent(32 * 1024, 3 * 32 * 1024 + 1000);
  cfg.fast_enabled = true;
  cfg.extensions_enabled = true;
  return cfg;
}

const bytes block_data = b({0xde, 0xad, 0xbe, 0xef});
const bytes bitfield_bits = b({0xa0});  // pieces 0 and 2 of 4
const bytes ext_payload = text("d1:md11:ut_metadatai3eee");
const bytes unknown_payload = b({1, 2, 3});

struct vector_case {
  message m;
  bytes wire;
};

std::vector<vector_case> known_vectors() {
  return {
      {keep_alive{}, b({0, 0, 0, 0})},
      {choke{}, b({0, 0, 0, 1, 0})},
      {unchoke{}, b({0, 0, 0, 1, 1})},
      {interested{}, b({0, 0, 0, 1, 2})},
      {not_interested{}, b({0, 0, 0, 1, 3})},
      {have{3}, b({0, 0, 0, 5, 4, 0, 0, 0, 3})},
      {bitfield{bitfield_bits}, b({0, 0, 0, 2, 5, 0xa0})},
      {request{1, 0x4000, 0x4000}, b({0, 0, 0, 13, 6, 0, 0, 0, 1, 0, 0, 0x40, 0, 0, 0, 0x40, 0})},
      {piece{3, 996, block_data},
       b({0, 0, 0, 13, 7, 0, 0, 0, 3, 0, 0, 0x03, 0xe4, 0xde, 0xad, 0xbe, 0xef})},
      {cancel{2, 0, 1}, b({0, 0, 0, 13, 8, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1})},
      {port{6881}, b({0, 0, 0, 3, 9, 0x1a, 0xe1})},
      {suggest_piece{1}, b({0, 0, 0, 5, 13, 0, 0, 0, 1})},
      {have_all{}, b({0, 0, 0, 1, 14})},
      {have_none{}, b({0, 0, 0, 1, 15})},
      {reject_request{0, 16384, 16384},
       b({0, 0, 0, 13, 16, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0, 0x40, 0})},
      {allowed_fast{2}, b({0, 0, 0, 5, 17, 0, 0, 0, 2})},
      {extended{0, ext_payload}, cat(b({0, 0, 0, 26, 20, 0}), ext_payload)},
      {unknown_message{42, unknown_payload}, b({0, 0, 0, 4, 42, 1, 2, 3})},
  };
}

}  // namespace

TEST(MessageCodec, EncodesKnownVectors) {
  for (const auto& c : known_vectors()) EXPECT_EQ(encoded(c.m), c.wire) << describe(c.m);
}

TEST(MessageCodec, DecodesKnownVectors) {
  for (const auto& c : known_vectors()) {
    message_decoder dec(full_config());
    dec.feed(c.wire);
    auto r = dec.next();
    ASSERT_TRUE(std::holds_alternative<message>(r)) << describe(c.m);
    EXPECT_EQ(std::get<message>(r), c.m) << describe(c.m);
    EXPECT_TRUE(std::holds_alternative<need_more>(dec.next()));
    EXPECT_EQ(dec.consumed(), c.wire.size());
  }
}

TEST(MessageCodec, EveryMessageAlternativeHasAVector) {
  std::vector<bool> seen(std::variant_size_v<message>);
  for (const auto& c : known_vectors()) seen[c.m.index()] = true;
  for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_TRUE(seen[i]) << "alternative " << i;
}

TEST(MessageCodec, PieceHeaderMatchesFullPieceMessage) {
  bytes header;
  encode_piece_header(3, 996, 4, header);
  EXPECT_EQ(cat(header, block_data), encoded(piece{3, 996, block_data}));
  auto fixed = piece_header(3, 996, 4);
  EXPECT_EQ(bytes(fixed.begin(), fixed.end()), header);
  // Every byte of every field lands where the vector encoder puts it.
  bytes big;
  encode_piece_header(0x01020304, 0x05060708, 0x0a0b0c0d, big);
  auto fixed_big = piece_header(0x01020304, 0x05060708, 0x0a0b0c0d);
  EXPECT_EQ(bytes(fixed_big.begin(), fixed_big.end()), big);
}

// The whole stream, fed in every chunk size from 1 byte to all at once, gives the same
// messages; the buffer stays within its bound whenever the decoder asks for more.
TEST(MessageCodec, SplitAndCoalescedInputGiveTheSameMessages) {
  bytes stream;
  std::vector<std::string> expected;
  for (const auto& c : known_vectors()) {
    stream = cat(stream, c.wire);
    expected.push_back(describe(c.m, 4));
  }
  for (std::size_t chunk : {0, 1, 2, 3, 5, 7, 13, 64}) {
    decode_error err{};
    EXPECT_EQ(decode_described(stream, full_config(), chunk, &err), expected) << chunk;
    EXPECT_TRUE(err.reason.empty()) << err.reason;
  }
}

// prepare/commit (a socket reading straight into the decoder) gives what feed() gives, also
// when less arrives than was prepared and when the room is larger than the rest.
TEST(MessageCodec, PrepareCommitMatchesFeed) {
  bytes stream;
  std::vector<std::string> expected;
  for (const auto& c : known_vectors()) {
    stream = cat(stream, c.wire);
    expected.push_back(describe(c.m, 4));
  }
  for (std::size_t room : {1, 3, 7, 64, 100000}) {
    for (std::size_t arrive : {1, 2, 5, 64}) {
      message_decoder dec(full_config());
      std::vector<std::string> got;
      std::size_t pos = 0;
      while (pos < stream.size()) {
        auto span = dec.prepare(room);
        ASSERT_EQ(span.size(), room);
        std::size_t n = std::min({room, arrive, stream.size() - pos});
        std::copy_n(stream.begin() + static_cast<std::ptrdiff_t>(pos), n, span.begin());
        dec.commit(n);
        pos += n;
        for (;;) {
          auto r = dec.next();
          if (auto* m = std::get_if<message>(&r)) {
            got.push_back(describe(*m, 4));
            continue;
          }
          ASSERT_FALSE(std::holds_alternative<decode_error>(r));
          EXPECT_LE(dec.buffered(), dec.buffer_bound());
          break;
        }
      }
      EXPECT_EQ(got, expected) << room << " " << arrive;
      EXPECT_EQ(dec.buffered(), 0u);
    }
  }
}

TEST(MessageCodec, ViewsPointIntoTheDecoderBuffer) {
  message_decoder dec(full_config());
  bytes wire = encoded(piece{0, 0, block_data});
  dec.feed(wire);
  wire.assign(wire.size(), 0);  // the caller's buffer may be reused right after feed()
  auto r = dec.next();
  EXPECT_EQ(std::get<piece>(std::get<message>(r)).data.size(), 4u);
  EXPECT_TRUE(equal_bytes(std::get<piece>(std::get<message>(r)).data, block_data));
}

TEST(MessageCodec, MaximalMessagesRoundTrip) {
  auto cfg = decoder_config::for_torrent(256 * 1024, 1000 * 256 * 1024);
  cfg.max_request_length = max_block_length_cap;
  cfg.extensions_enabled = true;
  cfg.max_extended_length = 5000;
  const bytes block(max_block_length_cap, 0x5a);
  const bytes bits(125, 0xff);
  const bytes ext(5000, 'x');
  for (const message& m :
       {message{piece{999, 128 * 1024, block}}, message{bitfield{bits}}, message{extended{7, ext}},
        message{request{999, 128 * 1024, 128 * 1024}}}) {
    message_decoder dec(cfg);
    dec.feed(encoded(m));
    auto r = dec.next();
    ASSERT_TRUE(std::holds_alternative<message>(r)) << std::get<decode_error>(r).reason;
    EXPECT_EQ(std::get<message>(r), m);
  }
}

TEST(MessageCodec, UnknownTorrentSizeSkipsIndexChecks) {
  decoder_config cfg;  // magnet download before the metadata arrived
  const bytes bits(1000, 0xff);
  bytes stream = cat(encoded(bitfield{bits}), encoded(have{123456}));
  stream = cat(stream, encoded(request{99999, 1 << 30, 16384}));
  EXPECT_EQ(decode_described(stream, cfg),
            (std::vector<std::string>{"bitfield 1000 bytes, 8000 set", "have #123456",
                                      "request #99999 off 1073741824 len 16384"}));
}

TEST(MessageCodec, ConfigureAppliesNewLimits) {
  message_decoder dec;
  dec.feed(encoded(have{5}));
  EXPECT_EQ(std::get<message>(dec.next()), message{have{5}});
  dec.configure(decoder_config::for_torrent(16384, 4 * 16384));
  EXPECT_EQ(dec.config().piece_count, 4u);
  dec.feed(encoded(have{5}));
  EXPECT_EQ(std::get<decode_error>(dec.next()).code, wire_error::index_out_of_range);
}

TEST(MessageCodec, InconsistentConfigIsAProgrammerError) {
  auto cfg = decoder_config::for_torrent(16384, 4 * 16384);
  cfg.piece_count = 5;
  EXPECT_THROW(message_decoder{cfg}, std::invalid_argument);
}

TEST(MessageCodec, DescribesEachMessageInOneLine) {
  EXPECT_EQ(describe(piece{412, 16384, bytes(16384)}), "piece #412 off 16384 len 16384");
  EXPECT_EQ(describe(request{3, 0, 16384}), "request #3 off 0 len 16384");
  EXPECT_EQ(describe(cancel{3, 0, 16384}), "cancel #3 off 0 len 16384");
  EXPECT_EQ(describe(reject_request{3, 0, 16384}), "reject request #3 off 0 len 16384");
  bytes bits(250, 0);
  std::fill(bits.begin(), bits.begin() + 154, 0xff);
  bits[154] = 0xfc;  // 154 * 8 + 6 = 1238
  EXPECT_EQ(describe(bitfield{bits}, 2000), "bitfield 1238/2000 pieces");
  EXPECT_EQ(describe(bitfield{bits}), "bitfield 250 bytes, 1238 set");
  EXPECT_EQ(describe(have{7}), "have #7");
  EXPECT_EQ(describe(extended{0, bytes(187)}), "extended id 0 (handshake) 187 bytes");
  EXPECT_EQ(describe(extended{3, bytes(10)}), "extended id 3 10 bytes");
  EXPECT_EQ(describe(unknown_message{42, bytes(3)}), "unknown id 42, 3 bytes");
  EXPECT_EQ(describe(keep_alive{}), "keep-alive");
  EXPECT_EQ(describe(not_interested{}), "not interested");
  EXPECT_EQ(describe(port{6881}), "port 6881");
  EXPECT_EQ(describe(suggest_piece{9}), "suggest piece #9");
  EXPECT_EQ(describe(allowed_fast{9}), "allowed fast #9");
  EXPECT_EQ(describe(have_all{}), "have all");
  EXPECT_EQ(describe(have_none{}), "have none");
}

TEST(Bitfield, CountsAndCompletion) {
  const bytes bits = b({0xff, 0x80, 0x07});  // 8 + 1 + 3 set; 3 of them past piece 20
  EXPECT_EQ(count_pieces(bits), 12u);
  EXPECT_EQ(count_pieces(bits, 24), 12u);
  EXPECT_EQ(count_pieces(bits, 20), 9u);  // spare bits ignored
  EXPECT_EQ(count_pieces(bits, 9), 9u);
  EXPECT_EQ(count_pieces(bits, 8), 8u);
  EXPECT_DOUBLE_EQ(completion_percent(bits, 20), 45.0);
  EXPECT_DOUBLE_EQ(completion_percent(b({0xff}), 8), 100.0);
  EXPECT_DOUBLE_EQ(completion_percent(bits, 0), 0.0);
  EXPECT_TRUE(has_piece(bits, 0));
  EXPECT_TRUE(has_piece(bits, 8));
  EXPECT_FALSE(has_piece(bits, 9));
  EXPECT_TRUE(has_piece(bits, 23));
  EXPECT_FALSE(has_piece(bits, 24));
}

TEST(Bitfield, LimitCoversTheLargestLegalMessage) {
  decoder_config cfg;
  EXPECT_EQ(max_message_length(cfg), 9u + 16384u);
  cfg.extensions_enabled = true;
  EXPECT_EQ(max_message_length(cfg), 2u + 1024u * 1024u);
  cfg = decoder_config::for_torrent(16384, std::uint64_t{16384} * 1'000'000);
  EXPECT_EQ(max_message_length(cfg), 1u + 125'000u);
  EXPECT_EQ(piece_size(cfg, 0), 16384u);
  cfg = decoder_config::for_torrent(16384, 16384 * 2 + 5);
  EXPECT_EQ(piece_size(cfg, 2), 5u);
  EXPECT_EQ(piece_size(cfg, 3), 0u);
}
