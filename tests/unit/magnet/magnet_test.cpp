// Parsing, formatting and round trips of well-formed magnet links. Rejections are in
// magnet_errors_test.cpp.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "peerwire/encoding.hpp"
#include "peerwire/magnet.hpp"

using namespace peerwire;

namespace {

constexpr const char* hex_hash = "c12fe1c06bba254a9dc9f519b335aa7c1367a88a";
constexpr const char* b32_hash = "YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK";  // same 20 bytes
constexpr const char* v2_hex = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";

std::string btih_link(const std::string& rest = "") {
  return std::string("magnet:?xt=urn:btih:") + hex_hash + rest;
}

sha1_hash expected_v1() {
  return *sha1_hash::parse(hex_hash);
}

using strings = std::vector<std::string>;

}  // namespace

TEST(Magnet, HexBtih) {
  auto r = parse_magnet(btih_link());
  ASSERT_TRUE(r) << r.error().describe();
  ASSERT_TRUE(r->hash.v1);
  EXPECT_EQ(r->hash.v1->hex(), hex_hash);
  EXPECT_FALSE(r->hash.v2);
  EXPECT_TRUE(r->display_name.empty());
  EXPECT_TRUE(r->trackers.empty());
}

TEST(Magnet, HexAndBase32InAnyCaseGiveTheSameHash) {
  std::string upper_hex = hex_hash;
  for (char& c : upper_hex) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string lower_b32 = b32_hash;
  for (char& c : lower_b32) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));

  for (const std::string& form :
       {std::string(hex_hash), upper_hex, std::string(b32_hash), lower_b32}) {
    auto r = parse_magnet("magnet:?xt=urn:btih:" + form);
    ASSERT_TRUE(r) << form << ": " << r.error().describe();
    EXPECT_EQ(r->hash.v1, expected_v1()) << form;
  }
}

TEST(Magnet, SchemeAndUrnPrefixAreCaseInsensitive) {
  auto r = parse_magnet(std::string("MAGNET:?XT=URN:BTIH:") + b32_hash + "&DN=x");
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->hash.v1, expected_v1());
  EXPECT_EQ(r->display_name, "x");
}

TEST(Magnet, SameHashTwiceInHexAndBase32IsAccepted) {
  auto r = parse_magnet(btih_link(std::string("&xt=urn:btih:") + b32_hash));
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->hash.v1, expected_v1());
}

TEST(Magnet, HybridLinkCarriesBothHashes) {
  auto r = parse_magnet(btih_link(std::string("&xt=urn:btmh:1220") + v2_hex + "&dn=hybrid"));
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->hash.v1, expected_v1());
  ASSERT_TRUE(r->hash.v2);
  EXPECT_EQ(to_hex(*r->hash.v2), v2_hex);
}

TEST(Magnet, V2OnlyLinkWithUppercaseHex) {
  std::string upper = v2_hex;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto r = parse_magnet("magnet:?xt=urn:btmh:1220" + upper);
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_FALSE(r->hash.v1);
  ASSERT_TRUE(r->hash.v2);
  EXPECT_EQ(to_hex(*r->hash.v2), v2_hex);
}

TEST(Magnet, OtherUrnsNextToBtihAreIgnored) {
  auto r = parse_magnet("magnet:?xt=urn:ed2k:31d6cfe0d16ae931b73c59d7e0c089c0&xt=urn:btih:" +
                        std::string(hex_hash) + "&xt=urn:sha1:YNCKHTQCWBTRNJIV4WNAE52SJUQCZO5C");
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->hash.v1, expected_v1());
}

TEST(Magnet, TrackersInOrderWithDuplicatesRemoved) {
  auto r = parse_magnet(
      btih_link("&tr=udp%3A%2F%2Ftracker.one%3A1337%2Fannounce&tr=http://tracker.two/announce"
                "&tr=udp://tracker.one:1337/announce&tr=&tr=udp://three:80"));
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->trackers, (strings{"udp://tracker.one:1337/announce", "http://tracker.two/announce",
                                  "udp://three:80"}));
}

TEST(Magnet, NumberedTrackerKeys) {
  auto r = parse_magnet(btih_link("&tr.1=http://a/announce&tr.2=http://b/announce&tr=http://c/"));
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->trackers, (strings{"http://a/announce", "http://b/announce", "http://c/"}));
}

