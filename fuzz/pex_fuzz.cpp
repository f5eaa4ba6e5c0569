// BEP 11 ut_pex payloads come straight from peers: parsing must never crash, must respect
// its limits, and what it accepts must survive our encoder and parser unchanged. The parsed
// peers are also fed to a pex_tracker, whose messages must stay within BEP 11's caps.
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "peerwire/ext_pex.hpp"

using namespace peerwire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ext::pex_limits lim{};
  auto m = ext::parse_pex(std::span(data, size), lim);
  if (!m) return 0;
  if (m->added.size() > 2 * lim.max_entries || m->dropped.size() > 2 * lim.max_entries)
    std::abort();

  std::string again = ext::encode_pex(*m);
  auto back =
      ext::parse_pex(std::span(reinterpret_cast<const std::uint8_t*>(again.data()), again.size()));
  if (!back || back->added != m->added || back->dropped != m->dropped) std::abort();

  const auto t0 = std::chrono::steady_clock::time_point{};
  ext::pex_tracker tracker(t0);
  auto first = tracker.make_message(m->added, t0);
  if (first && (first->added.size() > ext::pex_tracker::max_per_list || !first->dropped.empty()))
    std::abort();
  // Everyone leaves: only drops, capped too.
  auto second = tracker.make_message({}, t0 + ext::pex_tracker::interval);
  if (second && (second->dropped.size() > ext::pex_tracker::max_per_list || !second->added.empty()))
    std::abort();
  return 0;
}
