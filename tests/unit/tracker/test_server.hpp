// A tiny scripted HTTP(S) server on 127.0.0.1 for the tracker client tests: for each
// connection it reads one request head, asks the test's responder what raw bytes to send, and
// then closes, or keeps the connection open until stop() (to test timeouts).
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace peerwire::test {

namespace asio = boost::asio;

struct scripted_reply {
  std::string bytes;  // written as is: status line, headers, body (possibly incomplete)
  bool hang = false;  // keep the connection open after writing, until stop()
};

class test_server {
 public:
  using responder = std::function<scripted_reply(const std::string& target)>;

  test_server(asio::io_context& ioc, responder respond, asio::ssl::context* tls = nullptr)
      : acceptor_(ioc, {asio::ip::make_address("127.0.0.1"), 0}),
        stop_(ioc),
        respond_(std::move(respond)),
        tls_(tls),
        port_(acceptor_.local_endpoint().port()) {
    stop_.expires_at(asio::steady_timer::time_point::max());
    asio::co_spawn(ioc, accept_loop(), asio::detached);
  }

  std::uint16_t port() const { return port_; }
  std::string url(const std::string& path) const {
    return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port()) + path;
  }
  // When set, sent to every connection right after accept, before reading anything (a
  // server that does not speak TLS answering a ClientHello), then the connection is closed.
  std::string banner;
  // Request heads received, in order.
  const std::vector<std::string>& requests() const { return requests_; }

  void stop() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    stop_.cancel();
    for (auto& close : closers_) close();
  }

 private:
  static constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(tuple_awaitable);
      if (ec) co_return;
      if (tls_) {
        auto s =
            std::make_shared<asio::ssl::stream<asio::ip::tcp::socket>>(std::move(socket), *tls_);
        track(s);
        asio::co_spawn(acceptor_.get_executor(), tls_session(s), asio::detached);
      } else {
        auto s = std::make_shared<asio::ip::tcp::socket>(std::move(socket));
        track(s);
        asio::co_spawn(acceptor_.get_executor(), serve(s), asio::detached);
      }
    }
  }

  template <class Stream>
  void track(const std::shared_ptr<Stream>& s) {
    closers_.push_back([weak = std::weak_ptr<Stream>(s)] {
      if (auto p = weak.lock()) {
        boost::system::error_code ignored;
        p->lowest_layer().close(ignored);
      }
    });
  }

  asio::awaitable<void> tls_session(std::shared_ptr<asio::ssl::stream<asio::ip::tcp::socket>> s) {
    auto [ec] = co_await s->async_handshake(asio::ssl::stream_base::server, tuple_awaitable);
    if (!ec) co_await serve(s);
  }

  template <class Stream>
  asio::awaitable<void> serve(std::shared_ptr<Stream> s) {
    boost::system::error_code ignored;
    if (!banner.empty()) {
      co_await asio::async_write(*s, asio::buffer(banner), tuple_awaitable);
      s->lowest_layer().close(ignored);
      co_return;
    }
    std::string head;
    auto [ec, n] = co_await asio::async_read_until(*s, asio::dynamic_buffer(head), "\r\n\r\n",
                                                   tuple_awaitable);
    if (ec) co_return;
    head.resize(n);
    requests_.push_back(head);
    auto first_space = head.find(' ');
    auto target = head.substr(first_space + 1, head.find(' ', first_space + 1) - first_space - 1);
    scripted_reply reply = respond_(target);
    if (!reply.bytes.empty()) {
      auto [wec, written] =
          co_await asio::async_write(*s, asio::buffer(reply.bytes), tuple_awaitable);
      if (wec) co_return;
    }
    if (reply.hang) co_await stop_.async_wait(tuple_awaitable);
    s->lowest_layer().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    s->lowest_layer().close(ignored);
  }

  asio::ip::tcp::acceptor acceptor_;
  asio::steady_timer stop_;
  responder respond_;
  asio::ssl::context* tls_;
  std::uint16_t port_;
  std::vector<std::string> requests_;
  std::vector<std::function<void()>> closers_;
};

// "HTTP/1.1 <status>" with a Content-Length body and any extra header lines.
inline std::string http_reply(const std::string& status, const std::string& body,
                              const std::string& extra_headers = "") {
  return "HTTP/1.1 " + status + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
         extra_headers + "\r\n" + body;
}

}  // namespace peerwire::test
