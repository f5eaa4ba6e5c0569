// Request-queue sizing and snub detection: pure functions over numbers the caller measured.
#include <algorithm>
#include <cmath>

#include "peerwire/picker.hpp"

namespace peerwire::picker {

std::size_t desired_queue(double rate_bytes_per_s, std::optional<std::uint32_t> reqq,
                          std::uint32_t block_size, double queue_seconds) {
  constexpr std::size_t floor_blocks = 2;
  // 500 is libtorrent's default max_out_request_queue; a peer announcing reqq (BEP 10)
  // drops requests beyond it, so that is a hard cap even below our floor. reqq 0 is
  // nonsense and treated as not announced.
  std::size_t cap = 500;
  if (reqq && *reqq > 0) cap = std::min<std::size_t>(cap, *reqq);
  double want = 0;  // an unmeasurable rate (negative, NaN, infinite) gets the floor
  if (std::isfinite(rate_bytes_per_s) && rate_bytes_per_s > 0 && block_size > 0 &&
      std::isfinite(queue_seconds) && queue_seconds > 0)
    want = std::ceil(rate_bytes_per_s * queue_seconds / block_size);
  const std::size_t n = want >= static_cast<double>(cap) ? cap : static_cast<std::size_t>(want);
  return std::min(std::max(n, floor_blocks), cap);
}

bool is_snubbed(bool peer_choking_us, std::size_t outstanding, std::chrono::milliseconds now,
                std::chrono::milliseconds since, std::chrono::milliseconds snub_after) {
  // A choking peer owes us nothing, and with nothing requested there is nothing to wait for.
  if (peer_choking_us || outstanding == 0) return false;
  return now - since >= snub_after;
}

}  // namespace peerwire::picker
