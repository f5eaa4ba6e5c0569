// BEP 12 tier bookkeeping (pure).
#include <algorithm>
#include <random>

#include "peerwire/tracker_tiers.hpp"

namespace peerwire::tracker {

tier_list::tier_list(const std::vector<std::vector<std::string>>& tiers, std::uint64_t shuffle_seed,
                     backoff_policy policy)
    : policy_(policy) {
  std::mt19937_64 rng(shuffle_seed);
  for (const auto& t : tiers) {
    std::vector<tracker_entry> entries;
    for (const auto& url : t) {
      bool dup = std::any_of(entries.begin(), entries.end(),
                             [&](const tracker_entry& e) { return e.url == url; });
      if (!url.empty() && !dup) entries.push_back(tracker_entry{url});
    }
    if (entries.empty()) continue;
    // BEP 12: shuffle once, so that the load of many clients spreads over a tier's trackers.
    std::shuffle(entries.begin(), entries.end(), rng);
    tiers_.push_back(std::move(entries));
  }
}

namespace {

template <class Tier>
auto find_entry(Tier& tier, const std::string& url) {
  return std::find_if(tier.begin(), tier.end(), [&](const auto& e) { return e.url == url; });
}

}  // namespace

bool tier_list::ready(std::size_t t, const std::string& url, time_point now) const {
  if (t >= tiers_.size()) return false;
  auto it = find_entry(tiers_[t], url);
  return it != tiers_[t].end() && it->retry_at <= now;
}

bool tier_list::worked(std::size_t t, const std::string& url) const {
  if (t >= tiers_.size()) return false;
  auto it = find_entry(tiers_[t], url);
  return it != tiers_[t].end() && it->worked;
}

void tier_list::succeeded(std::size_t t, const std::string& url) {
  if (t >= tiers_.size()) return;
  auto& tier = tiers_[t];
  auto it = find_entry(tier, url);
  if (it == tier.end()) return;
  it->failures = 0;
  it->retry_at = {};
  it->last_error.clear();
  it->worked = true;
  std::rotate(tier.begin(), it, it + 1);  // BEP 12: the working tracker goes first
}

void tier_list::failed(std::size_t t, const std::string& url, time_point now, std::string why) {
  if (t >= tiers_.size()) return;
  auto it = find_entry(tiers_[t], url);
  if (it == tiers_[t].end()) return;
  it->failures = std::min(it->failures + 1, 1000);
  it->retry_at = now + backoff_for(it->failures);
  it->last_error = std::move(why);
}

std::vector<std::string> tier_list::urls(std::size_t t) const {
  std::vector<std::string> out;
  if (t < tiers_.size()) {
    for (const auto& e : tiers_[t]) out.push_back(e.url);
  }
  return out;
}

tier_list::time_point tier_list::next_ready(time_point now) const {
  auto best = time_point::max();
  for (const auto& tier : tiers_) {
    for (const auto& e : tier) best = std::min(best, std::max(e.retry_at, now));
  }
  return best == time_point::max() ? now : best;
}

std::chrono::seconds tier_list::backoff_for(int failures) const {
  if (failures <= 0) return std::chrono::seconds(0);
  auto d = policy_.base;
  for (int i = 1; i < failures && d < policy_.cap; ++i) d *= 2;
  return std::min(d, policy_.cap);
}

}  // namespace peerwire::tracker
