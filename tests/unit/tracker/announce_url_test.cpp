// Announce URL building and the URL helpers of the HTTP client.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "peerwire/tracker.hpp"

namespace pt = peerwire::tracker;

namespace {

// Independent of the code under test: every byte outside A-Z a-z 0-9 - . _ ~ as %XX.
std::string expected_encoding(const std::string& bytes) {
  std::string out;
  for (unsigned char c : bytes) {
    bool keep = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                c == '-' || c == '.' || c == '_' || c == '~';
    char buf[4];
    std::snprintf(buf, sizeof buf, "%%%02X", c);
    out += keep ? std::string(1, static_cast<char>(c)) : std::string(buf);
  }
  return out;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// The value of `name=` in a URL's query, still encoded.
std::string param(const std::string& url, const std::string& name) {
  auto at = url.find("&" + name + "=");
  if (at == std::string::npos) at = url.find("?" + name + "=");
  if (at == std::string::npos) return "<absent>";
  at += name.size() + 2;
  return url.substr(at, url.find('&', at) - at);
}

pt::announce_request sample() {
  pt::announce_request r;
  for (int i = 0; i < 20; ++i) {
    r.info_hash.bytes[i] = static_cast<std::uint8_t>(0xA0 + i);
    r.peer_id[i] = static_cast<std::uint8_t>('a' + i);
  }
  r.port = 6881;
  r.uploaded = 1;
  r.downloaded = 2;
  r.left = 3;
  return r;
}

}  // namespace

TEST(AnnounceUrl, PercentEncodesAll256ByteValuesExactly) {
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  EXPECT_EQ(pt::percent_encode(all), expected_encoding(all));

  // Through announce_url too: every byte value appears in some info_hash / peer_id.
  for (int chunk = 0; chunk * 20 < 256; ++chunk) {
    auto req = sample();
    std::string ih, id;
    for (int i = 0; i < 20; ++i) {
      req.info_hash.bytes[i] = static_cast<std::uint8_t>((chunk * 20 + i) & 0xff);
      req.peer_id[i] = static_cast<std::uint8_t>(255 - ((chunk * 20 + i) & 0xff));
      ih += static_cast<char>(req.info_hash.bytes[i]);
      id += static_cast<char>(req.peer_id[i]);
    }
    auto url = pt::announce_url("http://t.example/announce", req);
    ASSERT_TRUE(url) << url.error().describe();
    EXPECT_EQ(param(*url, "info_hash"), expected_encoding(ih));
    EXPECT_EQ(param(*url, "peer_id"), expected_encoding(id));
    EXPECT_EQ(percent_decode(param(*url, "info_hash")), ih);
  }
}

TEST(AnnounceUrl, AllFields) {
  auto req = sample();
  req.uploaded = 123456789012345;
  req.numwant = 80;
  req.key = 0xDEADBEEF;
  req.ev = pt::event::started;
  req.tracker_id = "id &=x";
  auto url = pt::announce_url("https://t.example:8443/ann", req);
  ASSERT_TRUE(url);
  EXPECT_EQ(url->rfind("https://t.example:8443/ann?info_hash=", 0), 0u) << *url;
  EXPECT_EQ(param(*url, "port"), "6881");
  EXPECT_EQ(param(*url, "uploaded"), "123456789012345");
  EXPECT_EQ(param(*url, "downloaded"), "2");
  EXPECT_EQ(param(*url, "left"), "3");
  EXPECT_EQ(param(*url, "compact"), "1");
  EXPECT_EQ(param(*url, "numwant"), "80");
  EXPECT_EQ(param(*url, "key"), "DEADBEEF");
  EXPECT_EQ(param(*url, "event"), "started");
  EXPECT_EQ(param(*url, "trackerid"), "id%20%26%3Dx");
}

TEST(AnnounceUrl, EventsAndOptionalFields) {
  auto req = sample();
  req.numwant = -1;
  auto url = pt::announce_url("http://t/a", req);
  ASSERT_TRUE(url);
  EXPECT_EQ(param(*url, "event"), "<absent>");
  EXPECT_EQ(param(*url, "numwant"), "<absent>");
  EXPECT_EQ(param(*url, "trackerid"), "<absent>");
  EXPECT_EQ(param(*url, "key"), "00000000");
  for (auto [ev, name] : {std::pair{pt::event::started, "started"},
                          {pt::event::completed, "completed"},
                          {pt::event::stopped, "stopped"}}) {
    req.ev = ev;
    EXPECT_EQ(param(*pt::announce_url("http://t/a", req), "event"), name);
  }
}

TEST(AnnounceUrl, ExistingQueryAndFragment) {
  auto req = sample();
  auto starts = [&](std::string_view base, std::string_view prefix) {
    auto url = pt::announce_url(base, req);
    ASSERT_TRUE(url) << url.error().describe();
    EXPECT_EQ(url->substr(0, prefix.size()), prefix);
  };
  starts("http://t/announce.php?passkey=abc", "http://t/announce.php?passkey=abc&info_hash=");
  starts("http://t/announce?", "http://t/announce?info_hash=");
  starts("http://t/announce?a=1&", "http://t/announce?a=1&info_hash=");
  starts("http://t/announce#frag", "http://t/announce?info_hash=");
  starts("http://t/announce?#frag", "http://t/announce?info_hash=");
  starts("http://t?k=v", "http://t?k=v&info_hash=");
}

TEST(AnnounceUrl, RejectsBadInput) {
  auto req = sample();
  for (const char* bad : {"udp://tracker.example:1337/announce", "wss://t/a", "magnet:?xt=1",
                          "tracker.example/announce", "", "http://", "http://user:pw@t/a",
                          "http://t:0/a", "http://t:65536/a", "http://t%20x/a"}) {
    auto url = pt::announce_url(bad, req);
    EXPECT_FALSE(url) << bad;
  }
  auto udp = pt::announce_url("udp://t:80", req);
  ASSERT_FALSE(udp);
  EXPECT_NE(udp.error().message.find("\"udp\""), std::string::npos) << udp.error().message;
  req.left = -1;
  EXPECT_FALSE(pt::announce_url("http://t/a", req));
}

TEST(SplitHttpUrl, Parts) {
  auto a = pt::split_http_url("http://Tracker.Example/announce?x=1#f");
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->tls);
  EXPECT_EQ(a->host, "Tracker.Example");
  EXPECT_EQ(a->host_header, "Tracker.Example");
  EXPECT_EQ(a->port, 80);
  EXPECT_EQ(a->target, "/announce?x=1");

