// The shared UDP socket (udp_mux) and the BEP 15 tracker client over it.
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 reports a false -Wmismatched-new-delete for Asio coroutine frames here: the frame's
// class-level operator new/delete pair is matched, but inlining hides it (clang is clean).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <random>
#include <unordered_map>

#include "peerwire/tracker_policy.hpp"
#include "peerwire/tracker_udp_io.hpp"

namespace peerwire::tracker {

namespace asio = boost::asio;
using udp_proto = asio::ip::udp;
using error_code = boost::system::error_code;
using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t max_datagram = 65536;

// Replies arrive from IPv4 trackers as mapped addresses on a dual-stack socket; compare and
// report them as plain IPv4.
udp_proto::endpoint unmapped(const udp_proto::endpoint& e) {
  if (e.address().is_v6() && e.address().to_v6().is_v4_mapped()) {
    return {asio::ip::make_address_v4(asio::ip::v4_mapped, e.address().to_v6()), e.port()};
  }
  return e;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// udp_mux

struct udp_mux::impl : std::enable_shared_from_this<impl> {
  explicit impl(asio::any_io_executor ex) : socket(ex), rng(std::random_device{}()) {}

  struct waiter {
    explicit waiter(const asio::any_io_executor& ex) : wake(ex) {}
    udp_proto::endpoint from;
    asio::steady_timer wake;
    std::optional<std::vector<std::uint8_t>> reply;
  };

  udp_proto::socket socket;
  bool dual_stack = false;
  bool closed = false;
  std::mt19937 rng;
  std::unordered_map<std::uint32_t, std::shared_ptr<waiter>> pending;
  std::vector<listener> listeners;
  std::uint64_t dropped = 0;

  void dispatch(const udp_proto::endpoint& raw_from, std::span<const std::uint8_t> data) {
    auto from = unmapped(raw_from);
    if (data.size() >= 8) {
      std::uint32_t tid = (std::uint32_t{data[4]} << 24) | (std::uint32_t{data[5]} << 16) |
                          (std::uint32_t{data[6]} << 8) | data[7];
      auto it = pending.find(tid);
      if (it != pending.end() && it->second->from == from && !it->second->reply) {
        it->second->reply.emplace(data.begin(), data.end());
        it->second->wake.cancel();
        return;
      }
    }
    for (auto& l : listeners) {
      if (l(from, data)) return;
    }
    ++dropped;
  }

  asio::awaitable<void> receive_loop() {
    auto self = shared_from_this();
    std::vector<std::uint8_t> buf(max_datagram);
    int errors_in_a_row = 0;
    while (!closed) {
      udp_proto::endpoint from;
      auto [ec, n] = co_await socket.async_receive_from(asio::buffer(buf), from, tuple_awaitable);
      if (closed || ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) {
        break;
      }
      if (ec) {
        // ICMP errors (port unreachable) surface here on some systems; they concern one
        // destination, not the socket. Pause after a burst so a broken socket cannot spin.
        if (++errors_in_a_row >= 100) {
          asio::steady_timer pause(socket.get_executor(), milliseconds(100));
          co_await pause.async_wait(tuple_awaitable);
          errors_in_a_row = 0;
        }
        continue;
      }
      errors_in_a_row = 0;
      dispatch(from, std::span(buf.data(), n));
    }
  }
};

udp_mux::udp_mux(asio::any_io_executor ex) : impl_(std::make_shared<impl>(std::move(ex))) {}

udp_mux::~udp_mux() {
  close();
}

result<std::uint16_t> udp_mux::open(const std::string& bind_address, std::uint16_t port) {
  auto& s = *impl_;
  if (s.socket.is_open()) return make_error("UDP socket already open");
  error_code ec;
  auto addr = asio::ip::make_address(bind_address, ec);
  if (ec) return make_error("'" + bind_address + "' is not an IP address to bind UDP to");
  auto try_bind = [&](const udp_proto::endpoint& ep, bool dual) -> error_code {
    error_code e;
    s.socket.open(ep.protocol(), e);
    if (e) return e;
    if (dual) s.socket.set_option(asio::ip::v6_only(false), e);
    if (!e) s.socket.bind(ep, e);
    if (e) {
      error_code ignored;
      s.socket.close(ignored);
    }
    return e;
  };
  if (addr.is_unspecified()) {
    // One socket for both families when the system has IPv6; otherwise IPv4 only.
    ec = try_bind({udp_proto::v6(), port}, true);
    if (!ec) {
      s.dual_stack = true;
    } else {
      ec = try_bind({udp_proto::v4(), port}, false);
    }
  } else {
    ec = try_bind({addr, port}, false);
  }
  if (ec) {
    return make_error("cannot open a UDP socket on " + bind_address + " port " +
                      std::to_string(port) + ": " + ec.message());
  }
  s.closed = false;
  asio::co_spawn(s.socket.get_executor(), s.receive_loop(), asio::detached);
  return s.socket.local_endpoint().port();
}

void udp_mux::close() {
  auto& s = *impl_;
  s.closed = true;
  error_code ignored;
  s.socket.close(ignored);
  for (auto& [tid, w] : s.pending) w->wake.cancel();
}

bool udp_mux::is_open() const {
  return impl_->socket.is_open() && !impl_->closed;
}

bool udp_mux::can_reach(const udp_proto::endpoint& to) const {
  if (!is_open()) return false;
  error_code ec;
  auto local = impl_->socket.local_endpoint(ec);
  if (ec) return false;
  if (impl_->dual_stack) return true;
  return local.address().is_v4() == to.address().is_v4();
}

void udp_mux::add_listener(listener l) {
  impl_->listeners.push_back(std::move(l));
}

std::uint32_t udp_mux::new_transaction_id() {
  auto& s = *impl_;
  for (;;) {
    std::uint32_t id = s.rng();
    if (!s.pending.count(id)) return id;
  }
}

std::uint64_t udp_mux::dropped() const {
  return impl_->dropped;
}

asio::awaitable<result<std::optional<std::vector<std::uint8_t>>>> udp_mux::request(
    udp_proto::endpoint to, std::uint32_t transaction_id, std::vector<std::uint8_t> packet,
    milliseconds wait) {
  auto self = impl_;  // keeps the socket and the pending table alive while we wait
  if (self->closed || !self->socket.is_open()) co_return make_error("the UDP socket is closed");
  to = unmapped(to);
  auto w = std::make_shared<impl::waiter>(self->socket.get_executor());
  w->from = to;
  w->wake.expires_after(wait);
  self->pending[transaction_id] = w;
  struct unregister {
    impl& s;
    std::uint32_t id;
    ~unregister() { s.pending.erase(id); }
  } guard{*self, transaction_id};

  udp_proto::endpoint dest = to;
  if (self->dual_stack && to.address().is_v4()) {
    dest = {asio::ip::make_address_v6(asio::ip::v4_mapped, to.address().to_v4()), to.port()};
  }
  auto [ec, n] = co_await self->socket.async_send_to(asio::buffer(packet), dest, tuple_awaitable);
  if (ec) {
    // The destination may be unreachable right now (no route, ICMP): that is this request's
    // failure, reported like a timeout would be, only sooner.
    co_return make_error("cannot send to " + to.address().to_string() + ":" +
                         std::to_string(to.port()) + ": " + ec.message());
  }
  if (!w->reply) co_await w->wake.async_wait(tuple_awaitable);
  if (w->reply) co_return std::move(w->reply);
  if (self->closed) co_return make_error("the UDP socket is closed");
  co_return std::optional<std::vector<std::uint8_t>>{};
}

// ---------------------------------------------------------------------------------------------
// udp_tracker

namespace {

// getaddrinfo cannot be interrupted: wait for it under a timer, leave it behind on timeout.
struct resolve_job {
  explicit resolve_job(const asio::any_io_executor& ex) : resolver(ex), done(ex) {}
  udp_proto::resolver resolver;
  asio::steady_timer done;
  error_code ec;
  udp_proto::resolver::results_type results;
  bool finished = false;
};

constexpr std::chrono::seconds connection_id_lifetime{60};  // BEP 15
constexpr std::size_t max_cached_ids = 1000;

}  // namespace

struct udp_tracker::exchange {
  std::string url;
  udp_proto::endpoint endpoint;
  udp::family fam = udp::family::v4;
  udp::action act = udp::action::announce;
  udp_options opts;
  steady::time_point deadline = steady::time_point::max();
  int n = 0;  // retransmission exponent, shared by the connect and the request (BEP 15)
  int sends = 0;
  std::function<result<std::vector<std::uint8_t>>(std::uint64_t, std::uint32_t)> build;
  std::vector<sha1_hash> scrape_hashes;
};

namespace {

asio::awaitable<result<udp_proto::endpoint>> resolve_udp(const udp_url& u,
                                                         steady::time_point deadline) {
  auto job = std::make_shared<resolve_job>(co_await asio::this_coro::executor);
  job->done.expires_at(std::min(deadline, steady::now() + std::chrono::seconds(15)));
  job->resolver.async_resolve(u.host, std::to_string(u.port),
                              [job](error_code ec, udp_proto::resolver::results_type r) {
                                job->ec = ec;
                                job->results = std::move(r);
                                job->finished = true;
                                job->done.cancel();
                              });
  co_await job->done.async_wait(tuple_awaitable);
  if (!job->finished) {
    job->resolver.cancel();
    co_return make_error("timed out resolving " + u.host);
  }
  if (job->ec) co_return make_error("could not resolve " + u.host + ": " + job->ec.message());
  if (job->results.empty()) co_return make_error("no address for " + u.host);
  co_return job->results.begin()->endpoint();
}

}  // namespace

namespace {

// How long to wait for the next reply: 15 * 2^n s (BEP 15), within the deadline; nullopt when
// the retransmissions or the time are used up.
std::optional<milliseconds> next_wait(const udp_options& o, int n, steady::time_point deadline) {
  if (n > std::clamp(o.max_retransmits, 0, 8)) return std::nullopt;
  auto wait = o.base_timeout * (1 << n);
  auto now = steady::now();
  if (now >= deadline) return std::nullopt;
  if (deadline != steady::time_point::max()) {
    wait = std::min(wait, std::chrono::duration_cast<milliseconds>(deadline - now));
  }
  return std::max(wait, milliseconds(1));
}

failure no_reply(const std::string& url, int sends) {
  return make_error("no reply from " + url + " after " + std::to_string(sends) +
                    (sends == 1 ? " try" : " tries"));
}

}  // namespace

asio::awaitable<result<udp::reply>> udp_tracker::transact(exchange& x) {
  for (;;) {
    auto now = steady::now();
    std::optional<std::uint64_t> conn;
    if (auto it = ids_.find(x.endpoint); it != ids_.end() && it->second.expires > now) {
      conn = it->second.id;
    }
    if (!conn) {
      auto wait = next_wait(x.opts, x.n, x.deadline);
      if (!wait) co_return no_reply(x.url, x.sends);
      std::uint32_t tid = mux_.new_transaction_id();
      auto packet = udp::encode_connect(tid);
      ++x.sends;
      auto got = co_await mux_.request(x.endpoint, tid, {packet.begin(), packet.end()}, *wait);
      if (!got) co_return got.error();
      if (!*got) {
        ++x.n;
        continue;
      }
      auto r = udp::decode_reply(**got, udp::action::connect, tid, x.fam);
      if (!r) co_return make_error("bad connect reply from " + x.url + ": " + r.error().message);
      if (r->act == udp::action::error) co_return make_error("tracker says: " + r->error);
      if (ids_.size() >= max_cached_ids) {
        std::erase_if(ids_, [now](const auto& kv) { return kv.second.expires <= now; });
        if (ids_.size() >= max_cached_ids) ids_.clear();
      }
      ids_[x.endpoint] = {r->connection_id, steady::now() + connection_id_lifetime};
      continue;
    }

    auto wait = next_wait(x.opts, x.n, x.deadline);
    if (!wait) co_return no_reply(x.url, x.sends);
    std::uint32_t tid = mux_.new_transaction_id();
    auto packet = x.build(*conn, tid);
    if (!packet) co_return packet.error();
    ++x.sends;
    auto got = co_await mux_.request(x.endpoint, tid, std::move(*packet), *wait);
    if (!got) co_return got.error();
    if (!*got) {
      // Trackers silently ignore requests with a connection id they no longer accept: get a
      // fresh one with the retransmission.
      ids_.erase(x.endpoint);
      ++x.n;
      continue;
    }
    auto r = udp::decode_reply(**got, x.act, tid, x.fam, x.scrape_hashes);
    if (!r) co_return make_error("bad reply from " + x.url + ": " + r.error().message);
    if (r->act == udp::action::error) ids_.erase(x.endpoint);  // maybe an expired id
    co_return r;
  }
}

asio::awaitable<result<announce_response>> udp_tracker::announce(std::string url,
                                                                 announce_request req,
                                                                 udp_options opts) {
  auto parts = split_udp_url(url);
  if (!parts) co_return parts.error();
  exchange x;
  x.url = url;
  x.opts = opts;
  if (opts.deadline.count() > 0) x.deadline = steady::now() + opts.deadline;
  auto ep = co_await resolve_udp(*parts, x.deadline);
  if (!ep) co_return ep.error();
  if (!mux_.can_reach(*ep)) {
    co_return make_error("cannot reach " + ep->address().to_string() + " from the UDP socket (" +
                         (mux_.is_open() ? "other address family" : "socket not open") + ")");
  }
  x.endpoint = unmapped(*ep);
  x.fam = x.endpoint.address().is_v6() ? udp::family::v6 : udp::family::v4;
  x.act = udp::action::announce;
  x.build = [&req](std::uint64_t conn, std::uint32_t tid) {
    return udp::encode_announce(conn, tid, req);
  };
  auto r = co_await transact(x);
  if (!r) co_return r.error();
  if (r->act == udp::action::error) {
    announce_response out;
    out.failure_reason = r->error;
    co_return out;
  }
  co_return std::move(r->announce);
}

asio::awaitable<result<std::vector<scrape_stats>>> udp_tracker::scrape(
    std::string url, std::vector<sha1_hash> hashes, udp_options opts) {
  auto parts = split_udp_url(url);
  if (!parts) co_return parts.error();
  if (hashes.empty() || hashes.size() > udp::max_scrape_hashes) {
    co_return make_error("a UDP scrape asks about 1 to " + std::to_string(udp::max_scrape_hashes) +
                         " info-hashes");
  }
  exchange x;
  x.url = url;
  x.opts = opts;
  if (opts.deadline.count() > 0) x.deadline = steady::now() + opts.deadline;
  auto ep = co_await resolve_udp(*parts, x.deadline);
  if (!ep) co_return ep.error();
  if (!mux_.can_reach(*ep)) {
    co_return make_error("cannot reach " + ep->address().to_string() + " from the UDP socket");
  }
  x.endpoint = unmapped(*ep);
  x.fam = x.endpoint.address().is_v6() ? udp::family::v6 : udp::family::v4;
  x.act = udp::action::scrape;
  x.scrape_hashes = hashes;
  x.build = [&hashes](std::uint64_t conn, std::uint32_t tid) {
    return udp::encode_scrape(conn, tid, hashes);
  };
  auto r = co_await transact(x);
  if (!r) co_return r.error();
  if (r->act == udp::action::error) co_return make_error("tracker says: " + r->error);
  co_return std::move(r->scrape);
}

}  // namespace peerwire::tracker
