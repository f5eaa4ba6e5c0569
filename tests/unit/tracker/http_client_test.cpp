// The HTTP(S) client and announce() against a scripted server on 127.0.0.1.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <boost/asio/co_spawn.hpp>
#include <chrono>

#include "http_client.hpp"
#include "test_server.hpp"

namespace pt = peerwire::tracker;
namespace asio = boost::asio;
using peerwire::test::http_reply;
using peerwire::test::scripted_reply;
using peerwire::test::test_server;
using namespace std::chrono_literals;

namespace {

template <class T>
asio::awaitable<void> capture(asio::awaitable<T> work, std::optional<T>* out) {
  out->emplace(co_await std::move(work));
}

// Runs `work` to completion on `ioc`. With a server, stops it afterwards and drains the
// io_context, so the server's coroutines end before it is destroyed; without one, the
// server (if any) keeps listening for the next call.
template <class T>
T run(asio::io_context& ioc, asio::awaitable<T> work, test_server* srv) {
  std::optional<T> out;
  asio::co_spawn(ioc, capture(std::move(work), &out), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  while (!out) {
    if (ioc.stopped()) ioc.restart();
    ioc.run_one();
  }
  if (srv) {
    srv->stop();
    ioc.run();
  }
  return std::move(*out);
}

std::string error_of(const peerwire::result<std::string>& r) {
  return r ? "(no error; body " + *r + ")" : r.error().describe();
}

pt::http_options quick() {
  pt::http_options o;
  o.timeout = 5s;
  return o;
}

const std::string announce_body =
    "d8:intervali1800e5:peers6:\x01\x02\x03\x04\x1a\xe1"
    "e";

}  // namespace

TEST(HttpClient, AnnounceOkCompact) {
  asio::io_context ioc;
  test_server srv(
      ioc, [](const std::string&) { return scripted_reply{http_reply("200 OK", announce_body)}; });
  pt::announce_request req;
  req.port = 6881;
  req.ev = pt::event::started;
  auto r = run(ioc, pt::announce(srv.url("/announce?pk=1"), req, quick()), &srv);
  ASSERT_TRUE(r) << r.error().describe();
  ASSERT_EQ(r->peers.size(), 1u);
  EXPECT_EQ(r->peers[0], (pt::peer_endpoint{"1.2.3.4", 6881, {}}));
  ASSERT_EQ(srv.requests().size(), 1u);
  const auto& head = srv.requests()[0];
  EXPECT_EQ(head.rfind("GET /announce?pk=1&info_hash=", 0), 0u) << head;
  EXPECT_NE(head.find("&event=started"), std::string::npos);
  EXPECT_NE(head.find("Host: 127.0.0.1:" + std::to_string(srv.port()) + "\r\n"), std::string::npos);
  EXPECT_NE(head.find("User-Agent: peerwire/0.1.0\r\n"), std::string::npos);
}

TEST(HttpClient, ChunkedAndEofDelimitedBodies) {
  for (bool chunked : {true, false}) {
    asio::io_context ioc;
    test_server srv(ioc, [&](const std::string&) {
      if (chunked) {
        return scripted_reply{
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n "
            "world\r\n0\r\n\r\n"};
      }
      return scripted_reply{"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nhello world"};
    });
    auto r = run(ioc, pt::http_get(srv.url("/"), quick()), &srv);
    ASSERT_TRUE(r) << r.error().describe();
    EXPECT_EQ(*r, "hello world");
  }
}

TEST(HttpClient, FollowsRedirects) {
  asio::io_context ioc;
  test_server srv(ioc, [](const std::string& target) {
    if (target == "/old")
      return scripted_reply{http_reply("302 Found", "", "Location: /new?x=1\r\n")};
    if (target == "/new?x=1") return scripted_reply{http_reply("200 OK", "moved body")};
    return scripted_reply{http_reply("500 Unexpected", target)};
  });
  auto r = run(ioc, pt::http_get(srv.url("/old"), quick()), &srv);
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(*r, "moved body");
  EXPECT_EQ(srv.requests().size(), 2u);
}

TEST(HttpClient, RedirectLoopAndTooManyRedirects) {
  asio::io_context ioc;
  test_server srv(ioc, [](const std::string& target) {
    if (target == "/a") return scripted_reply{http_reply("301 Moved", "", "Location: /b\r\n")};
    if (target == "/b") return scripted_reply{http_reply("307 Again", "", "Location: /a\r\n")};
    // /n<k> -> /n<k+1>, forever
    return scripted_reply{http_reply(
        "308 Next", "", "Location: /n" + std::to_string(std::stoi(target.substr(2)) + 1) + "\r\n")};
  });
  auto loop = run(ioc, pt::http_get(srv.url("/a"), quick()), nullptr);
  EXPECT_NE(error_of(loop).find("redirect loop"), std::string::npos) << error_of(loop);
  auto opts = quick();
  opts.max_redirects = 3;
  auto chain = run(ioc, pt::http_get(srv.url("/n0"), opts), &srv);
  EXPECT_NE(error_of(chain).find("too many redirects (more than 3)"), std::string::npos)
      << error_of(chain);
}

// The redirect rule at the IO level: 127.0.0.1 plays a public tracker (classify hook), so a
// redirect from it to another loopback address must be refused, judged on the resolved
// address; a name resolving to both a refused and an allowed address keeps only the allowed.
TEST(HttpClient, RedirectFromPublicToLoopbackIsRefused) {
  asio::io_context ioc;
  std::uint16_t port = 0;
  test_server srv(ioc, [&port](const std::string& target) {
    if (target == "/to-literal") {
      return scripted_reply{http_reply(
          "302 Found", "", "Location: http://127.0.0.2:" + std::to_string(port) + "/x\r\n")};
    }
    if (target == "/to-name") {
      return scripted_reply{http_reply(
          "302 Found", "", "Location: http://localhost:" + std::to_string(port) + "/named\r\n")};
    }
    if (target == "/named") return scripted_reply{http_reply("200 OK", "reached by name")};
    return scripted_reply{http_reply("500 Unexpected", target)};
  });
  port = srv.port();
  auto opts = quick();
  opts.classify = [](std::string_view a) {
    return a == "127.0.0.1" ? pt::address_class::public_net : *pt::classify_address(a);
  };
  auto refused = run(ioc, pt::http_get(srv.url("/to-literal"), opts), nullptr);
  ASSERT_FALSE(refused);
  EXPECT_NE(error_of(refused).find("redirect from a public address to 127.0.0.2 (127.0.0.2) "
                                   "(loopback) refused"),
            std::string::npos)
      << error_of(refused);
  // localhost resolves to 127.0.0.1 ("public" here) and maybe ::1 (loopback): only the former
  // may be used, and it is where the server listens.
  auto named = run(ioc, pt::http_get(srv.url("/to-name"), opts), nullptr);
  ASSERT_TRUE(named) << error_of(named);
  EXPECT_EQ(*named, "reached by name");
  // Without the hook 127.0.0.1 is loopback, and loopback -> loopback is allowed.
  auto local = run(ioc, pt::http_get(srv.url("/to-literal"), quick()), &srv);
  EXPECT_NE(error_of(local).find("127.0.0.2"), std::string::npos) << error_of(local);
  EXPECT_EQ(error_of(local).find("refused: a tracker"), std::string::npos) << error_of(local);
}

TEST(HttpClient, NotFoundNamesStatusAndBody) {
  asio::io_context ioc;
  test_server srv(ioc, [](const std::string&) {
    return scripted_reply{http_reply("404 Not Found", "no such torrent\n")};
  });
  auto r = run(ioc, pt::http_get(srv.url("/x"), quick()), &srv);
  EXPECT_EQ(error_of(r), "HTTP 404: no such torrent ");
}

TEST(HttpClient, AnnounceFailureReasonWithErrorStatus) {
  asio::io_context ioc;
  test_server srv(ioc, [](const std::string&) {
    return scripted_reply{http_reply("400 Bad Request", "d14:failure reason6:bannede")};
  });
  auto r = run(ioc, pt::announce(srv.url("/a"), {}, quick()), &srv);
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->failure_reason, "banned");

