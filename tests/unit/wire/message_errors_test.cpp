// Every protocol error the message decoder reports, with its reason, and that length
// problems are caught before the body is buffered.
#include <gtest/gtest.h>

#include "peerwire/wire.hpp"
#include "wire_test_util.hpp"

using namespace peerwire::wire;
using namespace wire_test;

namespace {

// 10 pieces of 32 KiB, the last one 1000 bytes.
decoder_config torrent(bool fast = true, bool ext = true) {
  auto cfg = decoder_config::for_torrent(32 * 1024, 9 * 32 * 1024 + 1000);
  cfg.fast_enabled = fast;
  cfg.extensions_enabled = ext;
  return cfg;
}

bytes u32(std::uint32_t v) {
  return b({int(v >> 24), int(v >> 16 & 0xff), int(v >> 8 & 0xff), int(v & 0xff)});
}

// Decodes `input` whole and byte by byte; both must fail with `code` and a reason containing
// `fragment`.
void expect_error(const bytes& input, const decoder_config& cfg, wire_error code,
                  const std::string& fragment) {
  for (std::size_t chunk : {0, 1}) {
    decode_error err{};
    decode_described(input, cfg, chunk, &err);
    EXPECT_EQ(err.code, code) << "chunk " << chunk << ": " << err.reason;
    EXPECT_NE(err.reason.find(fragment), std::string::npos)
        << "reason: " << err.reason << "\nmissing: " << fragment;
  }
}

}  // namespace

TEST(MessageErrors, LengthAboveTheLimitIsRejectedFromThePrefixAlone) {
  const auto cfg = torrent();
  const std::uint32_t limit = max_message_length(cfg);
  message_decoder dec(cfg);
  dec.feed(u32(limit + 1));  // no body at all
  auto r = dec.next();
  ASSERT_TRUE(std::holds_alternative<decode_error>(r));
  EXPECT_EQ(std::get<decode_error>(r).code, wire_error::message_too_long);
  EXPECT_NE(std::get<decode_error>(r).reason.find("above the limit of " + std::to_string(limit)),
            std::string::npos);
  expect_error(u32(0xffffffff), cfg, wire_error::message_too_long, "4294967295");
}

TEST(MessageErrors, ErrorIsStickyAndCarriesTheStreamOffset) {
  message_decoder dec(torrent());
  const bytes stream = cat(encoded(unchoke{}), encoded(have{99}));
  dec.feed(stream);
  EXPECT_TRUE(std::holds_alternative<message>(dec.next()));
  auto r = dec.next();
  ASSERT_TRUE(std::holds_alternative<decode_error>(r));
  EXPECT_EQ(std::get<decode_error>(r).offset, 5u);
  dec.feed(encoded(choke{}));
  EXPECT_EQ(std::get<decode_error>(dec.next()).code, wire_error::index_out_of_range);
  EXPECT_EQ(dec.buffered(), 0u);
}

TEST(MessageErrors, WrongPayloadSizeOfFixedSizeMessagesBeforeTheBody) {
  const auto cfg = torrent();
  struct c {
    int id;
    std::uint32_t length;
    const char* fragment;
  };
  for (auto [id, length, fragment] :
       {c{0, 2, "choke message with length 2, expected 1"},
        c{1, 5, "unchoke message with length 5"}, c{2, 13, "interested message"},
        c{3, 3, "not interested message"}, c{4, 4, "have message with length 4, expected 5"},
        c{6, 12, "request message with length 12, expected 13"},
        c{8, 14, "cancel message with length 14"},
        c{9, 5, "port message with length 5, expected 3"}, c{13, 9, "suggest piece message"},
        c{14, 2, "have all message"}, c{15, 2, "have none message"},
        c{16, 1, "reject request message with length 1"}, c{17, 6, "allowed fast message"},
        c{7, 8, "piece message with length 8, at least 9"},
        c{20, 1, "extended message without its extended id"}}) {
    // Only the prefix and id: the error must not wait for the body.
    const bytes head = cat(u32(length), b({id}));
    message_decoder dec(cfg);
    dec.feed(head);
    auto r = dec.next();
    ASSERT_TRUE(std::holds_alternative<decode_error>(r)) << fragment;
    EXPECT_EQ(std::get<decode_error>(r).code, wire_error::wrong_payload_size) << fragment;
    EXPECT_NE(std::get<decode_error>(r).reason.find(fragment), std::string::npos)
        << std::get<decode_error>(r).reason;
  }
}

