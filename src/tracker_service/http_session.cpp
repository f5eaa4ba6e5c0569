// The HTTP side: an accept loop and one coroutine per connection, HTTP/1.1 with keep-alive.
// Bounded everywhere: header and body size (Beast parser limits), time to receive a request,
// keep-alive idle time, requests per connection, and open connections.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <string>

#include "parts.hpp"

namespace peerwire::tracker_service::detail {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

// Answers a request that could not be parsed, then the connection is closed.
asio::awaitable<void> send_error(beast::tcp_stream& stream, http::status status,
                                 std::string_view reason) {
  http::response<http::string_body> res{status, 11};
  res.set(http::field::content_type, "text/plain");
  res.set(http::field::connection, "close");
  res.body() = tracker_server::encode_failure(reason);
  res.prepare_payload();
  stream.expires_after(std::chrono::seconds(5));
  co_await http::async_write(stream, res, tuple_awaitable);
}

asio::awaitable<void> http_session(tcp::socket sock, shared_state& st) {
  const http_limits& lim = st.opt.limits;
  boost::system::error_code ec;
  auto remote_ep = sock.remote_endpoint(ec);
  if (ec) co_return;
  const auto remote = to_endpoint(remote_ep.address(), remote_ep.port());
  beast::tcp_stream stream(std::move(sock));
  beast::flat_buffer buffer(lim.max_header + lim.max_body);
  std::string line;

  for (unsigned served = 0; served < lim.max_requests_per_connection && !st.stopping; ++served) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(lim.max_header));
    parser.body_limit(lim.max_body);
    // An idle keep-alive connection gets idle_timeout; once bytes of a request are buffered
    // the whole request must arrive within request_timeout.
    stream.expires_after(served == 0 || buffer.size() != 0 ? lim.request_timeout
                                                           : lim.idle_timeout);
    auto [rec, n] = co_await http::async_read(stream, buffer, parser, tuple_awaitable);
    (void)n;
    if (rec == http::error::header_limit) {
      co_await send_error(stream, http::status::request_header_fields_too_large,
                          "request header too large");
      break;
    }
    if (rec == http::error::body_limit) {
      co_await send_error(stream, http::status::payload_too_large, "request body too large");
      break;
    }
    if (rec == http::error::end_of_stream || rec == beast::error::timeout ||
        rec == asio::error::operation_aborted || rec == asio::error::connection_reset ||
        rec == asio::error::eof) {
      break;
    }
    if (rec) {
      co_await send_error(stream, http::status::bad_request, "malformed HTTP request");
      break;
    }
    const auto& req = parser.get();
    http::response<http::string_body> res;
    res.version(req.version());
    res.set(http::field::content_type, "text/plain");
    res.set(http::field::server, "peerwire");
    // The last request a connection may make is told so ("Connection: close"), so a client
    // never sends another one into a closing socket.
    res.keep_alive(req.keep_alive() && served + 1 < lim.max_requests_per_connection &&
                   !st.stopping);
    ++st.requests;
    if (req.method() != http::verb::get) {
      res.result(http::status::method_not_allowed);
      res.set(http::field::allow, "GET");
      res.body() = tracker_server::encode_failure("only GET is supported");
    } else {
      line.clear();
      std::string* log = st.opt.verbose ? &line : nullptr;
      auto reply = st.srv.http(std::string_view(req.target().data(), req.target().size()), remote,
                               std::chrono::steady_clock::now(), log);
      res.result(reply.status);
      res.body() = std::move(reply.body);
      if (log && !line.empty() && st.opt.log) st.opt.log(line);
    }
    res.prepare_payload();
    stream.expires_after(lim.request_timeout);
    auto [wec, wn] = co_await http::async_write(stream, res, tuple_awaitable);
    (void)wn;
    if (wec || !res.keep_alive()) break;
  }
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  stream.socket().close(ec);
}

}  // namespace

asio::awaitable<void> accept_loop(tcp::acceptor& acc, shared_state& st) {
  auto ex = co_await asio::this_coro::executor;
  while (!st.stopping) {
    auto [ec, sock] = co_await acc.async_accept(tuple_awaitable);
    if (ec == asio::error::operation_aborted || st.stopping) co_return;
    if (ec) {  // e.g. EMFILE: back off briefly instead of spinning on the error
      asio::steady_timer pause(ex, std::chrono::milliseconds(100));
      co_await pause.async_wait(tuple_awaitable);
      continue;
    }
    if (st.connections >= st.opt.limits.max_connections) {
      boost::system::error_code ignored;
      sock.close(ignored);
      continue;
    }
    ++st.connections;
    asio::co_spawn(ex, http_session(std::move(sock), st), [&st](std::exception_ptr) {
      --st.connections;  // an exception (bad_alloc) ends only that connection
    });
  }
}

}  // namespace peerwire::tracker_service::detail
