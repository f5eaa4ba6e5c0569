// The piece picker: which blocks to request from which peer, and the one record of the
// requests in flight (who has which block, since when). Pure (no sockets, threads or clock:
// the caller passes the time in); randomness comes from a seed, so every decision is
// reproducible in tests.
//
// Policy: 16 KiB blocks; partial pieces are finished before new ones are started; new pieces
// are chosen rarest-first, ties broken by a random start inside the availability bucket (so
// peers spread over equally rare pieces) — or lowest index first in sequential mode. A peer is
// only asked for pieces it has and we lack; a choked peer only for its BEP 6 allowed-fast
// pieces. Outside endgame a block is requested from one peer at a time. Strict endgame starts
// once no block is free anywhere: the blocks still in flight may then be requested from more
// peers, and the first arrival reports the other requesters so the caller can cancel.
//
// Memory: 13 bytes per piece (bucket order, position, availability, state), plus per peer a
// bitfield (piece_count / 8 bytes, none for seeds) and its outstanding requests, plus per
// partial piece 16 bytes per block. Up to max_pieces (2^21) pieces.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace peerwire::picker {

using peer_key = std::uint64_t;
using time_point = std::chrono::steady_clock::time_point;

inline constexpr std::uint32_t default_block_size = 16 * 1024;
inline constexpr std::uint32_t max_pieces = 1u << 21;
// BEP 6 suggests about 10 allowed-fast pieces; more is ignored so a peer cannot grow our state.
inline constexpr std::size_t max_allowed_fast = 64;

struct block {
  std::uint32_t piece = 0;
  std::uint32_t offset = 0;
  std::uint32_t length = 0;
  bool operator==(const block&) const = default;
};

enum class received { accepted, duplicate, unrequested };

struct receive_result {
  received status = received::unrequested;
  // All blocks of the piece are in: the caller hashes it, then set_have() or hash_failed().
  bool piece_complete = false;
  // Endgame: other peers that still had this block requested; send them a cancel.
  std::vector<peer_key> cancel_at;
};

class piece_picker {
 public:
  // Throws std::invalid_argument when the sizes do not describe a torrent (metainfo has
  // validated them, so that is a programmer error).
  piece_picker(std::uint32_t piece_count, std::uint32_t piece_length, std::uint64_t total_size,
               std::uint64_t seed, std::uint32_t block_size = default_block_size);

  // --- peers and their pieces. Unknown peers are a programmer error (std::invalid_argument);
  // out-of-range piece indices from the network are ignored.
  void add_peer(peer_key peer);
  void peer_has(peer_key peer, std::uint32_t piece);  // a have, or one bitfield bit
  void peer_has_all(peer_key peer);                   // have-all or a full bitfield
  // Releases the peer's outstanding blocks and removes its availability (unknown: no-op).
  void remove_peer(peer_key peer);
  bool has_peer(peer_key peer) const { return peers_.contains(peer); }
  bool peer_has_piece(peer_key peer, std::uint32_t piece) const;
  // Whether the peer has any piece we lack (O(1)).
  bool interesting(peer_key peer) const;
  // Non-seed peers having the piece plus seeds.
  std::uint32_t availability(std::uint32_t piece) const;
  // BEP 6: a piece this peer lets us request while it chokes us.
  void set_allowed_fast(peer_key peer, std::uint32_t piece);

  // --- our pieces
  void set_have(std::uint32_t piece);  // verified, or from resume data
  // The piece failed its hash check: its received blocks become free again. Returns the
  // peers that sent them (sorted, distinct), for strikes.
  std::vector<peer_key> hash_failed(std::uint32_t piece);
  bool have(std::uint32_t piece) const;
  std::uint32_t have_count() const { return have_count_; }
  bool complete() const { return have_count_ == piece_count_; }
  std::uint64_t bytes_left() const { return total_size_ - have_bytes_; }

