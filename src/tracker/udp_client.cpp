// The BEP 15 tracker client (udp_tracker) over the shared socket's transactions.
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 reports a false -Wmismatched-new-delete for Asio coroutine frames here: the frame's
// class-level operator new/delete pair is matched, but inlining hides it (clang is clean).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "peerwire/tracker_policy.hpp"
#include "udp_io.hpp"

namespace peerwire::tracker {

namespace asio = boost::asio;
using udp_proto = asio::ip::udp;
using error_code = boost::system::error_code;
using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

// The socket reports IPv4 sources as plain IPv4: connection ids are cached, and replies
// matched, under plain addresses even when the resolver returns a mapped one.
udp_proto::endpoint unmapped(const udp_proto::endpoint& e) {
  if (e.address().is_v6() && e.address().to_v6().is_v4_mapped()) {
    return {asio::ip::make_address_v4(asio::ip::v4_mapped, e.address().to_v6()), e.port()};
  }
  return e;
}

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
      std::uint32_t tid = transactions_.new_transaction_id();
      auto packet = udp::encode_connect(tid);
      ++x.sends;
      auto got =
          co_await transactions_.request(x.endpoint, tid, {packet.begin(), packet.end()}, *wait);
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
    std::uint32_t tid = transactions_.new_transaction_id();
    auto packet = x.build(*conn, tid);
    if (!packet) co_return packet.error();
    ++x.sends;
    auto got = co_await transactions_.request(x.endpoint, tid, std::move(*packet), *wait);
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
  if (!transactions_.can_reach(*ep)) {
    co_return make_error("cannot reach " + ep->address().to_string() + " from the UDP socket (" +
                         (transactions_.is_open() ? "other address family" : "socket not open") +
                         ")");
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
  if (!transactions_.can_reach(*ep)) {
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
