// Every way parse_magnet rejects input, and that the message says why.
#include <gtest/gtest.h>

#include <string>

#include "peerwire/magnet.hpp"

using namespace peerwire;

namespace {

constexpr const char* hex_hash = "c12fe1c06bba254a9dc9f519b335aa7c1367a88a";
constexpr const char* v2_hex = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";

std::string btih_link(const std::string& rest) {
  return std::string("magnet:?xt=urn:btih:") + hex_hash + rest;
}

// Expects `uri` to be rejected with a message containing every one of `fragments`.
void expect_error(const std::string& uri, std::initializer_list<std::string> fragments) {
  auto r = parse_magnet(uri);
  ASSERT_FALSE(r) << uri << " was accepted";
  for (const auto& f : fragments)
    EXPECT_NE(r.error().message.find(f), std::string::npos)
        << uri << "\n  message: " << r.error().describe() << "\n  missing: " << f;
}

}  // namespace

TEST(MagnetErrors, WrongScheme) {
  expect_error("http://example.com/a.torrent", {"not a magnet URI", "'http'"});
  expect_error("magnet", {"not a magnet URI", "must start with 'magnet:'"});
  expect_error("", {"not a magnet URI"});
  expect_error(std::string("urn:btih:") + hex_hash, {"not a magnet URI", "scheme is 'urn'"});
  expect_error(std::string("xt=urn:btih:") + hex_hash, {"must start with 'magnet:'"});
  expect_error("  magnet:?xt=urn:btih:", {"must start with 'magnet:'"});
}

TEST(MagnetErrors, MalformedUriSaysWhatAndWhere) {
  auto r = parse_magnet(btih_link("&dn=two words"));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("malformed magnet URI (Boost.URL: "), std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("' '"), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().offset, btih_link("&dn=two").size());

  r = parse_magnet(btih_link("&dn=100%"));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("'%' is not followed by two hex digits"), std::string::npos);
  EXPECT_EQ(r.error().offset, btih_link("&dn=100").size());

  expect_error(btih_link("&dn=%zz"), {"malformed magnet URI", "pct-encoding"});
  expect_error(btih_link("&dn=\xC3\xA9"), {"malformed magnet URI", "\\xc3"});
  expect_error(btih_link("#a#b"), {"malformed magnet URI", "second '#'"});
}

TEST(MagnetErrors, TooLong) {
  std::string uri = btih_link("&dn=" + std::string(max_magnet_uri_length, 'a'));
  expect_error(uri, {std::to_string(uri.size()) + " bytes long", "limit"});
  // Exactly at the limit is fine.
  std::string base = btih_link("&dn=");
  auto r = parse_magnet(base + std::string(max_magnet_uri_length - base.size(), 'a'));
  EXPECT_TRUE(r) << r.error().describe();
}

TEST(MagnetErrors, MissingXt) {
  expect_error("magnet:?dn=name&tr=http://t/", {"no xt"});
  expect_error("magnet:?#ab", {"no xt"});  // crashed Boost.URL 1.81's params iterator
  expect_error("magnet:?&&=&#x", {"no xt"});
  expect_error("magnet:", {"no xt"});
  expect_error(std::string("magnet:xt=urn:btih:") + hex_hash, {"no xt"});  // no '?'
}

TEST(MagnetErrors, XtOfAnotherKind) {
  expect_error("magnet:?xt=urn:sha1:YNCKHTQCWBTRNJIV4WNAE52SJUQCZO5C",
               {"not urn:btih or urn:btmh", "urn:sha1"});
  expect_error("magnet:?xt=", {"not urn:btih or urn:btmh", "''"});
  expect_error(std::string("magnet:?xt=btih:") + hex_hash, {"not urn:btih or urn:btmh"});
}

TEST(MagnetErrors, BtihWrongLength) {
  expect_error("magnet:?xt=urn:btih:", {"btih", "0 characters long", "40 hex", "32 base32"});
  expect_error(std::string("magnet:?xt=urn:btih:") + hex_hash + "0", {"41 characters long"});
  expect_error("magnet:?xt=urn:btih:abcdef", {"6 characters long"});
}

