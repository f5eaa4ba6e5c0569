// Who we upload to (BEP 3 choking): tit-for-tat regular slots, one optimistic unchoke and
// anti-snubbing. Pure: the caller passes a snapshot of its peers and the time, and applies the
// returned changes; randomness comes from a seed, so every decision can be replayed in a test.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace peerwire::choker {

using time_point = std::chrono::steady_clock::time_point;
using peer_key = std::uint64_t;

// A peer as the choker sees it at one rechoke.
struct peer_info {
  peer_key key = 0;
  bool interested = false;    // the peer is interested in us: only they get regular slots
  bool choked_by_us = true;   // current state; the decision lists only changes to it
  double download_rate = 0;   // bytes/s we receive from it (tit-for-tat when leeching)
  double upload_rate = 0;     // bytes/s we send to it (used when seeding)
  bool snubbed = false;       // picker::is_snubbed(): never gets a regular slot
  time_point connected_at{};  // peers younger than settings::new_peer_age are "new"
};

// How regular slots are shared while seeding, when nobody can reciprocate.
enum class seed_policy {
  // Each interested peer gets a turn of settings::seed_turn in a slot; then the peers that have
  // waited longest take over (ties: faster upload first). Default, because a seed gains nothing
  // from rewarding its fastest peers: spreading pieces over many peers gives the swarm more
  // sources, and one fast peer cannot hog the seed forever.
  round_robin,
  // Slots go to the peers we upload to fastest (ties: longest waiting first). Uses the upload
  // capacity best, but a choked peer's upload rate decays to 0, so only the optimistic slot
  // lets others in.
  fastest_upload,
};

struct settings {
  std::size_t slots = 4;  // regular slots; the optimistic slot comes on top
  std::chrono::seconds rechoke_interval{10};
  std::chrono::seconds optimistic_interval{30};
  std::chrono::seconds new_peer_age{60};  // new peers are 3x as likely to win the optimistic slot
  seed_policy seeding = seed_policy::round_robin;
  std::chrono::seconds seed_turn{30};  // round_robin: a slot is kept at least this long
};

// What to change: `unchoke` and `choke` are relative to peer_info::choked_by_us (sorted by key);
// `optimistic` is the current optimistic peer, whether or not it changed.
struct decision {
  std::vector<peer_key> unchoke;
  std::vector<peer_key> choke;
  std::optional<peer_key> optimistic;
};

class choker {
 public:
  explicit choker(settings s = {}, std::uint64_t seed = 0);

  // Time for a rechoke (true before the first one).
  bool due(time_point now) const { return !next_rechoke_ || now >= *next_rechoke_; }
  std::optional<time_point> next_rechoke() const { return next_rechoke_; }

  // `peers` are all connected peers (any order; a peer missing from it is treated as gone).
  // Call when due(), or early when a slot holder leaves or loses interest (this restarts the
  // rechoke timer; the optimistic slot still rotates on its own 30 s clock). Never leaves more
  // than slots + 1 peers unchoked, assuming the caller applies every decision.
  decision rechoke(std::span<const peer_info> peers, bool seeding, time_point now);

  // Forgets a disconnected peer (and frees the optimistic slot if it held it).
  void peer_left(peer_key key);

  std::optional<peer_key> optimistic() const { return optimistic_; }
  const settings& config() const { return settings_; }

 private:
  // What the choker remembers about a peer between rechokes, for fair rotation.
  struct record {
    std::optional<time_point> slot_since;      // holding a regular slot since
    time_point last_slot = time_point::min();  // when it last held one (min = never)
  };

  std::vector<const peer_info*> rank(std::span<const peer_info* const> candidates, bool seeding,
                                     time_point now);
  void update_optimistic(std::span<const peer_info* const> peers,
                         const std::unordered_set<peer_key>& regular, time_point now);
  std::uint64_t next_random();

  settings settings_;
  std::uint64_t rng_state_;
  std::optional<time_point> next_rechoke_;
  std::optional<peer_key> optimistic_;
  time_point optimistic_since_{};
  std::unordered_map<peer_key, record> records_;
  // Peers that had the optimistic slot in the current round: nobody gets it twice before every
  // candidate has had it once, which turns "eventually" into a bound of one round.
  std::unordered_set<peer_key> had_optimistic_;
};

}  // namespace peerwire::choker
