// Rates in bytes/s: a meter for what was transferred (per-peer rates for the choker and the
// request-queue sizing, totals for the progress line) and a token bucket for the
// --upload-limit / --download-limit caps. Pure: time is always passed in.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace peerwire::choker {

using time_point = std::chrono::steady_clock::time_point;

// Bytes/s over a sliding window made of fixed buckets (default 10 x 1 s). A window rather than
// an EWMA because it is exact for steady input, falls to exactly 0 one window after the last
// byte (an idle peer must lose its slot), and is easy to reason about in tests.
class rate_meter {
 public:
  explicit rate_meter(std::chrono::nanoseconds bucket = std::chrono::seconds{1},
                      std::size_t buckets = 10);

  // Time points should not go backwards; an earlier one counts as the latest seen.
  void add(std::uint64_t bytes, time_point now);
  // Bytes in the window / time covered. Until a full window has passed since the first add,
  // the covered time starts at the first add (at least one bucket), so a new meter is not
  // biased low.
  double rate(time_point now) const;
  std::uint64_t total() const { return total_; }
  std::chrono::nanoseconds window() const {
    return bucket_ * static_cast<std::int64_t>(counts_.size());
  }

 private:
  std::int64_t bucket_of(time_point t) const;

  std::chrono::nanoseconds bucket_;
  std::vector<std::uint64_t> counts_;  // ring indexed by absolute bucket number % size
  std::int64_t head_ = 0;              // absolute number of the newest bucket
  bool started_ = false;
  time_point first_{};
  time_point latest_{};
  std::uint64_t total_ = 0;
};

// Token bucket: up to `burst` bytes at once, `rate` bytes/s in the long run. Consuming more than
// is available is allowed and leaves a debt that is paid back before anything else passes, so a
// caller may send a whole block once any tokens are there and the long-run rate stays exact.
class token_bucket {
 public:
  // rate 0 (or less) = unlimited. burst 0 = one second's worth, at least one 16 KiB block.
  explicit token_bucket(double rate_bytes_per_s = 0, double burst_bytes = 0);

  // Whole tokens available now (0 while in debt; UINT64_MAX when unlimited).
  std::uint64_t available(time_point now);
  void consume(std::uint64_t n, time_point now);
  // How long until n bytes may pass (0 = now). A request larger than the burst waits until the
  // bucket is full: it could never wait for more.
  std::chrono::nanoseconds wait_for(std::uint64_t n, time_point now) const;

  // Changes the rate (0 = unlimited), keeping the tokens and the burst setting. Time since the
  // last call is credited at the new rate; turning a limit on starts with a full bucket.
  void set_rate(double rate_bytes_per_s);
  bool unlimited() const { return rate_ <= 0; }
  double rate() const { return rate_; }
  double burst() const { return burst_; }

 private:
  void refill(time_point now);
  double tokens_at(time_point now) const;
  static double default_burst(double rate);

  double rate_;
  double burst_setting_;  // as given (0 = derive from the rate)
  double burst_;
  double tokens_;
  bool started_ = false;
  time_point last_{};
};

}  // namespace peerwire::choker