TEST(MagnetErrors, BtihBadCharacters) {
  std::string bad_hex = hex_hash;
  bad_hex[5] = 'g';
  expect_error("magnet:?xt=urn:btih:" + bad_hex, {"'g' at position 5", "not a hex digit"});
  // '1', '8' and '9' are not in the base32 alphabet.
  expect_error("magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKE1",
               {"'1' at position 31", "not a base32 character"});
  expect_error("magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKE%00",
               {"'\\x00' at position 31"});
}

TEST(MagnetErrors, ConflictingHashes) {
  expect_error(btih_link("&xt=urn:btih:dd8255ecdc7ca55fb0bbf81323d87062db1f6d1c"),
               {"two different btih", hex_hash, "dd8255ecdc7ca55fb0bbf81323d87062db1f6d1c"});
  std::string other_v2 = v2_hex;
  other_v2[0] = 'b';
  expect_error(
      btih_link(std::string("&xt=urn:btmh:1220") + v2_hex + "&xt.2=urn:btmh:1220" + other_v2),
      {"two different btmh"});
  // A bad btih is an error even when another one is fine.
  expect_error(btih_link("&xt=urn:btih:nothex"), {"btih"});
}

TEST(MagnetErrors, BadBtmh) {
  expect_error(std::string("magnet:?xt=urn:btmh:1114") + v2_hex,
               {"does not start with 1220", "SHA2-256"});
  expect_error("magnet:?xt=urn:btmh:", {"does not start with 1220"});
  expect_error("magnet:?xt=urn:btmh:1220abcd", {"4 hex digits after the 1220 prefix", "64"});
  std::string bad = v2_hex;
  bad[10] = 'x';
  expect_error("magnet:?xt=urn:btmh:1220" + bad, {"'x' at position 14", "not a hex digit"});
}

TEST(MagnetErrors, MalformedPeer) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "empty"},
      {"10.0.0.1", "no port"},
      {"10.0.0.1:", "not a decimal number"},
      {"10.0.0.1:0", "between 1 and 65535"},
      {"10.0.0.1:65536", "between 1 and 65535"},
      {"10.0.0.1:123456", "between 1 and 65535"},
      {"10.0.0.1:-1", "not a decimal number"},
      {"300.0.0.1:80", "not an IPv4 address"},
      {"::1:6881", "must be in brackets"},
      {"[::1:6881", "no matching ']'"},
      {"[::1]6881", "no :port"},
      {"[::g]:6881", "not an IPv6 address"},
      {":6881", "host is empty"},
      {"bad_host:1", "'_' at position 3"},
      {"user@host:1", "'@' at position 4"},
  };
  for (const auto& [peer, why] : cases)
    expect_error(btih_link(std::string("&x.pe=") + peer), {"malformed x.pe peer", why});
  expect_error(btih_link("&x.pe=" + std::string(254, 'a') + ":1"), {"longer than 253"});
}

TEST(MagnetErrors, BadSelectOnly) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "empty"},
      {",", "empty entry"},
      {"1,,2", "empty entry"},
      {"1,", "empty entry"},
      {"a", "'a' is not a file index"},
      {"1-", "'1-' is not"},
      {"-3", "'-3' is not"},
      {"1-2-3", "'1-2-3' is not"},
      {"6-4", "'6-4' runs backwards"},
      {"4294967296", "is not a file index"},
      {"99999999999999999999999", "is not a file index"},
      {"1 2", "'1 2' is not"},
  };
  for (const auto& [so, why] : cases) {
    std::string value = so;
    if (value == "1 2") value = "1%202";
    expect_error(btih_link("&so=" + value), {"bad so (select-only) value", why, "0,2,4-6"});
  }
}

TEST(MagnetErrors, HostileTextInMessagesIsShortAndPrintable) {
  auto r = parse_magnet("magnet:?xt=urn:x" + std::string(1000, 'A') + "%0A%1B");
  ASSERT_FALSE(r);
  EXPECT_LT(r.error().message.size(), 200u) << r.error().message;
  for (char c : r.error().message)
    EXPECT_TRUE(c >= 0x20 && c < 0x7f) << "unprintable byte in message";
}
