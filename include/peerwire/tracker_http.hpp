// HTTP(S) tracker client, the IO shell around tracker.hpp: one GET with Boost.Beast over
// plain TCP or TLS, bounded in time and size, following a bounded number of redirects.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <string>

#include "peerwire/result.hpp"
#include "peerwire/tracker.hpp"

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

}  // namespace peerwire::tracker
