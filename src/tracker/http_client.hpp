// HTTP(S) tracker client, the IO shell around tracker.hpp: one GET with Boost.Beast over
// plain TCP or TLS, bounded in time and size, following a bounded number of redirects.
// Private to the library (the session and the scrape runner use it): it needs Boost.Asio,
// which public headers must not pull in (scripts/check-layers.py).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "peerwire/result.hpp"
#include "peerwire/tracker.hpp"
#include "peerwire/tracker_policy.hpp"
#include "peerwire/tracker_scrape.hpp"

namespace peerwire::tracker {

struct http_options {
  // Total time for the whole call: name resolution, connect, TLS, every redirect, the body.
  std::chrono::milliseconds timeout{15000};
  int max_redirects = 5;
  std::size_t max_body = 4 << 20;     // bytes, after de-chunking
  std::size_t max_header = 16 << 10;  // bytes of status line + header fields
  std::string user_agent = "peerwire/0.1.0";
  // Certificate chain and host name checks against the system CA store. Only turn this off
  // for testing: without it any on-path attacker can answer for the tracker.
  bool verify_tls = true;
  // HTTP redirects (and the first request) are always limited to http and https; a redirect
  // from a public address to a loopback, private or link-local one is refused
  // (tracker_policy.hpp), judged on the addresses the target resolves to.
  // Test hook: how a connected or resolved address ("1.2.3.4", "::1") is classified for that
  // rule; empty means classify_address. Tests on loopback use it to play a public tracker.
  std::function<address_class(std::string_view address)> classify;
  // Extra trusted CA certificates (PEM), added to the system store; for tests and private
  // trackers with their own CA.
  std::string extra_ca_pem;
};

struct http_response {
  unsigned status = 0;
  std::string body;
};

// GET `url`, following 301/302/303/307/308 up to max_redirects times. Errors (with a reason):
// bad URL, resolve/connect/TLS failure, timeout, header or body over the limit, redirect loop
// or too many redirects, malformed HTTP. Any final status is returned, not only 200.
boost::asio::awaitable<result<http_response>> http_fetch(std::string url, http_options opts);

// http_fetch, and a status other than 200 is an error naming the status and a short excerpt
// of the body.
boost::asio::awaitable<result<std::string>> http_get(std::string url, http_options opts);

// Builds the announce URL, fetches it and parses the reply. A bencoded "failure reason" is a
// successful call with announce_response::failure_reason set (even with a non-200 status,
// which some trackers use); anything else that is not a 200 bencoded reply is an error.
boost::asio::awaitable<result<announce_response>> announce(std::string announce_base,
                                                           announce_request req, http_options opts);

// BEP 48 scrape of an http(s) tracker: derives the scrape URL from the announce URL (an error
// says when the tracker has none), fetches it for `hashes` and parses the reply. A bencoded
// "failure reason" is a successful call with scrape_response::failure_reason set.
boost::asio::awaitable<result<scrape_response>> scrape(std::string announce_url,
                                                       std::vector<sha1_hash> hashes,
                                                       http_options opts);

}  // namespace peerwire::tracker
