// The HTTP(S) GET behind tracker announces: Beast over beast::tcp_stream, whose expiry (one
// absolute deadline for the whole call) bounds connect, TLS handshake, write and read alike,
// so a server that never finishes its body ends in a timeout error, not a hung announce.
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <limits>
#include <memory>
#include <optional>
#include <type_traits>
#include <vector>

#include "http_client.hpp"
#include "peerwire/tracker_policy.hpp"

namespace peerwire::tracker {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using steady = std::chrono::steady_clock;

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

struct raw_reply {
  unsigned status = 0;
  std::string body;
  std::string location;
  address_class peer = address_class::public_net;  // of the address we connected to
};

// What one request needs to know besides the URL.
struct call_context {
  const http_options& opts;
  steady::time_point deadline;
  ssl::context* tls = nullptr;  // set when the URL is https
  // Set once the redirect chain has been through a public address: from then on only public
  // addresses may be connected to (request forgery towards the local network).
  bool public_only = false;

  failure timeout(std::string_view doing) const {
    return make_error("timed out after " + std::to_string(opts.timeout.count()) + " ms " +
                      std::string(doing));
  }
};

std::string excerpt(std::string_view s) {
  constexpr std::size_t max_shown = 120;
  std::string out;
  for (std::size_t i = 0; i < s.size() && i < max_shown; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    out += (c >= 0x20 && c < 0x7f) ? s[i] : ' ';
  }
  if (s.size() > max_shown) out += "...";
  return out;
}

address_class class_of(const asio::ip::address& a) {
  if (a.is_v4()) {
    auto b = a.to_v4().to_bytes();
    return classify_address(std::span<const std::uint8_t>(b));
  }
  auto b = a.to_v6().to_bytes();
  return classify_address(std::span<const std::uint8_t>(b));
}

bool is_redirect(unsigned status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// getaddrinfo runs on Asio's resolver thread and cannot be interrupted, so the wait for it
// is bounded by a timer instead: on the deadline we stop waiting and leave the job (kept
// alive by the shared_ptr in its handler) to finish in the background.
struct resolve_job {
  explicit resolve_job(const asio::any_io_executor& ex) : resolver(ex), done(ex) {}
  tcp::resolver resolver;
  asio::steady_timer done;
  error_code ec;
  tcp::resolver::results_type results;
  bool finished = false;
};

asio::awaitable<result<tcp::resolver::results_type>> resolve(const http_url& u,
                                                             const call_context& cx) {
  auto job = std::make_shared<resolve_job>(co_await asio::this_coro::executor);
  job->done.expires_at(cx.deadline);
  job->resolver.async_resolve(u.host, std::to_string(u.port),
                              [job](error_code ec, tcp::resolver::results_type r) {
                                job->ec = ec;
                                job->results = std::move(r);
                                job->finished = true;
                                job->done.cancel();
                              });
  co_await job->done.async_wait(tuple_awaitable);
  if (!job->finished) {
    job->resolver.cancel();
    co_return cx.timeout("resolving " + u.host);
  }
  if (job->ec) co_return make_error("could not resolve " + u.host + ": " + job->ec.message());
  co_return std::move(job->results);
}

// Names the certificate problem ("self-signed certificate", "hostname mismatch") instead of
// OpenSSL's generic "certificate verify failed".
std::string tls_failure(SSL* ssl, const error_code& ec) {
  std::string text = ec.message();
  long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK) text += ": " + std::string(X509_verify_cert_error_string(verify));
  return text;
}

// Turns on SNI and host name checking for this connection. OpenSSL's own checks are used
// (rather than a verify callback) so a mismatch is reported by name.
result<bool> prepare_tls(SSL* ssl, const http_url& u, bool verify) {
  error_code ec;
  asio::ip::make_address(u.host, ec);
  const bool is_ip = !ec;  // RFC 6066: no SNI for address literals
  if (!is_ip && SSL_set_tlsext_host_name(ssl, u.host.c_str()) != 1) {
    return make_error("cannot set TLS server name " + u.host);
  }
  if (!verify) return true;
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, u.host.c_str())
                 : X509_VERIFY_PARAM_set1_host(param, u.host.c_str(), 0);
  if (ok != 1) return make_error("cannot set the TLS host name check for " + u.host);
  return true;
}

