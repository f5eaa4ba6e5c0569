// Making our peer id, and naming other clients from theirs.
#include <gtest/gtest.h>

#include <string_view>

#include "peerwire/wire_peer_id.hpp"

using namespace peerwire::wire;

namespace {

// `prefix` followed by bytes that look random (some not printable).
peer_id id_from(std::string_view prefix) {
  peer_id id{};
  for (std::size_t i = 0; i < id.size(); ++i)
    id[i] = i < prefix.size() ? static_cast<std::uint8_t>(prefix[i])
                              : static_cast<std::uint8_t>(0x91 + 37 * i);
  return id;
}

struct naming_case {
  std::string_view prefix;
  const char* name;
  const char* version;
};

}  // namespace

TEST(PeerId, OursHasThePrefixAndTheGivenRandomBytes) {
  const std::array<std::uint8_t, 12> random{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0xfe, 0xff};
  const peer_id id = make_peer_id(random);
  EXPECT_EQ(std::string(id.begin(), id.begin() + 8), "-PW0001-");
  EXPECT_TRUE(std::equal(random.begin(), random.end(), id.begin() + 8));
  EXPECT_EQ(identify_client(id).name, "peerwire");
}

TEST(PeerId, RandomIdsDiffer) {
  const peer_id a = random_peer_id(), b = random_peer_id();
  EXPECT_EQ(std::string(a.begin(), a.begin() + 8), "-PW0001-");
  EXPECT_NE(a, b);
}

TEST(PeerId, NamesEachKnownClient) {
  const naming_case cases[] = {
      // Azureus style: -XXYYYY-
      {"-LT2080-", "libtorrent (rasterbar)", "2.0.8"},
      {"-LT12J0-", "libtorrent (rasterbar)", "1.2.19"},  // J = 19
      {"-TR3000-", "Transmission", "3.00"},
      {"-TR294Z-", "Transmission", "2.94+"},
      {"-TR0072-", "Transmission", "0.72"},
      {"-TR0006-", "Transmission", "0.6"},
      {"-TR4050-", "Transmission", "4.0.5"},
      {"-TR400Z-", "Transmission", "4.0.0-dev"},
      {"-TR400B-", "Transmission", "4.0.0-beta"},
      {"-qB4250-", "qBittorrent", "4.2.5"},
      {"-qB5010-", "qBittorrent", "5.0.1"},
      {"-UT3550-", "µTorrent", "3.5.5"},
      {"-UT355W-", "µTorrent", "3.5.5-W"},
      {"-BT7A10-", "BitTorrent", "7.10.1"},
      {"-DE13F0-", "Deluge", "1.3.15"},
      {"-DE2110-", "Deluge", "2.1.1"},
      {"-WW0109-", "WebTorrent", "1.9"},
      {"-WW0207-", "WebTorrent", "2.7"},
      {"-AZ5770-", "Vuze (Azureus)", "5.7.7.0"},
      {"-lt0D80-", "rTorrent (libtorrent rakshasa)", "0.13.8"},
      {"-KT4130-", "KTorrent", "4.1.3"},
      {"-PW0001-", "peerwire", "0.0.0.1"},
      {"-XX1230-", "unknown client 'XX'", "1.2.3"},
      // Other conventions
      {"A2-1-36-0-", "aria2", "1.36.0"},
      {std::string_view("exbc\x00\x3c", 6), "BitComet", "0.60"},
      {"exbc\x01\x02LORD", "BitLord", "1.02"},
      {"S58B-----", "Shadow", "5.8.11"},
      {"T03I-----", "BitTornado", "0.3.18"},
      {"M4-3-6--", "BitTorrent (mainline)", "4.3.6"},
      {"M7-10-2-", "BitTorrent (mainline)", "7.10.2"},
      {"Q1-10-0-", "Queen Bee", "1.10.0"},
  };
  for (const auto& c : cases) {
    const auto info = identify_client(id_from(c.prefix));
    EXPECT_EQ(info.name, c.name) << c.prefix;
    EXPECT_EQ(info.version, c.version) << c.prefix;
  }
  EXPECT_EQ(describe_peer_id(id_from("-qB4250-")), "qBittorrent 4.2.5");
}

TEST(PeerId, NearMissesAreNotMisnamed) {
  for (std::string_view prefix : {"-LT2080x",
                                  "-L\x01"
                                  "2080-",
                                  "A2-x", "M4-3-6", "S58B--x--", "S-58B----", "Z58B-----", "exb"}) {
    EXPECT_EQ(identify_client(id_from(prefix)).name, "") << prefix;
  }
}

TEST(PeerId, UnknownIdsShowTextAndHex) {
  peer_id id{};
  const std::string_view t = "OP1234\x01\x02";
  std::copy(t.begin(), t.end(), id.begin());
  EXPECT_EQ(describe_peer_id(id),
            "unknown \"OP1234..............\" "
            "(4f50313233340102000000000000000000000000)");
}