  // --- requests
  // Up to max_blocks new blocks to request from the peer (the caller sizes max_blocks with
  // desired_queue() minus outstanding()). While the peer chokes us only its allowed-fast
  // pieces are considered. With start_new false only blocks of pieces already in progress are
  // given (the caller's memory for piece buffers is spent; endgame is unaffected), and at most
  // max_new_pieces pieces are started (one call could otherwise start max_blocks' worth).
  // The blocks returned are recorded as requested from the peer at `now`.
  std::vector<block> pick(peer_key peer, std::size_t max_blocks, bool peer_choking_us,
                          bool start_new = true,
                          std::size_t max_new_pieces = static_cast<std::size_t>(-1),
                          time_point now = {});
  // A block arrived. `accepted` only when it was requested from this peer: anything else
  // (never asked, cancelled in endgame, timed out and asked elsewhere) is not taken.
  receive_result on_block(peer_key peer, const block& b, time_point now = {});
  // A reject, or a choke that dropped the request: the block is free again (unless another
  // peer still has it requested in endgame). A late arrival is then `unrequested`. Returns
  // whether the block was requested from the peer.
  bool on_request_failed(peer_key peer, const block& b, time_point now = {});
  // All of the peer's outstanding requests fail (a choke without the fast extension).
  void release_peer_requests(peer_key peer);
  // Requests to the peer sent before now - timeout are given up (their blocks freed as by
  // on_request_failed, oldest first); returns them. The peer is still waited for (see
  // waiting_since): a timeout is not an answer.
  std::vector<block> expire_requests(peer_key peer, time_point now,
                                     std::chrono::milliseconds timeout);
  // Since when we have been waiting for the peer to answer (a block or a reject) with
  // requests outstanding; nullopt when we wait for nothing. Input of is_snubbed().
  std::optional<time_point> waiting_since(peer_key peer) const;
  std::size_t outstanding(peer_key peer) const;
  // Requests in flight to every peer.
  std::size_t outstanding_total() const { return outstanding_total_; }
  // Pieces started and not yet ours: with blocks requested or received, or complete and
  // awaiting set_have()/hash_failed(). Each needs a piece buffer at the caller.
  std::size_t pieces_in_progress() const { return downloading_.size(); }
  // Blocks of the pieces in progress that nobody is asked for (O(pieces in progress)).
  std::size_t free_blocks_in_progress() const;
  std::vector<block> outstanding_blocks(peer_key peer) const;

  void set_sequential(bool on) { sequential_ = on; }
  bool sequential() const { return sequential_; }
  // Strict endgame: no block is free any more — the rest is in flight or awaiting its hash
  // check — and we are not done. A failed hash or request ends it again.
  bool in_endgame() const { return !complete() && free_blocks_ == 0; }

  std::uint32_t piece_count() const { return piece_count_; }
  std::uint32_t block_size() const { return block_size_; }
  std::uint32_t piece_size(std::uint32_t piece) const;
  std::uint32_t block_count(std::uint32_t piece) const;
  block block_at(std::uint32_t piece, std::uint32_t index) const;

  // Cross-checks every internal structure; returns a description of the first violation or
  // an empty string. O(pieces + blocks); for tests and debug builds.
  std::string check_invariants() const;

 private:
  enum class piece_state : std::uint8_t { none, downloading, complete, have };
  enum class block_state : std::uint8_t { free, requested, received };

  struct block_slot {
    peer_key peer = 0;  // requester (the first one in endgame), or the sender once received
    block_state state = block_state::free;
  };
  struct downloading_piece {
    std::vector<block_slot> blocks;
    // Endgame only: (block index, peer) for requesters beyond block_slot::peer.
    std::vector<std::pair<std::uint32_t, peer_key>> extra;
    std::uint32_t free = 0;
    std::uint32_t received = 0;
  };
  struct request_slot {
    std::uint32_t piece = 0, index = 0;
    time_point sent{};
    bool is(std::uint32_t p, std::uint32_t i) const { return piece == p && index == i; }
  };
  struct peer_entry {
    std::vector<std::uint64_t> bits;  // empty for seeds and until the first have
    std::uint32_t count = 0;          // pieces in bits
    std::uint32_t lacking = 0;        // pieces in bits that we do not have
    bool seed = false;
    std::vector<std::uint32_t> allowed_fast;
    // (piece, block index), oldest first; answers mostly come in that order, so the one
    // forgotten is usually the front: O(1) in a deque, a move of up to 500 in a vector.
    std::deque<request_slot> requests;
    std::optional<time_point> waiting_since;  // see waiting_since()
  };

