#include <gtest/gtest.h>

#include "peerwire/ext_handshake.hpp"

using namespace peerwire;

namespace {

result<ext::handshake> parse(std::string_view s) {
  return ext::parse_handshake(std::span(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
}

}  // namespace

TEST(ExtHandshake, LibtorrentStyle) {
  std::string ip("\x7f\x00\x00\x01", 4);
  std::string payload =
      "d12:complete_agoi-1e1:md11:lt_donthavei7e10:share_modei8e11:upload_onlyi3e"
      "12:ut_holepunchi4e11:ut_metadatai2e6:ut_pexi1ee13:metadata_sizei1234e"
      "1:pi6881e4:reqqi500e11:upload_onlyi1e1:v18:libtorrent 2.0.8.06:yourip4:" +
      ip + "e";
  auto h = parse(payload);
  ASSERT_TRUE(h) << h.error().describe();
  EXPECT_EQ(h->extensions.at("ut_metadata"), 2);
  EXPECT_EQ(h->extensions.at("ut_pex"), 1);
  EXPECT_EQ(h->extensions.size(), 6u);
  EXPECT_EQ(h->client, "libtorrent 2.0.8.0");
  EXPECT_EQ(h->listen_port, 6881);
  EXPECT_EQ(h->reqq, 500u);
  EXPECT_EQ(h->metadata_size, 1234);
  EXPECT_EQ(h->your_ip, "127.0.0.1");
  EXPECT_TRUE(h->upload_only);
  EXPECT_EQ(h->other_keys, std::vector<std::string>{"complete_ago"});
}

TEST(ExtHandshake, Ipv6AndBadOptionalFieldsAreIgnored) {
  std::string ip6(16, '\0');
  ip6[15] = 1;
  auto h = parse("d1:md6:ut_pexi300ee1:pi70000e4:reqqi-1e1:vi5e6:yourip16:" + ip6 + "e");
  ASSERT_TRUE(h) << h.error().describe();
  EXPECT_TRUE(h->extensions.empty());  // id 300 is out of range
  EXPECT_FALSE(h->listen_port);
  EXPECT_FALSE(h->reqq);
  EXPECT_FALSE(h->client);
  EXPECT_EQ(h->your_ip, "::1");
}

TEST(ExtHandshake, Errors) {
  EXPECT_FALSE(parse("le"));
  EXPECT_FALSE(parse("d1:mi1ee"));
  auto bad = parse("d1:m");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("extension handshake"), std::string::npos);
}

TEST(ExtHandshake, EncodeRoundTrip) {
  ext::handshake h;
  h.extensions = {{"ut_metadata", 3}, {"ut_pex", 0}};
  h.client = "peerwire 0.1.0";
  h.listen_port = 51413;
  h.reqq = 250;
  h.metadata_size = 99;
  std::string bytes = ext::encode_handshake(h);
  EXPECT_EQ(bytes,
            "d1:md11:ut_metadatai3e6:ut_pexi0ee13:metadata_sizei99e1:pi51413e4:reqqi250e1:v14:"
            "peerwire 0.1.0e");
  auto back = parse(bytes);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->extensions, h.extensions);
  EXPECT_EQ(back->client, h.client);
  EXPECT_EQ(back->listen_port, h.listen_port);
}

TEST(ExtHandshake, EncodesAddressesAsRawBytesAndEncryption) {
  ext::handshake h;
  h.extensions = {{"ut_metadata", 2}};
  h.your_ip = "10.1.2.3";
  h.ipv6 = "2001:db8::1";
  h.ipv4 = "::1";  // wrong family for "ipv4": left out
  h.prefers_encryption = true;
  h.upload_only = true;
  std::string bytes = ext::encode_handshake(h);
  EXPECT_NE(bytes.find(std::string("6:yourip4:\x0a\x01\x02\x03", 14)), std::string::npos) << bytes;
  EXPECT_NE(bytes.find("1:ei1e"), std::string::npos);
  EXPECT_EQ(bytes.find("4:ipv4"), std::string::npos);
  auto back = parse(bytes);
  ASSERT_TRUE(back) << back.error().describe();
  EXPECT_EQ(back->your_ip, "10.1.2.3");
  EXPECT_EQ(back->ipv6, "2001:db8::1");
  EXPECT_FALSE(back->ipv4);
  EXPECT_TRUE(back->prefers_encryption);
  EXPECT_TRUE(back->upload_only);
  EXPECT_TRUE(back->other_keys.empty());

  h.your_ip = "not an address";
  EXPECT_EQ(ext::encode_handshake(h).find("yourip"), std::string::npos);
}

TEST(ExtHandshake, AddressBytes) {
  EXPECT_EQ(ext::address_bytes("127.0.0.1"), std::string("\x7f\x00\x00\x01", 4));
  auto v6 = ext::address_bytes("::1");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->size(), 16u);
  EXPECT_EQ(ext::address_text(*v6), "::1");
  EXPECT_EQ(ext::address_bytes("::ffff:1.2.3.4")->size(), 16u);
  EXPECT_FALSE(ext::address_bytes(""));
  EXPECT_FALSE(ext::address_bytes("1.2.3"));
  EXPECT_FALSE(ext::address_bytes("256.1.1.1"));
  EXPECT_FALSE(ext::address_bytes("[::1]"));
  EXPECT_FALSE(ext::address_bytes("example.org"));
  EXPECT_FALSE(ext::address_bytes(std::string(100, '1')));
  EXPECT_FALSE(ext::address_bytes(std::string("1.2.3.4\0", 8)));
}