  asio::io_context ioc2;
  test_server html(ioc2, [](const std::string&) {
    return scripted_reply{http_reply("200 OK", "<html>hi</html>")};
  });
  auto bad = run(ioc2, pt::announce(html.url("/a"), {}, quick()), &html);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("not bencoded"), std::string::npos);
}

TEST(HttpClient, BodyThatNeverEndsTimesOut) {
  for (bool send_headers : {true, false}) {
    asio::io_context ioc;
    test_server srv(ioc, [&](const std::string&) {
      return scripted_reply{
          send_headers ? "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nd8:inter" : "", true};
    });
    auto opts = quick();
    opts.timeout = 300ms;
    auto start = std::chrono::steady_clock::now();
    auto r = run(ioc, pt::http_get(srv.url("/slow"), opts), &srv);
    auto took = std::chrono::steady_clock::now() - start;
    EXPECT_NE(error_of(r).find("timed out after 300 ms"), std::string::npos) << error_of(r);
    EXPECT_GE(took, 250ms);
    EXPECT_LT(took, 3s);
  }
}

TEST(HttpClient, SizeLimits) {
  asio::io_context ioc;
  test_server srv(ioc, [](const std::string& target) {
    if (target == "/big") return scripted_reply{http_reply("200 OK", std::string(4096, 'x'))};
    if (target == "/chunks") {
      std::string chunk = "400\r\n" + std::string(1024, 'y') + "\r\n";
      std::string reply = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
      for (int i = 0; i < 8; ++i) reply += chunk;
      return scripted_reply{reply + "0\r\n\r\n"};
    }
    return scripted_reply{"HTTP/1.1 200 OK\r\nX-Pad: " + std::string(40'000, 'p') + "\r\n\r\n"};
  });
  auto opts = quick();
  opts.max_body = 2048;
  auto big = run(ioc, pt::http_get(srv.url("/big"), opts), nullptr);
  EXPECT_NE(error_of(big).find("over the limit of 2048 bytes"), std::string::npos) << error_of(big);
  auto chunks = run(ioc, pt::http_get(srv.url("/chunks"), opts), nullptr);
  EXPECT_NE(error_of(chunks).find("over the limit of 2048 bytes"), std::string::npos)
      << error_of(chunks);
  auto header = run(ioc, pt::http_get(srv.url("/header"), opts), &srv);
  EXPECT_NE(error_of(header).find("response header"), std::string::npos) << error_of(header);
}

TEST(HttpClient, BrokenServers) {
  asio::io_context ioc;
  test_server srv(ioc, [](const std::string& target) {
    if (target == "/garbage") return scripted_reply{"hello there\r\n\r\n"};
    if (target == "/gzip")
      return scripted_reply{http_reply("200 OK", "xx", "Content-Encoding: gzip\r\n")};
    if (target == "/partial")
      return scripted_reply{"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"};
    if (target == "/noloc") return scripted_reply{http_reply("302 Found", "")};
    if (target == "/ftp")
      return scripted_reply{http_reply("302 Found", "", "Location: ftp://x/\r\n")};
    return scripted_reply{};  // close without answering
  });
  auto expect = [&](const std::string& path, const std::string& part) {
    auto r = run(ioc, pt::http_get(srv.url(path), quick()), nullptr);
    EXPECT_NE(error_of(r).find(part), std::string::npos) << path << ": " << error_of(r);
  };
  expect("/garbage", "bad HTTP response");
  expect("/gzip", "\"gzip\"-encoded");
  expect("/partial", "in the middle of the response");
  expect("/noloc", "without a Location");
  expect("/ftp", "unsupported tracker URL scheme \"ftp\"");
  expect("/silent", "closed the connection without a response");
  srv.stop();
  ioc.restart();
  ioc.run();
}

TEST(HttpClient, ConnectionRefusedAndBadUrls) {
  asio::io_context ioc;
  std::uint16_t port;
  {
    asio::ip::tcp::acceptor probe(ioc, {asio::ip::make_address("127.0.0.1"), 0});
    port = probe.local_endpoint().port();
  }  // closed: nothing listens there now
  auto r =
      run(ioc, pt::http_get("http://127.0.0.1:" + std::to_string(port) + "/", quick()), nullptr);
  EXPECT_NE(error_of(r).find("could not connect to 127.0.0.1:" + std::to_string(port)),
            std::string::npos)
      << error_of(r);
  auto udp = run(ioc, pt::announce("udp://t:1/announce", {}, quick()), nullptr);
  EXPECT_FALSE(udp);
}

// ---- TLS ------------------------------------------------------------------------------

namespace {

struct test_cert {
  std::string cert_pem, key_pem;
};

// A throwaway self-signed P-256 certificate with the given subjectAltName.
test_cert make_cert(const char* subject_alt_name) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("peerwire test"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  X509_EXTENSION* san = X509V3_EXT_nconf_nid(nullptr, &ctx, NID_subject_alt_name, subject_alt_name);
  X509_add_ext(x, san, -1);
  X509_EXTENSION_free(san);
  X509_sign(x, key, EVP_sha256());

  auto to_pem = [](auto write) {
    BIO* bio = BIO_new(BIO_s_mem());
    write(bio);
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<std::size_t>(n));
    BIO_free(bio);
    return out;
  };
  test_cert out{to_pem([&](BIO* b) { PEM_write_bio_X509(b, x); }), to_pem([&](BIO* b) {
                  PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr);
                })};
  X509_free(x);
  EVP_PKEY_free(key);
  return out;
}

asio::ssl::context server_context(const test_cert& c) {
  asio::ssl::context ctx(asio::ssl::context::tls_server);
  ctx.use_certificate(asio::buffer(c.cert_pem), asio::ssl::context::pem);
  ctx.use_private_key(asio::buffer(c.key_pem), asio::ssl::context::pem);
  return ctx;
}

peerwire::result<std::string> tls_get(const test_cert& cert, pt::http_options opts) {
  asio::io_context ioc;
  auto tls = server_context(cert);
  test_server srv(
      ioc, [](const std::string&) { return scripted_reply{http_reply("200 OK", "secret")}; }, &tls);
  return run(ioc, pt::http_get(srv.url("/"), std::move(opts)), &srv);
}

}  // namespace

