// Simulated time and a tiny swarm that applies choker decisions, shared by the choker tests.
#pragma once

#include <algorithm>
#include <chrono>
#include <set>
#include <vector>

#include "peerwire/choker.hpp"

namespace choker_test {

using namespace peerwire::choker;
using std::chrono::seconds;

// An arbitrary origin: steady_clock's epoch means nothing, so tests must not depend on it.
inline const time_point t0 = time_point{} + std::chrono::hours{100};
inline time_point at(std::int64_t s) {
  return t0 + seconds{s};
}

inline peer_info interested_peer(peer_key key, double download_rate = 0, double upload_rate = 0) {
  return {.key = key,
          .interested = true,
          .choked_by_us = true,
          .download_rate = download_rate,
          .upload_rate = upload_rate,
          .snubbed = false,
          .connected_at = t0 - std::chrono::hours{1}};  // old by default
}

// Peers plus the bookkeeping a caller does: apply each decision to choked_by_us.
struct swarm {
  std::vector<peer_info> peers;

  peer_info& operator[](peer_key key) {
    return *std::find_if(peers.begin(), peers.end(), [&](auto& p) { return p.key == key; });
  }
  void apply(const decision& d) {
    for (auto k : d.unchoke) (*this)[k].choked_by_us = false;
    for (auto k : d.choke) (*this)[k].choked_by_us = true;
  }
  std::set<peer_key> unchoked() const {
    std::set<peer_key> out;
    for (const auto& p : peers) {
      if (!p.choked_by_us) out.insert(p.key);
    }
    return out;
  }
  // Unchoked peers other than the optimistic one.
  std::set<peer_key> regular(const decision& d) const {
    auto out = unchoked();
    if (d.optimistic) out.erase(*d.optimistic);
    return out;
  }
  void remove(peer_key key) {
    std::erase_if(peers, [&](const peer_info& p) { return p.key == key; });
  }
};

}  // namespace choker_test
