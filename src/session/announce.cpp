// Tracker announces for one torrent (BEP 3 over HTTP, BEP 12 tiers): started, then every
// interval, completed once, stopped on shutdown (bounded so quitting never hangs).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "peerwire/tracker_http.hpp"
#include "torrent.hpp"

namespace peerwire::session_detail {

asio::awaitable<void> torrent::announce_once(tracker::event ev) {
  auto self = shared_from_this();
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
  tracker::http_options opts;
  if (ev == tracker::event::stopped) opts.timeout = std::chrono::milliseconds(3000);

  // BEP 12: try the tiers in order and the URLs of a tier in order; the first that answers
  // moves to the front of its tier.
  for (auto& tier : params_.torrent.trackers) {
    for (std::size_t i = 0; i < tier.size(); ++i) {
      auto response = co_await tracker::announce(tier[i], req, opts);
      if (!*alive_ && ev != tracker::event::stopped) co_return;
      if (!response) {
        tracker_message_ = tier[i] + ": " + response.error().describe();
        note("tracker " + tracker_message_);
        continue;
      }
      if (response->failure_reason) {
        tracker_message_ = tier[i] + ": tracker says: " + *response->failure_reason;
        note(tracker_message_);
        continue;
      }
      if (response->warning_message) {
        tracker_message_ = tier[i] + ": warning: " + *response->warning_message;
        note(tracker_message_);
      } else {
        tracker_message_.clear();
      }
      if (response->tracker_id) tracker_id_ = response->tracker_id;
      auto interval = response->interval;
      if (response->min_interval) interval = std::max(interval, *response->min_interval);
      auto cap = host_.settings().announce_interval_cap;
      if (cap.count() > 0) interval = std::min(interval, cap);
      next_announce_ = steady::now() + interval;
      add_candidates(response->peers);
      std::rotate(tier.begin(), tier.begin() + static_cast<std::ptrdiff_t>(i),
                  tier.begin() + static_cast<std::ptrdiff_t>(i) + 1);
      if (ev != tracker::event::stopped) connect_more(steady::now());
      co_return;
    }
  }
  next_announce_ = steady::now() + std::chrono::seconds(60);  // every tracker failed: retry soon
}

asio::awaitable<void> torrent::announce_loop() {
  auto self = shared_from_this();
  if (params_.torrent.trackers.empty()) co_return;
  co_await announce_once(tracker::event::started);
  // A member, so stop() can cancel the wait and shutting down is not delayed by it.
  announce_timer_ = std::make_unique<asio::steady_timer>(host_.executor());
  auto& timer = *announce_timer_;
  while (*alive_ && !stopping_ && state_ != torrent_state::error) {
    timer.expires_at(std::min(next_announce_, steady::now() + std::chrono::seconds(1)));
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (!*alive_ || stopping_) co_return;
    if (steady::now() >= next_announce_) co_await announce_once(tracker::event::none);
  }
}

}  // namespace peerwire::session_detail
