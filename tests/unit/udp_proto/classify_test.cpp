// classify_datagram() as a table: each kind at its smallest, truncated inputs and near misses
// (one byte or one field off), so a change of the routing rules shows up here first.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "peerwire/net_datagram.hpp"

namespace pn = peerwire::net;
using bytes = std::vector<std::uint8_t>;

namespace {

bytes text(const std::string& s) {
  return {s.begin(), s.end()};
}

// A uTP header: byte 0 = type << 4 | version, byte 1 = extension, then 18 more bytes.
bytes utp(std::uint8_t first, std::uint8_t extension = 0, std::size_t size = 20) {
  bytes b(size, 0x07);
  if (size > 0) b[0] = first;
  if (size > 1) b[1] = extension;
  return b;
}

// A BEP 15 reply header with `action`, transaction id 0x01020304, then `extra` bytes.
bytes tracker(std::uint32_t action, std::size_t extra = 0) {
  bytes b{static_cast<std::uint8_t>(action >> 24),
          static_cast<std::uint8_t>(action >> 16),
          static_cast<std::uint8_t>(action >> 8),
          static_cast<std::uint8_t>(action),
          1,
          2,
          3,
          4};
  b.insert(b.end(), extra, 0x55);
  return b;
}

struct row {
  const char* what;
  bytes data;
  pn::datagram_kind want;
};

}  // namespace

TEST(Classify, Table) {
  using k = pn::datagram_kind;
  const std::vector<row> rows = {
      {"empty", {}, k::unknown},
      // KRPC (BEP 5)
      {"ping query", text("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe"), k::krpc},
      {"empty dictionary", text("de"), k::krpc},
      {"lone d", text("d"), k::unknown},
      {"d without the closing e", text("d1:ad2:id20:abcdefghij0123456789e1:q4:ping"), k::unknown},
      {"d then a non-key", text("dxe"), k::unknown},
      {"d then ee", text("dee"), k::unknown},
      {"a list, not a dict", text("l4:spame"), k::unknown},
      {"plain text starting with d", text("drop table"), k::unknown},
      // uTP (BEP 29): type << 4 | 1
      {"ST_DATA", utp(0x01), k::utp},
      {"ST_FIN", utp(0x11), k::utp},
      {"ST_STATE", utp(0x21), k::utp},
      {"ST_RESET", utp(0x31), k::utp},
      {"ST_SYN", utp(0x41), k::utp},
      {"ST_STATE with SACK", utp(0x21, 1, 26), k::utp},
      {"close reason extension", utp(0x11, 3, 24), k::utp},
      {"large data packet", utp(0x01, 0, 65507), k::utp},
      {"type 5", utp(0x51), k::unknown},
      {"type 15", utp(0xf1), k::unknown},
      {"version 0", utp(0x40), k::unknown},
      {"version 2", utp(0x42), k::unknown},
      {"extension 4", utp(0x21, 4), k::unknown},
      {"extension 255", utp(0x21, 255), k::unknown},
      {"header one byte short", utp(0x21, 0, 19), k::unknown},
      {"one byte", utp(0x41, 0, 1), k::unknown},
      // BEP 15 replies
      {"connect reply", tracker(0, 8), k::tracker},
      {"announce reply", tracker(1, 12), k::tracker},
      {"scrape reply", tracker(2, 12), k::tracker},
      {"error reply", tracker(3, 5), k::tracker},
      {"error reply, no text", tracker(3), k::tracker},
      {"undefined action 7: the client reports it", tracker(7, 4), k::tracker},
      {"header one byte short", bytes{0, 0, 0, 1, 1, 2, 3}, k::unknown},
      {"action only", bytes{0, 0, 0, 1}, k::unknown},
      {"action with a non-zero top byte", tracker(0x07000001, 12), k::unknown},
      {"top byte 0x01 is a uTP ST_DATA header", tracker(0x01000001, 12), k::utp},
      // Nothing else
      {"zeros, too short for anything", bytes(7, 0), k::unknown},
      {"0xff", bytes(40, 0xff), k::unknown},
      {"HTTP", text("GET / HTTP/1.1\r\n\r\n"), k::unknown},
  };
  for (const auto& r : rows) {
    EXPECT_EQ(pn::classify_datagram(r.data), r.want)
        << r.what << " (" << r.data.size() << " bytes): got "
        << pn::to_string(pn::classify_datagram(r.data)) << ", want " << pn::to_string(r.want);
  }
}

// A byte-by-byte check of the non-collision argument in net_datagram.hpp: whatever follows,
// a datagram's first byte alone decides which of the three kinds it can be.
TEST(Classify, FirstByteDecidesTheCandidate) {
  for (int first = 0; first < 256; ++first) {
    bytes b(64, '0');
    b[0] = static_cast<std::uint8_t>(first);
    b[1] = 0;
    b.back() = 'e';
    auto got = pn::classify_datagram(b);
    if (first == 0) {
      EXPECT_EQ(got, pn::datagram_kind::tracker);
    } else if ((first & 0x0f) == 1 && (first >> 4) <= 4) {
      EXPECT_EQ(got, pn::datagram_kind::utp) << first;
    } else {
      EXPECT_NE(got, pn::datagram_kind::tracker) << first;
      EXPECT_NE(got, pn::datagram_kind::utp) << first;
    }
    if (got == pn::datagram_kind::krpc) {
      EXPECT_EQ(first, 'd');
    }
  }
}

TEST(Classify, Names) {
  EXPECT_EQ(pn::to_string(pn::datagram_kind::tracker), "tracker");
  EXPECT_EQ(pn::to_string(pn::datagram_kind::utp), "utp");
  EXPECT_EQ(pn::to_string(pn::datagram_kind::krpc), "krpc");
  EXPECT_EQ(pn::to_string(pn::datagram_kind::unknown), "unknown");
}