  // availability buckets (availability.cpp)
  void bucket_increment(std::uint32_t piece);
  void bucket_decrement(std::uint32_t piece);
  void bucket_remove(std::uint32_t piece);
  void trim_buckets();
  void become_seed(peer_entry& p);

  // requests (pick.cpp, blocks.cpp)
  peer_entry& entry(peer_key peer);
  const peer_entry& entry(peer_key peer) const;
  bool entry_has(const peer_entry& p, std::uint32_t piece) const;
  bool can_start(std::uint32_t piece) const {
    return state_[piece] == piece_state::none && new_pieces_left_ > 0;
  }
  std::size_t take_free(peer_key peer, peer_entry& p, std::uint32_t piece, std::size_t max,
                        std::vector<block>& out);
  void pick_partials(peer_key peer, peer_entry& p, std::size_t max, std::vector<block>& out);
  void pick_rarest(peer_key peer, peer_entry& p, std::size_t max, std::vector<block>& out);
  void pick_sequential(peer_key peer, peer_entry& p, std::size_t max, std::vector<block>& out);
  void pick_allowed_fast(peer_key peer, peer_entry& p, std::size_t max, std::vector<block>& out);
  void pick_endgame(peer_key peer, peer_entry& p, std::size_t max, bool choked,
                    std::vector<block>& out);
  bool requested_by(const downloading_piece& d, std::uint32_t index, peer_key peer) const;
  void release_block(std::uint32_t piece, std::uint32_t index, peer_key peer);
  void forget_request(peer_entry& p, std::uint32_t piece, std::uint32_t index);
  void add_request(peer_entry& p, std::uint32_t piece, std::uint32_t index);
  // An answer came (a block or a reject): the wait starts again from `now` if more is asked.
  static void answered(peer_entry& p, time_point now);
  std::uint64_t next_random();

  std::uint32_t piece_count_;
  std::uint32_t piece_length_;
  std::uint64_t total_size_;
  std::uint32_t block_size_;
  std::uint32_t blocks_per_piece_;
  std::uint64_t rng_state_;
  bool sequential_ = false;
  std::size_t new_pieces_left_ = 0;  // during pick(): pieces it may still start
  time_point now_{};                 // during pick(): when its requests are sent
  std::size_t outstanding_total_ = 0;

  // Wanted pieces (not `have`) sorted into buckets by non-seed availability: bucket a is
  // order_[starts_[a] .. starts_[a+1]), and starts_.back() is the number of wanted pieces.
  // Pieces we have sit after that. Seeds raise every piece equally, so they are only counted.
  std::vector<std::uint32_t> order_;
  std::vector<std::uint32_t> pos_;  // index of each piece in order_
  std::vector<std::uint32_t> avail_;
  std::vector<std::uint32_t> starts_;
  std::vector<piece_state> state_;
  std::uint32_t seeds_ = 0;

  std::map<std::uint32_t, downloading_piece> downloading_;  // ordered: sequential, determinism
  std::unordered_map<peer_key, peer_entry> peers_;
  std::uint64_t free_blocks_ = 0;  // free blocks in pieces we do not have
  std::uint32_t have_count_ = 0;
  std::uint64_t have_bytes_ = 0;
  std::uint32_t first_missing_ = 0;  // sequential mode starts its scan here
};

// How many blocks to keep requested from a peer: enough to cover `queue_seconds` of its
// measured download rate (libtorrent's request_queue_time idea), at least 2 so a new or slow
// peer still has one block in flight while another arrives, at most 500 and at most the
// peer's BEP 10 `reqq` when it announced one.
std::size_t desired_queue(double rate_bytes_per_s, std::optional<std::uint32_t> reqq,
                          std::uint32_t block_size = default_block_size,
                          double queue_seconds = 3.0);

// The anti-snubbing rule (the only one: the choker takes its result): a peer is snubbed when
// it unchokes us and has our requests outstanding, yet nothing arrived for `snub_after`.
// `since` is piece_picker::waiting_since(): the last answer (block or reject) from it, or the
// moment its queue last became non-empty after one. Times share any epoch.
bool is_snubbed(bool peer_choking_us, std::size_t outstanding, std::chrono::milliseconds now,
                std::chrono::milliseconds since,
                std::chrono::milliseconds snub_after = std::chrono::seconds(60));

}  // namespace peerwire::picker