  auto b = pt::split_http_url("https://[::1]:8443");
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->tls);
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->host_header, "[::1]:8443");
  EXPECT_EQ(b->port, 8443);
  EXPECT_EQ(b->target, "/");

  auto c = pt::split_http_url("HTTPS://10.0.0.1:443?q");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->host_header, "10.0.0.1");
  EXPECT_EQ(c->port, 443);
  EXPECT_EQ(c->target, "/?q");

  auto d = pt::split_http_url("http://t:/a");  // empty port means the default
  ASSERT_TRUE(d);
  EXPECT_EQ(d->port, 80);
}

TEST(ResolveRedirect, RelativeAbsoluteAndBad) {
  auto r = [](std::string_view base, std::string_view loc) {
    auto out = pt::resolve_redirect(base, loc);
    return out ? *out : "error: " + out.error().message;
  };
  EXPECT_EQ(r("http://t/a/b?x=1", "c?y=2"), "http://t/a/c?y=2");
  EXPECT_EQ(r("http://t/a/b", "/z"), "http://t/z");
  EXPECT_EQ(r("http://t/a", "//other:81/p"), "http://other:81/p");
  EXPECT_EQ(r("http://t/a", "https://s/p#frag"), "https://s/p");
  EXPECT_EQ(r("http://t/a?#f", "?#x"), "http://t/a?");  // boostorg/url#864 shape
  EXPECT_EQ(r("http://t/a", "ftp://s/p").rfind("error: redirect to unsupported", 0), 0u);
  EXPECT_EQ(r("http://t/a", "http://bad host/").rfind("error:", 0), 0u);
  EXPECT_EQ(r("http://t/a", "\x01").rfind("error:", 0), 0u);
}