TEST(MessageErrors, BitfieldOfTheWrongSize) {
  expect_error(encoded(bitfield{bytes(3, 0)}), torrent(), wire_error::bad_bitfield_size,
               "bitfield of 3 bytes, expected 2 for 10 pieces");
  expect_error(encoded(bitfield{bytes(1, 0)}), torrent(), wire_error::bad_bitfield_size,
               "bitfield of 1 bytes");
  // Before the body arrives.
  message_decoder dec(torrent());
  dec.feed(b({0, 0, 0, 100, 5}));
  EXPECT_EQ(std::get<decode_error>(dec.next()).code, wire_error::bad_bitfield_size);
}

TEST(MessageErrors, BitfieldWithSpareBitsSet) {
  expect_error(encoded(bitfield{b({0xff, 0xc1})}), torrent(), wire_error::bitfield_spare_bits,
               "bits set past the last of 10 pieces");
  // The last legal bits are fine.
  EXPECT_EQ(decode_described(encoded(bitfield{b({0xff, 0xc0})}), torrent()),
            std::vector<std::string>{"bitfield 10/10 pieces"});
}

TEST(MessageErrors, IndexesOutOfRange) {
  const auto cfg = torrent();
  expect_error(encoded(have{10}), cfg, wire_error::index_out_of_range,
               "have #10: piece index out of range (10 pieces)");
  expect_error(encoded(request{10, 0, 16384}), cfg, wire_error::index_out_of_range, "request #10");
  expect_error(encoded(cancel{0xffffffff, 0, 1}), cfg, wire_error::index_out_of_range,
               "cancel #4294967295");
  expect_error(encoded(suggest_piece{11}), cfg, wire_error::index_out_of_range,
               "suggest piece #11");
  expect_error(encoded(allowed_fast{10}), cfg, wire_error::index_out_of_range, "allowed fast #10");
  expect_error(encoded(reject_request{10, 0, 1}), cfg, wire_error::index_out_of_range,
               "reject request #10");
  expect_error(encoded(piece{10, 0, bytes(4)}), cfg, wire_error::index_out_of_range, "piece #10");
}

TEST(MessageErrors, BlockLengthZeroOrTooLong) {
  const auto cfg = torrent();
  expect_error(encoded(request{0, 0, 0}), cfg, wire_error::bad_block_length,
               "request #0 off 0 len 0: block length must be 1 to 16384");
  expect_error(encoded(request{0, 0, 16385}), cfg, wire_error::bad_block_length, "len 16385");
  expect_error(encoded(cancel{0, 0, 0}), cfg, wire_error::bad_block_length, "cancel #0");
  expect_error(encoded(reject_request{0, 0, 32768}), cfg, wire_error::bad_block_length,
               "reject request #0 off 0 len 32768");
  expect_error(encoded(piece{0, 0, {}}), cfg, wire_error::bad_block_length,
               "piece message with a block of 0 bytes");

  // Raised to 32 KiB, the same request is fine; the cap is 128 KiB.
  auto big = cfg;
  big.max_request_length = 32 * 1024;
  EXPECT_EQ(decode_described(encoded(request{0, 0, 32768}), big).size(), 1u);
  big.max_request_length = 1024 * 1024;
  EXPECT_EQ(message_decoder(big).config().max_request_length, max_block_length_cap);
}

