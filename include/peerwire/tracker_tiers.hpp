// BEP 12 multitracker bookkeeping (pure: time is passed in). Tiers are tried in order; the
// URLs of a tier are shuffled once when the torrent is added, and the one that answers moves
// to the front of its tier so it is asked first next time. A tracker that fails is skipped
// until its back-off ends (exponential in its consecutive failures, capped), so a dead
// tracker costs one timeout per back-off period, not one per announce.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace peerwire::tracker {

struct tracker_entry {
  std::string url;
  int failures = 0;  // consecutive
  std::chrono::steady_clock::time_point retry_at{};
  std::string last_error;
  bool worked = false;  // answered at least once (a stopped announce goes only to these)
};

struct backoff_policy {
  std::chrono::seconds base{30};  // after the first failure
  std::chrono::seconds cap{3600};
};

class tier_list {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  tier_list() = default;
  // Empty URLs and empty tiers are dropped; each tier is shuffled with `shuffle_seed`.
  tier_list(const std::vector<std::vector<std::string>>& tiers, std::uint64_t shuffle_seed,
            backoff_policy policy = {});

  std::size_t tier_count() const { return tiers_.size(); }
  bool empty() const { return tiers_.empty(); }
  const std::vector<tracker_entry>& tier(std::size_t t) const { return tiers_.at(t); }

  // Trackers are named by tier and URL (not position): an announce works on a copy of the
  // tier's URLs while a success elsewhere may reorder the tier. Unknown URLs are ignored.

  // Whether the tracker may be asked now (not backing off).
  bool ready(std::size_t t, const std::string& url, time_point now) const;
  bool worked(std::size_t t, const std::string& url) const;

  // The tracker answered: reset its failures and move it to the front of its tier.
  void succeeded(std::size_t t, const std::string& url);
  // It failed: one more failure, back off base * 2^(failures-1), capped.
  void failed(std::size_t t, const std::string& url, time_point now, std::string why);

  // The tier's URLs in the order to try them.
  std::vector<std::string> urls(std::size_t t) const;

  // The earliest time any tracker is ready again (now when one already is).
  time_point next_ready(time_point now) const;

  std::chrono::seconds backoff_for(int failures) const;

 private:
  std::vector<std::vector<tracker_entry>> tiers_;
  backoff_policy policy_;
};

}  // namespace peerwire::tracker
