// Handshake encoding, staged decoding, early errors, reserved bits and reply checks.
#include <gtest/gtest.h>

#include <numeric>

#include "peerwire/wire_handshake.hpp"
#include "wire_test_util.hpp"

using namespace peerwire;
using namespace peerwire::wire;
using namespace wire_test;

namespace {

handshake sample() {
  handshake h;
  h.reserved = make_reserved({.extension_protocol = true, .fast = true, .dht = true});
  std::iota(h.info_hash.begin(), h.info_hash.end(), std::uint8_t{0xa0});
  const std::array<std::uint8_t, 12> random{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  h.id = make_peer_id(random);
  return h;
}

}  // namespace

TEST(Handshake, EncodesTheKnownLayout) {
  const auto h = sample();
  const auto out = encode_handshake(h);
  EXPECT_EQ(out[0], 19);
  EXPECT_EQ(std::string(out.begin() + 1, out.begin() + 20), "BitTorrent protocol");
  EXPECT_EQ(bytes(out.begin() + 20, out.begin() + 28), b({0, 0, 0, 0, 0, 0x10, 0, 0x05}));
  EXPECT_EQ(out[28], 0xa0);
  EXPECT_EQ(out[47], 0xa0 + 19);
  EXPECT_EQ(std::string(out.begin() + 48, out.begin() + 56), "-PW0001-");
  EXPECT_EQ(out[67], 12);

  bytes appended = b({0xee});
  encode_handshake(h, appended);
  ASSERT_EQ(appended.size(), 69u);
  EXPECT_TRUE(std::equal(out.begin(), out.end(), appended.begin() + 1));
}

TEST(Handshake, DecodesAllAtOnceWithStagesInOrder) {
  const auto h = sample();
  const auto wire = encode_handshake(h);
  handshake_decoder dec;
  dec.feed(wire);
  EXPECT_EQ(dec.next(), handshake_stage::info_hash);
  EXPECT_EQ(dec.info_hash(), h.info_hash);
  EXPECT_EQ(dec.reserved(), h.reserved);
  EXPECT_EQ(dec.next(), handshake_stage::complete);
  EXPECT_EQ(dec.get(), h);
  EXPECT_TRUE(dec.remaining().empty());
  EXPECT_EQ(dec.next(), handshake_stage::complete);  // stays complete
}

TEST(Handshake, ByteAtATimeReportsInfoHashAfter48AndCompleteAt68) {
  const auto h = sample();
  const auto wire = encode_handshake(h);
  handshake_decoder dec;
  for (std::size_t i = 0; i < wire.size(); ++i) {
    dec.feed(std::span(wire).subspan(i, 1));
    const auto stage = dec.next();
    if (i + 1 == 48) {
      EXPECT_EQ(stage, handshake_stage::info_hash);
      EXPECT_EQ(dec.info_hash(), h.info_hash);
      EXPECT_EQ(dec.next(), handshake_stage::need_more);
    } else if (i + 1 == 68) {
      EXPECT_EQ(stage, handshake_stage::complete);
    } else {
      EXPECT_EQ(stage, handshake_stage::need_more) << "after " << i + 1 << " bytes";
    }
  }
  EXPECT_EQ(dec.get(), h);
}

TEST(Handshake, KeepsTheBytesAfterTheHandshake) {
  const auto wire = encode_handshake(sample());
  bytes stream(wire.begin(), wire.end());
  const bytes messages = b({0, 0, 0, 1, 1, 0, 0, 0, 0});  // unchoke, keep-alive
  stream = cat(stream, messages);
  handshake_decoder dec;
  dec.feed(std::span(stream).first(60));
  dec.feed(std::span(stream).subspan(60));
  EXPECT_EQ(dec.next(), handshake_stage::info_hash);
  EXPECT_EQ(dec.next(), handshake_stage::complete);
  EXPECT_EQ(bytes(dec.remaining().begin(), dec.remaining().end()), messages);

  message_decoder md;
  md.feed(dec.remaining());
  EXPECT_EQ(std::get<message>(md.next()), message{unchoke{}});
  EXPECT_EQ(std::get<message>(md.next()), message{keep_alive{}});
}

TEST(Handshake, WrongFirstByteFailsAtOnceAsNotBitTorrentOrEncrypted) {
  handshake_decoder dec;
  dec.feed(b({0x16}));  // a TLS record, or the first byte of an MSE key
  ASSERT_EQ(dec.next(), handshake_stage::error);
  const auto& e = dec.error();
  EXPECT_EQ(e.kind, handshake_error_kind::not_bittorrent_or_encrypted);
  EXPECT_EQ(e.offset, 0u);
  EXPECT_EQ(e.expected, 19);
  EXPECT_EQ(e.received, 0x16);
  EXPECT_EQ(e.seen, b({0x16}));
  EXPECT_NE(e.describe().find("encrypted (MSE)"), std::string::npos) << e.describe();
  EXPECT_NE(e.describe().find("0x16"), std::string::npos) << e.describe();
  // Later bytes change nothing.
  dec.feed(b({19}));
  EXPECT_EQ(dec.next(), handshake_stage::error);
}

TEST(Handshake, WrongProtocolStringNamesTheByte) {
  handshake_decoder dec;
  const bytes in = cat(b({19}), text("BitTorrent pXotocol"));
  for (std::size_t i = 0; i < in.size(); ++i) {
    dec.feed(std::span(in).subspan(i, 1));
    const auto stage = dec.next();
    if (i < 13) {
      ASSERT_EQ(stage, handshake_stage::need_more) << i;
    } else {
      ASSERT_EQ(stage, handshake_stage::error) << i;
      break;  // reported as soon as the 'X' at offset 13 arrived
    }
  }
  const auto& e = dec.error();
  EXPECT_EQ(e.kind, handshake_error_kind::wrong_protocol_string);
  EXPECT_EQ(e.offset, 13u);
  EXPECT_EQ(e.expected, 'r');
  EXPECT_EQ(e.received, 'X');
  EXPECT_EQ(e.seen, cat(b({19}), text("BitTorrent pX")));
  const auto d = e.describe();
  EXPECT_NE(d.find("byte 13"), std::string::npos) << d;
  EXPECT_NE(d.find("'X' (0x58)"), std::string::npos) << d;
  EXPECT_NE(d.find("'r' (0x72)"), std::string::npos) << d;
  EXPECT_NE(d.find("not a BitTorrent peer"), std::string::npos) << d;
}

TEST(Handshake, TextProtocolFailsOnFirstByte) {
  handshake_decoder dec;
  dec.feed(text("GET / HTTP/1.1\r\n"));
  ASSERT_EQ(dec.next(), handshake_stage::error);
  EXPECT_EQ(dec.error().offset, 0u);
  EXPECT_EQ(dec.error().seen, text("G"));
  EXPECT_NE(dec.error().describe().find("'G' (0x47)"), std::string::npos);
}

TEST(Handshake, ReservedBitsAreNamed) {
  reserved_bytes r{};
  EXPECT_EQ(describe_reserved(r), "none");
  r = make_reserved({.extension_protocol = true, .fast = true, .dht = true, .v2_upgrade = true});
  EXPECT_EQ(r, (reserved_bytes{0, 0, 0, 0, 0, 0x10, 0, 0x15}));
  EXPECT_EQ(
      decode_reserved(r),
      (reserved_flags{.extension_protocol = true, .fast = true, .dht = true, .v2_upgrade = true}));
  EXPECT_EQ(unknown_reserved_bits(r), reserved_bytes{});
  EXPECT_EQ(describe_reserved(r),
            "extension protocol (BEP 10), fast extension (BEP 6), DHT (BEP 5), "
            "v2 upgrade (BEP 52)");

  // libtorrent also sets 0x08 in byte 7 (not in any BEP we implement) and some clients
  // set 0x80 in byte 0 (Azureus messaging).
  const reserved_bytes mixed{0x80, 0, 0, 0, 0, 0x10, 0, 0x0d};
  EXPECT_EQ(decode_reserved(mixed),
            (reserved_flags{.extension_protocol = true, .fast = true, .dht = true}));
  EXPECT_EQ(unknown_reserved_bits(mixed), (reserved_bytes{0x80, 0, 0, 0, 0, 0, 0, 0x08}));
  EXPECT_EQ(describe_reserved(mixed),
            "extension protocol (BEP 10), fast extension (BEP 6), DHT (BEP 5), "
            "unknown bits: 0x8000000000000008");
  EXPECT_EQ(describe_reserved(reserved_bytes{0, 0, 0, 0, 0, 0, 0x01, 0}),
            "unknown bits: 0x0000000000000100");
}

TEST(Handshake, InitiatorChecksTheReply) {
  const auto h = sample();
  peer_id ours = h.id;
  ours[19] ^= 1;
  EXPECT_EQ(check_reply(h, h.info_hash, ours, std::nullopt), handshake_check::ok);
  EXPECT_EQ(check_reply(h, h.info_hash, ours, h.id), handshake_check::ok);

  peer_id other = h.id;
  other[0] = 'X';
  EXPECT_EQ(check_reply(h, h.info_hash, ours, other), handshake_check::peer_id_mismatch);
  EXPECT_EQ(check_reply(h, h.info_hash, h.id, std::nullopt), handshake_check::self_connection);

  sha1_digest wrong = h.info_hash;
  wrong[0] ^= 0xff;
  EXPECT_EQ(check_reply(h, wrong, ours, std::nullopt), handshake_check::info_hash_mismatch);
  EXPECT_STREQ(describe(handshake_check::peer_id_mismatch),
               "the peer id differs from the one the tracker announced");
}