// One request on a fresh connection. Stream is beast::tcp_stream or an ssl::stream over one.
template <class Stream>
asio::awaitable<result<raw_reply>> exchange(Stream& stream, const http_url& u,
                                            const call_context& cx) {
  beast::tcp_stream& tcp_layer = beast::get_lowest_layer(stream);
  const std::string where = u.host_header;
  tcp_layer.expires_at(cx.deadline);

  auto resolved = co_await resolve(u, cx);
  if (!resolved) co_return resolved.error();
  // The check is on the resolved addresses, not the name: a public name may resolve to
  // 127.0.0.1. Disallowed addresses are dropped; if none is left the redirect is refused.
  std::vector<tcp::endpoint> endpoints;
  std::optional<std::string> refusal;
  for (const auto& entry : *resolved) {
    auto ep = entry.endpoint();
    auto cls =
        cx.opts.classify ? cx.opts.classify(ep.address().to_string()) : class_of(ep.address());
    if (cx.public_only) {
      refusal = redirect_refusal(address_class::public_net, cls,
                                 u.host + " (" + ep.address().to_string() + ")");
      if (refusal) continue;
    }
    endpoints.push_back(ep);
  }
  if (endpoints.empty()) co_return make_error(refusal ? *refusal : "no address for " + u.host);
  tcp::endpoint connected;
  if (auto [ec, ep] = co_await tcp_layer.async_connect(endpoints, tuple_awaitable); ec) {
    if (ec == beast::error::timeout) co_return cx.timeout("connecting to " + where);
    co_return make_error("could not connect to " + where + ": " + ec.message());
  } else {
    connected = ep;
  }

  constexpr bool tls = !std::is_same_v<Stream, beast::tcp_stream>;
  if constexpr (tls) {
    auto ready = prepare_tls(stream.native_handle(), u, cx.opts.verify_tls);
    if (!ready) co_return ready.error();
    auto [ec] = co_await stream.async_handshake(ssl::stream_base::client, tuple_awaitable);
    if (ec == beast::error::timeout) co_return cx.timeout("in the TLS handshake with " + where);
    if (ec) {
      co_return make_error("TLS handshake with " + where +
                           " failed: " + tls_failure(stream.native_handle(), ec));
    }
  }

  http::request<http::empty_body> req{http::verb::get, u.target, 11};
  req.set(http::field::host, u.host_header);
  req.set(http::field::user_agent, cx.opts.user_agent);
  req.set(http::field::accept_encoding, "identity");  // we do not decompress
  req.set(http::field::connection, "close");
  if (auto [ec, n] = co_await http::async_write(stream, req, tuple_awaitable); ec) {
    if (ec == beast::error::timeout) co_return cx.timeout("sending the request to " + where);
    co_return make_error("sending the request to " + where + " failed: " + ec.message());
  }

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(
      std::min<std::size_t>(cx.opts.max_header, std::numeric_limits<std::uint32_t>::max())));
  parser.body_limit(cx.opts.max_body);
  auto [ec, n] = co_await http::async_read(stream, buffer, parser, tuple_awaitable);
  if constexpr (tls) {
    // Many servers close TLS without close_notify. Accepting that as the end of an
    // EOF-delimited body is safe here: bencode is self-delimiting, so a truncated
    // announce reply fails to parse instead of being misread.
    if (ec == ssl::error::stream_truncated && !parser.is_done()) {
      ec = {};
      parser.put_eof(ec);
    }
  }
  if (ec == beast::error::timeout) co_return cx.timeout("waiting for the response from " + where);
  if (ec == http::error::body_limit) {
    co_return make_error("response body from " + where + " is over the limit of " +
                         std::to_string(cx.opts.max_body) + " bytes");
  }
  if (ec == http::error::header_limit) {
    co_return make_error("response header from " + where + " is over the limit of " +
                         std::to_string(cx.opts.max_header) + " bytes");
  }
  if (ec == http::error::end_of_stream) {
    co_return make_error(where + " closed the connection without a response");
  }
  if (ec == http::error::partial_message) {
    co_return make_error(where + " closed the connection in the middle of the response");
  }
  if (ec) co_return make_error("bad HTTP response from " + where + ": " + ec.message());

  auto& res = parser.get();
  auto encoding = res[http::field::content_encoding];
  if (!encoding.empty() && !beast::iequals(encoding, "identity")) {
    co_return make_error(where + " sent a \"" + std::string(encoding) +
                         "\"-encoded response, which is not supported");
  }
  raw_reply out{res.result_int(), std::move(res.body()), std::string(res[http::field::location])};
  out.peer = cx.opts.classify ? cx.opts.classify(connected.address().to_string())
                              : class_of(connected.address());
  co_return out;
}

asio::awaitable<result<raw_reply>> fetch_once(const http_url& u, const call_context& cx) {
  auto ex = co_await asio::this_coro::executor;
  if (!u.tls) {
    beast::tcp_stream stream(ex);
    co_return co_await exchange(stream, u, cx);
  }
  ssl::stream<beast::tcp_stream> stream(ex, *cx.tls);
  co_return co_await exchange(stream, u, cx);
}