TEST(HttpClientTls, PlainServerOnHttpsUrlFailsCleanly) {
  asio::io_context ioc;
  test_server srv(ioc, [](const std::string&) { return scripted_reply{}; });
  srv.banner = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
  auto url = srv.url("/");
  url.replace(0, 4, "https");
  auto r = run(ioc, pt::http_get(url, quick()), &srv);
  EXPECT_NE(error_of(r).find("TLS handshake with 127.0.0.1:"), std::string::npos) << error_of(r);
}

TEST(HttpClientTls, VerificationIsOnByDefault) {
  auto cert = make_cert("IP:127.0.0.1");
  auto r = tls_get(cert, quick());
  EXPECT_NE(error_of(r).find("certificate verify failed"), std::string::npos) << error_of(r);
  EXPECT_NE(error_of(r).find("self-signed"), std::string::npos) << error_of(r);
}

TEST(HttpClientTls, TrustedCertificateWorks) {
  auto cert = make_cert("IP:127.0.0.1");
  auto opts = quick();
  opts.extra_ca_pem = cert.cert_pem;
  auto r = tls_get(cert, opts);
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(*r, "secret");
}

TEST(HttpClientTls, HostNameIsChecked) {
  auto cert = make_cert("DNS:tracker.example");  // trusted, but not for 127.0.0.1
  auto opts = quick();
  opts.extra_ca_pem = cert.cert_pem;
  auto r = tls_get(cert, opts);
  EXPECT_NE(error_of(r).find("IP address mismatch"), std::string::npos) << error_of(r);
}

TEST(HttpClientTls, VerificationCanBeTurnedOff) {
  auto opts = quick();
  opts.verify_tls = false;
  auto r = tls_get(make_cert("DNS:tracker.example"), opts);
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(*r, "secret");
}
