// serve(): bind every socket first (so "port busy" is reported before anything runs), then
// run the UDP loops, the HTTP accept loops, the expiry timer and the signal handler on one
// io_context. One thread: the registry needs no locks.
#include <sys/resource.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <csignal>
#include <functional>
#include <list>
#include <memory>

#include "parts.hpp"

namespace peerwire::tracker_service {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using udp = asio::ip::udp;

std::string show(const asio::ip::address& a, std::uint16_t port) {
  return a.is_v6() ? "[" + a.to_string() + "]:" + std::to_string(port)
                   : a.to_string() + ":" + std::to_string(port);
}

asio::awaitable<void> expire_loop(detail::shared_state& st, asio::steady_timer& timer) {
  while (!st.stopping) {
    timer.expires_after(st.opt.expire_every);
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec || st.stopping) co_return;
    st.srv.swarms().expire(std::chrono::steady_clock::now());
  }
}

}  // namespace

result<std::uint64_t> serve(tracker_server::server& srv, const service_options& opt) {
  // Every HTTP connection is a descriptor: lift the soft limit (often 1024) towards the hard
  // one so max_connections, not EMFILE, is what bounds them.
  if (rlimit lim{}; getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    const rlim_t want = static_cast<rlim_t>(opt.limits.max_connections) + 256;
    lim.rlim_cur = std::max(lim.rlim_cur, std::min(lim.rlim_max, want));
    setrlimit(RLIMIT_NOFILE, &lim);
  }
  detail::shared_state st{srv, opt};  // outlives io: frames destroyed with io may refer to it
  asio::io_context io(1);
  std::vector<asio::ip::address> addrs;
  const bool default_bind = opt.bind.empty();
  if (default_bind) {
    addrs = {asio::ip::address_v4::any(), asio::ip::address_v6::any()};
  } else {
    for (const auto& text : opt.bind) {
      boost::system::error_code ec;
      auto a = asio::ip::make_address(text, ec);
      if (ec) return make_error("--bind " + text + ": not an IP address");
      addrs.push_back(a);
    }
  }

  auto say = [&opt](const std::string& s) {
    if (opt.log) opt.log(s);
  };
  // std::list: sockets must not move once coroutines hold references to them.
  std::list<tcp::acceptor> acceptors;
  std::list<udp::socket> udps;
  std::uint16_t http_port = opt.http_port, udp_port = opt.udp_port;
  for (const auto& a : addrs) {
    // With the default binding, an IPv6 socket that cannot be opened (no IPv6 on the host) is
    // skipped; an explicitly requested address must work.
    const bool optional = default_bind && a.is_v6();
    if (opt.http) {
      boost::system::error_code ec;
      tcp::acceptor acc(io);
      tcp::endpoint ep(a, http_port);
      acc.open(ep.protocol(), ec);
      if (!ec && a.is_v6()) acc.set_option(asio::ip::v6_only(true), ec);
      if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
      if (!ec) acc.bind(ep, ec);
      if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
      if (ec) {
        if (optional) {
          say("note: not listening on " + show(a, http_port) + " (http): " + ec.message());
          continue;
        }
        return make_error("cannot listen on " + show(a, http_port) + " (http): " + ec.message());
      }
      http_port = acc.local_endpoint().port();  // port 0: the others use the same one
      say("listening: http " + show(a, http_port));
      acceptors.push_back(std::move(acc));
    }
    if (opt.udp) {
      boost::system::error_code ec;
      udp::socket s(io);
      udp::endpoint ep(a, udp_port);
      s.open(ep.protocol(), ec);
      if (!ec && a.is_v6()) s.set_option(asio::ip::v6_only(true), ec);
      if (!ec) s.bind(ep, ec);
      if (ec) {
        if (optional) {
          say("note: not listening on " + show(a, udp_port) + " (udp): " + ec.message());
          continue;
        }
        return make_error("cannot listen on " + show(a, udp_port) + " (udp): " + ec.message());
      }
      // Bigger socket buffers absorb bursts of announces; the kernel caps them at rmem_max.
      s.set_option(asio::socket_base::receive_buffer_size(4 << 20), ec);
      s.set_option(asio::socket_base::send_buffer_size(4 << 20), ec);
      udp_port = s.local_endpoint().port();
      say("listening: udp " + show(a, udp_port));
      udps.push_back(std::move(s));
    }
  }
  if (acceptors.empty() && udps.empty()) return make_error("nothing to listen on");

  asio::steady_timer expire_timer(io);
  asio::signal_set signals(io, SIGINT, SIGTERM, SIGHUP);
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        if (sig == SIGHUP) {
          if (opt.on_reload) opt.on_reload();
          signals.async_wait(on_signal);
          return;
        }
        say(std::string("stopping (") + (sig == SIGINT ? "SIGINT" : "SIGTERM") + ")");
        st.stopping = true;
        boost::system::error_code ignored;
        for (auto& acc : acceptors) acc.close(ignored);
        for (auto& s : udps) s.close(ignored);
        expire_timer.cancel();
        // Open keep-alive connections are not waited for: their frames are destroyed with
        // the io_context below.
        io.stop();
      };
  signals.async_wait(on_signal);

  for (auto& s : udps) asio::co_spawn(io, detail::udp_loop(s, st), asio::detached);
  for (auto& acc : acceptors) asio::co_spawn(io, detail::accept_loop(acc, st), asio::detached);
  asio::co_spawn(io, expire_loop(st, expire_timer), asio::detached);
  io.run();
  return st.requests;
}

}  // namespace peerwire::tracker_service