TEST(Magnet, TrackerWithItsOwnQueryString) {
  auto r = parse_magnet(btih_link("&tr=http%3A%2F%2Ft.example%2Fa%3Fpasskey%3Dab%26x%3D1"));
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->trackers, strings{"http://t.example/a?passkey=ab&x=1"});
}

TEST(Magnet, PlusIsSpaceOnlyInDisplayName) {
  auto r = parse_magnet(btih_link("&dn=Big+Buck+Bunny%2B%20HD&tr=http://t/a+b&ws=http://w/c+d"));
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->display_name, "Big Buck Bunny+ HD");
  EXPECT_EQ(r->trackers, strings{"http://t/a+b"});
  EXPECT_EQ(r->web_seeds, strings{"http://w/c+d"});
}

TEST(Magnet, PercentEncodedUtf8DisplayName) {
  auto r = parse_magnet(btih_link("&dn=caf%C3%A9%20%E2%9C%93"));
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->display_name, "caf\xC3\xA9 \xE2\x9C\x93");
}

TEST(Magnet, FirstDisplayNameWins) {
  auto r = parse_magnet(btih_link("&dn=first&dn=second"));
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->display_name, "first");
}

TEST(Magnet, WebSeedsDeduplicated) {
  auto r = parse_magnet(btih_link("&ws=http://a/f&ws=http%3A%2F%2Fa%2Ff&ws=https://b/f"));
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->web_seeds, (strings{"http://a/f", "https://b/f"}));
}

TEST(Magnet, PeersInAllForms) {
  auto r = parse_magnet(
      btih_link("&x.pe=10.0.0.1:6881&x.pe=peer.example.org:51413&x.pe=[2001:db8::1]:6882"
                "&x.pe=%5B::1%5D:1&x.pe=127.0.0.1%3A65535"));
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->peers, (strings{"10.0.0.1:6881", "peer.example.org:51413", "[2001:db8::1]:6882",
                               "[::1]:1", "127.0.0.1:65535"}));
}

TEST(Magnet, SelectOnlyKeptAsGiven) {
  auto r = parse_magnet(btih_link("&so=0,2,4-6&so=7&so=3-3,10"));
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->select_only, (strings{"0,2,4-6", "7", "3-3,10"}));
}

TEST(Magnet, UnknownParametersAndOddSeparatorsAreIgnored) {
  auto r = parse_magnet(btih_link("&xl=10826029&kt=a+b&as=http://x/&&flag&=v&mt=http://m/#frag"));
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->hash.v1, expected_v1());
  EXPECT_TRUE(r->trackers.empty());
  EXPECT_TRUE(r->web_seeds.empty());
}

TEST(Magnet, ParameterNamesAreCaseInsensitive) {
  auto r = parse_magnet(btih_link("&DN=Name&Tr=http://t/&WS=http://w/&X.PE=1.2.3.4:5&SO=1"));
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->display_name, "Name");
  EXPECT_EQ(r->trackers, strings{"http://t/"});
  EXPECT_EQ(r->web_seeds, strings{"http://w/"});
  EXPECT_EQ(r->peers, strings{"1.2.3.4:5"});
  EXPECT_EQ(r->select_only, strings{"1"});
}

TEST(Magnet, RealWorldStyleLinks) {
  // Shaped like links from public trackers' pages and from qBittorrent's "copy magnet".
  auto a = parse_magnet(
      "magnet:?xt=urn:btih:dd8255ecdc7ca55fb0bbf81323d87062db1f6d1c&dn=Big+Buck+Bunny"
      "&tr=udp%3A%2F%2Fexplodie.org%3A6969&tr=udp%3A%2F%2Ftracker.coppersurfer.tk%3A6969"
      "&tr=wss%3A%2F%2Ftracker.btorrent.xyz&ws=https%3A%2F%2Fwebtorrent.io%2Ftorrents%2F"
      "&xs=https%3A%2F%2Fwebtorrent.io%2Ftorrents%2Fbig-buck-bunny.torrent");
  ASSERT_TRUE(a) << a.error().describe();
  EXPECT_EQ(a->hash.v1->hex(), "dd8255ecdc7ca55fb0bbf81323d87062db1f6d1c");
  EXPECT_EQ(a->display_name, "Big Buck Bunny");
  EXPECT_EQ(a->trackers.size(), 3u);
  EXPECT_EQ(a->trackers[2], "wss://tracker.btorrent.xyz");
  EXPECT_EQ(a->web_seeds, strings{"https://webtorrent.io/torrents/"});

  auto b = parse_magnet(
      "magnet:?xt=urn:btih:3WBFL3G4PSSV7MF37AJSHWDQMLNR63I4&dn=ubuntu-22.04.3-desktop-amd64.iso"
      "&xl=5037662208&tr.1=https%3A%2F%2Ftorrent.ubuntu.com%2Fannounce"
      "&tr.2=https%3A%2F%2Fipv6.torrent.ubuntu.com%2Fannounce");
  ASSERT_TRUE(b) << b.error().describe();
  EXPECT_EQ(b->hash.v1->hex(), "dd8255ecdc7ca55fb0bbf81323d87062db1f6d1c");
  EXPECT_EQ(b->display_name, "ubuntu-22.04.3-desktop-amd64.iso");
  EXPECT_EQ(b->trackers, (strings{"https://torrent.ubuntu.com/announce",
                                  "https://ipv6.torrent.ubuntu.com/announce"}));
}

