#include "peerwire/rate.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace peerwire::choker {

namespace {

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  const std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

std::size_t ring_index(std::int64_t bucket, std::size_t size) {
  const auto n = static_cast<std::int64_t>(size);
  return static_cast<std::size_t>(((bucket % n) + n) % n);
}

double seconds(std::chrono::nanoseconds d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

// At least two buckets: with one, the window would shrink to nothing at each bucket boundary.
rate_meter::rate_meter(std::chrono::nanoseconds bucket, std::size_t buckets)
    : bucket_(std::max(bucket, std::chrono::nanoseconds{1})),
      counts_(std::max<std::size_t>(buckets, 2), 0) {}

std::int64_t rate_meter::bucket_of(time_point t) const {
  return floor_div(
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count(),
      bucket_.count());
}

void rate_meter::add(std::uint64_t bytes, time_point now) {
  if (started_) now = std::max(now, latest_);
  const std::int64_t b = bucket_of(now);
  if (!started_) {
    started_ = true;
    first_ = now;
    head_ = b;
  } else if (b > head_) {
    // Clear the buckets skipped since the last add (at most the whole ring).
    const auto size = static_cast<std::int64_t>(counts_.size());
    for (std::int64_t k = head_ + 1; k <= b && k <= head_ + size; ++k) {
      counts_[ring_index(k, counts_.size())] = 0;
    }
    head_ = b;
  }
  counts_[ring_index(b, counts_.size())] += bytes;
  total_ += bytes;
  latest_ = now;
}

double rate_meter::rate(time_point now) const {
  if (!started_) return 0;
  now = std::max(now, latest_);
  const auto size = static_cast<std::int64_t>(counts_.size());
  const std::int64_t oldest = bucket_of(now) - size + 1;
  std::uint64_t sum = 0;
  for (std::int64_t k = std::max(oldest, head_ - size + 1); k <= head_; ++k) {
    sum += counts_[ring_index(k, counts_.size())];
  }
  if (sum == 0) return 0;
  const time_point window_start{std::chrono::duration_cast<time_point::duration>(bucket_ * oldest)};
  std::chrono::nanoseconds span = now - window_start;
  if (first_ > window_start) span = std::max<std::chrono::nanoseconds>(now - first_, bucket_);
  return static_cast<double>(sum) / seconds(span);
}

double token_bucket::default_burst(double rate) {
  return std::max(rate, 16384.0);
}

token_bucket::token_bucket(double rate_bytes_per_s, double burst_bytes)
    : rate_(std::max(rate_bytes_per_s, 0.0)),
      burst_setting_(std::max(burst_bytes, 0.0)),
      burst_(burst_setting_ > 0 ? burst_setting_ : default_burst(rate_)),
      tokens_(burst_) {}

double token_bucket::tokens_at(time_point now) const {
  if (!started_ || now <= last_) return tokens_;
  return std::min(burst_, tokens_ + rate_ * seconds(now - last_));
}

void token_bucket::refill(time_point now) {
  tokens_ = tokens_at(now);
  if (!started_ || now > last_) last_ = now;
  started_ = true;
}

// A hair of tolerance so that waiting exactly wait_for() is enough despite rounding.
constexpr double token_epsilon = 1e-6;

std::uint64_t token_bucket::available(time_point now) {
  if (unlimited()) return std::numeric_limits<std::uint64_t>::max();
  refill(now);
  if (tokens_ <= 0) return 0;
  return static_cast<std::uint64_t>(std::floor(tokens_ + token_epsilon));
}

void token_bucket::consume(std::uint64_t n, time_point now) {
  if (unlimited()) return;
  refill(now);
  tokens_ -= static_cast<double>(n);
}

std::chrono::nanoseconds token_bucket::wait_for(std::uint64_t n, time_point now) const {
  if (unlimited()) return std::chrono::nanoseconds{0};
  const double need = std::min(static_cast<double>(n), burst_);
  const double have = tokens_at(now);
  if (have + token_epsilon >= need) return std::chrono::nanoseconds{0};
  const double ns = std::ceil((need - have) * 1e9 / rate_);
  return std::chrono::nanoseconds{static_cast<std::int64_t>(ns)};
}

void token_bucket::set_rate(double rate_bytes_per_s) {
  const bool was_unlimited = unlimited();
  rate_ = std::max(rate_bytes_per_s, 0.0);
  if (unlimited()) return;
  burst_ = burst_setting_ > 0 ? burst_setting_ : default_burst(rate_);
  if (was_unlimited) {
    tokens_ = burst_;
    started_ = false;
  } else {
    tokens_ = std::min(tokens_, burst_);
  }
}

}  // namespace peerwire::choker