result<bool> setup_tls(ssl::context& ctx, const http_options& opts) {
  error_code ec;
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                      ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1,
                  ec);
  if (!opts.verify_tls) {
    ctx.set_verify_mode(ssl::verify_none, ec);
    return true;
  }
  ctx.set_verify_mode(ssl::verify_peer, ec);
  ctx.set_default_verify_paths(ec);
  if (ec) return make_error("cannot load the system CA certificates: " + ec.message());
  if (!opts.extra_ca_pem.empty()) {
    ctx.add_certificate_authority(asio::buffer(opts.extra_ca_pem), ec);
    if (ec) return make_error("bad extra CA certificate: " + ec.message());
  }
  return true;
}

}  // namespace

asio::awaitable<result<http_response>> http_fetch(std::string url, http_options opts) {
  const call_context cx_base{opts, steady::now() + opts.timeout};
  if (std::any_of(opts.user_agent.begin(), opts.user_agent.end(),
                  [](unsigned char c) { return c < 0x20 || c == 0x7f; })) {
    co_return make_error("user agent contains control characters");
  }
  std::optional<ssl::context> tls;  // made on the first https hop; loading CAs is not free
  std::vector<std::string> visited{url};
  bool seen_public = false;
  for (int redirects = 0;; ++redirects) {
    auto parts = split_http_url(url);
    if (!parts) co_return parts.error();
    call_context cx = cx_base;
    cx.public_only = seen_public;
    if (parts->tls) {
      if (!tls) {
        tls.emplace(ssl::context::tls_client);
        auto ok = setup_tls(*tls, opts);
        if (!ok) co_return ok.error();
      }
      cx.tls = &*tls;
    }
    auto reply = co_await fetch_once(*parts, cx);
    if (!reply) co_return reply.error();
    seen_public = seen_public || reply->peer == address_class::public_net;
    if (!is_redirect(reply->status)) co_return http_response{reply->status, std::move(reply->body)};

    if (reply->location.empty()) {
      co_return make_error("HTTP " + std::to_string(reply->status) +
                           " redirect without a Location");
    }
    auto next = resolve_redirect(url, reply->location);
    if (!next) co_return next.error();
    if (std::find(visited.begin(), visited.end(), *next) != visited.end()) {
      std::string chain;
      for (const auto& v : visited) chain += v + " -> ";
      co_return make_error("redirect loop: " + chain + *next);
    }
    if (redirects >= opts.max_redirects) {
      co_return make_error("too many redirects (more than " + std::to_string(opts.max_redirects) +
                           "), last to " + *next);
    }
    visited.push_back(*next);
    url = std::move(*next);
  }
}

asio::awaitable<result<std::string>> http_get(std::string url, http_options opts) {
  auto reply = co_await http_fetch(std::move(url), std::move(opts));
  if (!reply) co_return reply.error();
  if (reply->status != 200) {
    co_return make_error("HTTP " + std::to_string(reply->status) +
                         (reply->body.empty() ? "" : ": " + excerpt(reply->body)));
  }
  co_return std::move(reply->body);
}

asio::awaitable<result<announce_response>> announce(std::string announce_base, announce_request req,
                                                    http_options opts) {
  auto url = announce_url(announce_base, req);
  if (!url) co_return url.error();
  response_limits lim;
  lim.max_body = opts.max_body;
  auto reply = co_await http_fetch(std::move(*url), std::move(opts));
  if (!reply) co_return reply.error();
  auto parsed = parse_announce_response(reply->body, lim);
  if (reply->status == 200) co_return parsed;
  // Some trackers refuse with 4xx and a bencoded failure reason: show the reason.
  if (parsed && parsed->failure_reason) co_return parsed;
  co_return make_error("HTTP " + std::to_string(reply->status) +
                       (reply->body.empty() ? "" : ": " + excerpt(reply->body)));
}

asio::awaitable<result<scrape_response>> scrape(std::string announce_url,
                                                std::vector<sha1_hash> hashes, http_options opts) {
  auto base = scrape_url(announce_url);
  if (!base) co_return base.error();
  scrape_limits lim;
  lim.max_body = opts.max_body;
  auto reply = co_await http_fetch(scrape_request_url(*base, hashes), std::move(opts));
  if (!reply) co_return reply.error();
  auto parsed = parse_scrape_response(reply->body, lim);
  if (reply->status == 200) co_return parsed;
  if (parsed && parsed->failure_reason) co_return parsed;
  co_return make_error("HTTP " + std::to_string(reply->status) +
                       (reply->body.empty() ? "" : ": " + excerpt(reply->body)));
}

}  // namespace peerwire::tracker