TEST(MessageErrors, OversizedPieceIsRejectedBeforeTheBody) {
  // A piece message for a 16 KiB+1 block is within the overall limit when extensions raise
  // it to 1 MiB, but still more than any block we ask for.
  message_decoder dec(torrent());
  dec.feed(cat(u32(9 + 16385), b({7})));
  auto r = dec.next();
  ASSERT_TRUE(std::holds_alternative<decode_error>(r));
  EXPECT_EQ(std::get<decode_error>(r).code, wire_error::bad_block_length);
  EXPECT_NE(std::get<decode_error>(r).reason.find("block of 16385 bytes (allowed: 1 to 16384)"),
            std::string::npos);
}

TEST(MessageErrors, BlockBeyondThePiece) {
  const auto cfg = torrent();
  expect_error(encoded(request{0, 32768 - 16383, 16384}), cfg, wire_error::block_out_of_range,
               "request #0 off 16385 len 16384: block ends past the piece's 32768 bytes");
  expect_error(encoded(request{9, 0, 1001}), cfg, wire_error::block_out_of_range,
               "piece's 1000 bytes");
  expect_error(encoded(cancel{9, 1000, 1}), cfg, wire_error::block_out_of_range, "cancel #9");
  expect_error(encoded(reject_request{9, 999, 2}), cfg, wire_error::block_out_of_range,
               "reject request #9");
  expect_error(encoded(piece{9, 998, bytes(3)}), cfg, wire_error::block_out_of_range,
               "piece #9 off 998 len 3");
  // An offset near 2^32 must not wrap around.
  expect_error(encoded(request{0, 0xffffffff, 1}), cfg, wire_error::block_out_of_range,
               "off 4294967295");
  // The last block of the short last piece is fine.
  EXPECT_EQ(decode_described(encoded(request{9, 0, 1000}), cfg).size(), 1u);
}

TEST(MessageErrors, FastMessagesWithoutTheFastExtension) {
  const auto cfg = torrent(false, true);
  for (const message& m : {message{suggest_piece{1}}, message{have_all{}}, message{have_none{}},
                           message{reject_request{0, 0, 16384}}, message{allowed_fast{1}}}) {
    expect_error(encoded(m), cfg, wire_error::fast_not_negotiated,
                 std::string(message_name(m)) + " message");
    expect_error(encoded(m), cfg, wire_error::fast_not_negotiated, "(BEP 6) was not negotiated");
  }
}

TEST(MessageErrors, ExtendedMessagesWithoutTheExtensionProtocol) {
  const auto cfg = torrent(true, false);
  expect_error(encoded(extended{0, text("de")}), cfg, wire_error::extensions_not_negotiated,
               "extension protocol (BEP 10) was not negotiated");
}

TEST(MessageErrors, ExtendedPayloadAboveItsCap) {
  auto cfg = torrent();
  cfg.max_extended_length = 100;
  expect_error(encoded(extended{1, bytes(101)}), cfg, wire_error::extended_too_long,
               "payload of 101 bytes is above the limit of 100");
  EXPECT_EQ(decode_described(encoded(extended{1, bytes(100)}), cfg).size(), 1u);
}

TEST(MessageErrors, UnknownIdsAreReturnedButStillBounded) {
  const auto cfg = torrent(false, false);
  EXPECT_EQ(decode_described(encoded(unknown_message{99, bytes(10)}), cfg),
            std::vector<std::string>{"unknown id 99, 10 bytes"});
  const std::uint32_t limit = max_message_length(cfg);
  expect_error(cat(u32(limit + 1), b({99})), cfg, wire_error::message_too_long, "above the limit");
}

TEST(MessageErrors, EveryErrorCodeHasADescription) {
  for (int e = 0; e <= static_cast<int>(wire_error::extended_too_long); ++e)
    EXPECT_STRNE(describe(static_cast<wire_error>(e)), "?");
}