TEST(Magnet, FormatIsCanonical) {
  magnet_link link;
  link.hash.v1 = expected_v1();
  link.display_name = "a b+c&d";
  link.trackers = {"udp://t.example:1337/announce", "http://t/a?k=v&x=1"};
  link.web_seeds = {"http://w/file name"};
  link.peers = {"[::1]:6881"};
  link.select_only = {"0,2-3"};
  EXPECT_EQ(format_magnet(link),
            "magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn=a+b%2Bc%26d"
            "&tr=udp://t.example:1337/announce&tr=http://t/a?k%3Dv%26x%3D1"
            "&ws=http://w/file%20name&x.pe=%5B::1%5D:6881&so=0,2-3");
}

TEST(Magnet, FormatWritesBase32InputAsLowercaseHexAndV2Second) {
  auto r =
      parse_magnet(std::string("magnet:?xt=urn:btmh:1220") + v2_hex + "&xt=urn:btih:" + b32_hash);
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(format_magnet(*r),
            std::string("magnet:?xt=urn:btih:") + hex_hash + "&xt=urn:btmh:1220" + v2_hex);
}

TEST(Magnet, RoundTrip) {
  const std::vector<std::string> links = {
      btih_link(),
      std::string("magnet:?xt=urn:btmh:1220") + v2_hex,
      btih_link(std::string("&xt=urn:btmh:1220") + v2_hex + "&dn=hybrid+v1%2Bv2"),
      btih_link("&dn=%26%3D%23%25%2B%20%3B%5B%5D%00nul&tr=http://t/?a=1%26b%3D2"),
      btih_link("&dn=caf%C3%A9&tr.1=udp://a:1&tr.2=udp://b:2&tr=udp://a:1&ws=http://w/a+b%20c"),
      btih_link("&x.pe=[fe80::1]:1&x.pe=host-1.example:2&so=0,5-9&so=3&xl=12"),
      btih_link("&dn=%7E%21%24%27%28%29%2A%2C%3A%40%2F%3F"),
      // Found by fuzzing: a value ending in '?' once swallowed the next '&'.
      "magnet:?tr=http://a/?&tr=http://b/?&xt=urn:btih:" + std::string(hex_hash),
  };
  for (const auto& uri : links) {
    auto first = parse_magnet(uri);
    ASSERT_TRUE(first) << uri << ": " << first.error().describe();
    std::string formatted = format_magnet(*first);
    auto second = parse_magnet(formatted);
    ASSERT_TRUE(second) << formatted << ": " << second.error().describe();
    EXPECT_EQ(*first, *second) << uri << " -> " << formatted;
    EXPECT_EQ(format_magnet(*second), formatted) << "format is not a fixed point";
  }
}

TEST(Magnet, LooksLikeMagnet) {
  EXPECT_TRUE(looks_like_magnet("magnet:?xt=urn:btih:x"));
  EXPECT_TRUE(looks_like_magnet("MaGnEt:"));
  EXPECT_FALSE(looks_like_magnet("magnet"));
  EXPECT_FALSE(looks_like_magnet(" magnet:?"));
  EXPECT_FALSE(looks_like_magnet("http://example.com/magnet:"));
  EXPECT_FALSE(looks_like_magnet("file.torrent"));
  EXPECT_FALSE(looks_like_magnet(""));
}
