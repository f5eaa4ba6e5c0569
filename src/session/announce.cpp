// Tracker announces for one torrent: started, then every interval, completed once, stopped on
// shutdown (bounded so quitting never hangs). HTTP(S) (BEP 3) and UDP (BEP 15) trackers, in
// BEP 12 tiers (tracker_tiers.hpp: shuffled once, the tracker that answers goes first, a
// failing one backs off), either tier by tier until one answers or every tier in parallel
// (session_settings::announce_to_all_tiers).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <random>

#include "http_client.hpp"
#include "peerwire/tracker_policy.hpp"
#include "torrent.hpp"
#include "udp_io.hpp"

namespace peerwire::session_detail {

namespace {

// How long a stopped announce may take per tracker: quitting must not hang on a dead one.
constexpr std::chrono::milliseconds stopped_timeout{3000};

}  // namespace

asio::awaitable<result<tracker::announce_response>> torrent::announce_to(
    std::string url, tracker::announce_request req) {
  auto self = shared_from_this();
  // Tracker URLs come from the torrent: untrusted. Only http, https and udp are contacted.
  auto kind = tracker::tracker_url_kind(url);
  if (!kind) co_return kind.error();
  const bool stopping = req.ev == tracker::event::stopped;
  if (*kind == tracker::url_kind::udp) {
    auto* client = host_.udp_tracker();
    if (!client) co_return make_error("no UDP socket for UDP trackers: " + host_.udp_error());
    tracker::udp_options opts;
    opts.base_timeout = host_.settings().udp_tracker_timeout;
    opts.max_retransmits = host_.settings().udp_tracker_retransmits;
    if (stopping) opts.deadline = stopped_timeout;
    co_return co_await client->announce(std::move(url), std::move(req), opts);
  }
  tracker::http_options opts;
  if (stopping) opts.timeout = stopped_timeout;
  co_return co_await tracker::announce(std::move(url), std::move(req), opts);
}

asio::awaitable<std::optional<std::chrono::seconds>> torrent::announce_tier(
    std::size_t tier, tracker::announce_request req) {
  auto self = shared_from_this();
  const bool stopping = req.ev == tracker::event::stopped;
  // A copy: a success in another tier's coroutine may reorder the list meanwhile.
  for (const auto& url : tiers_.urls(tier)) {
    if (stopping ? !tiers_.worked(tier, url) : !tiers_.ready(tier, url, host_.now())) {
      continue;  // stopped goes only where we announced; a failing tracker waits its back-off
    }
    auto response = co_await announce_to(url, req);
    if (!*alive_ && !stopping) co_return std::nullopt;
    std::string why;
    if (!response) {
      why = response.error().describe();
    } else if (response->failure_reason) {
      why = "tracker says: " + *response->failure_reason;
    }
    if (!why.empty()) {
      tiers_.failed(tier, url, host_.now(), why);
      tracker_message_ = url + ": " + why;
      note("tracker " + tracker_message_);
      continue;
    }
    tiers_.succeeded(tier, url);
    if (response->warning_message) {
      tracker_message_ = url + ": warning: " + *response->warning_message;
      note("tracker " + tracker_message_);
    } else if (tracker_message_.rfind(url + ": ", 0) == 0) {
      // Only this tracker's own old message goes: another tracker's failure stays visible
      // (it is still true) until that tracker answers on a later announce.
      tracker_message_.clear();
    }
    // What the parser had to fix (interval 0 clamped, peers over the limit dropped, bad
    // entries skipped) is worth a line: it explains odd behaviour of a broken tracker.
    for (const auto& n : response->notes) note("tracker " + url + ": " + n);
    if (response->tracker_id) tracker_id_ = response->tracker_id;
    auto interval = response->interval;
    if (response->min_interval) interval = std::max(interval, *response->min_interval);
    auto cap = host_.settings().announce_interval_cap;
    if (cap.count() > 0) interval = std::min(interval, cap);
    add_candidates(response->peers);
    if (!stopping) connect_more(host_.now());
    co_return interval;
  }
  co_return std::nullopt;
}

asio::awaitable<void> torrent::announce_once(tracker::event ev) {
  auto self = shared_from_this();
  if (!tiers_made_) {
    tracker::backoff_policy policy{host_.settings().tracker_backoff,
                                   host_.settings().tracker_backoff_cap};
    tiers_ = tracker::tier_list(params_.torrent.trackers, std::random_device{}(), policy);
    tiers_made_ = true;
  }
  tracker::announce_request req;
  req.info_hash = info_hash_;
  req.peer_id = host_.peer_id();
  req.port = host_.listen_port();
  req.uploaded = uploaded_;
  req.downloaded = downloaded_;
  req.left = left();
  req.ev = ev;
  req.numwant = ev == tracker::event::stopped ? 0 : 200;
  req.key = tracker_key_;
  req.tracker_id = tracker_id_;

  std::optional<std::chrono::seconds> interval;
  const bool parallel = host_.settings().announce_to_all_tiers || ev == tracker::event::stopped;
  if (parallel && tiers_.tier_count() > 1) {
    // Every tier at once (the stopped announce always: each tier that we announced to should
    // hear it, and it must be quick); wait for all of them.
    struct tier_round {
      explicit tier_round(const asio::any_io_executor& ex) : done(ex) {}
      asio::steady_timer done;
      std::size_t left = 0;
      std::optional<std::chrono::seconds> best;
    };
    auto r = std::make_shared<tier_round>(host_.executor());
    r->done.expires_at(steady::time_point::max());
    r->left = tiers_.tier_count();
    for (std::size_t t = 0; t < tiers_.tier_count(); ++t) {
      asio::co_spawn(
          host_.executor(),
          [](std::shared_ptr<torrent> me, std::size_t tier, tracker::announce_request rq,
             std::shared_ptr<tier_round> rd) -> asio::awaitable<void> {
            auto got = co_await me->announce_tier(tier, std::move(rq));
            if (got && (!rd->best || *got < *rd->best)) rd->best = got;
            if (--rd->left == 0) rd->done.cancel();
          }(self, t, req, r),
          asio::detached);
    }
    while (r->left > 0) co_await r->done.async_wait(asio::as_tuple(asio::use_awaitable));
    interval = r->best;
  } else {
    // BEP 12: tiers in order; the first tracker that answers ends the announce.
    for (std::size_t t = 0; t < tiers_.tier_count() && !interval; ++t) {
      interval = co_await announce_tier(t, req);
      if (!*alive_ && ev != tracker::event::stopped) co_return;
    }
  }
  auto now = host_.now();
  if (interval) {
    next_announce_ = now + *interval;
  } else {
    // Every tracker failed or is backing off: try again when the first back-off ends.
    next_announce_ = std::max(tiers_.next_ready(now), now + std::chrono::seconds(1));
  }
}

asio::awaitable<void> torrent::announce_loop() {
  auto self = shared_from_this();
  if (params_.torrent.trackers.empty()) co_return;
  co_await announce_once(tracker::event::started);
  // A member, so stop() can cancel the wait and shutting down is not delayed by it.
  announce_timer_ = std::make_unique<asio::steady_timer>(host_.executor());
  auto& timer = *announce_timer_;
  while (*alive_ && !stopping_ && state_ != torrent_state::error) {
    timer.expires_at(std::min(next_announce_, host_.now() + std::chrono::seconds(1)));
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (!*alive_ || stopping_) co_return;
    if (host_.now() >= next_announce_) co_await announce_once(tracker::event::none);
  }
}

}  // namespace peerwire::session_detail
