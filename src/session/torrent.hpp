// One torrent inside a session (network thread only): ties the pure decision makers (picker,
// choker) to the peer connections, the disk pool and the trackers.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <type_traits>
#include <unordered_map>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include "address_io.hpp"
#include "peer_connection.hpp"
#include "peerwire/choker.hpp"
#include "peerwire/ext_metadata.hpp"
#include "peerwire/ext_pex.hpp"
#include "peerwire/picker.hpp"
#include "peerwire/rate.hpp"
#include "peerwire/resume.hpp"
#include "peerwire/session.hpp"
#include "peerwire/storage.hpp"
#include "peerwire/tracker.hpp"
#include "peerwire/tracker_tiers.hpp"
#include "piece_bytes.hpp"
#include "piece_cache.hpp"
#include "piece_verifier.hpp"

namespace peerwire::tracker {
class udp_tracker;
}

namespace peerwire::session_detail {

namespace asio = boost::asio;
using steady = std::chrono::steady_clock;
using peer::peer_connection;

// What the torrent needs from its session (injected, so a torrent is testable on its own).
class torrent_host {
 public:
  virtual ~torrent_host() = default;
  virtual asio::any_io_executor executor() = 0;
  // The one clock of the torrent layer: every time the torrent keeps or compares comes from
  // here (the session's steady clock; a test's fake clock).
  virtual steady::time_point now() const = 0;
  virtual asio::thread_pool& disk_pool() = 0;
  virtual std::shared_ptr<peer_connection> dial(const peer_address& to,
                                                const sha1_hash& info_hash) = 0;
  virtual const session_settings& settings() const = 0;
  virtual std::uint16_t listen_port() const = 0;
  virtual const wire::peer_id& peer_id() const = 0;
  virtual std::size_t total_connections() const = 0;
  virtual void log(const std::string& torrent, const std::string& text) = 0;
  // The session's UDP tracker client (one shared socket); null when no UDP socket could be
  // opened, with the reason in udp_error().
  virtual tracker::udp_tracker* udp_tracker() = 0;
  virtual std::string udp_error() const = 0;
  // The torrent reached `finished` or `error`: the session publishes its status now rather
  // than at the next tick, so a waiting caller (session::wait_done) returns at once.
  virtual void torrent_done() = 0;
};

// Requests held per peer (waiting for the disk or read but unsent); more are refused. Our
// extension handshake promises this as "reqq", so a peer that honours it is never refused.
inline constexpr std::size_t served_queue_limit = 500;

// The picker for `m`; a one-piece placeholder while a magnet torrent has no metadata.
picker::piece_picker make_picker(const metainfo& m);

class torrent : public std::enable_shared_from_this<torrent> {
 public:
  torrent(torrent_host& host, add_torrent_params params);

  void start();  // check existing data, then download/seed
  void attach(std::shared_ptr<peer_connection> c);
  void detach(peer_connection& c);
  peer::torrent_ref ref() const;  // for greetings
  const sha1_hash& info_hash() const { return info_hash_; }
  void tick(steady::time_point now);
  // Graceful stop: sends the stopped announce (bounded) and saves resume data; calls done().
  void stop(std::function<void()> done);
  torrent_status status(steady::time_point now) const;
  bool done() const { return state_ == torrent_state::finished || state_ == torrent_state::error; }

 private:
  // A request we accepted and will answer, in arrival order. Its data is looked up (read cache)
  // or read only when it comes within a small window of the send queue, so a peer's 500
  // queued requests do not pin 500 blocks' worth of pieces in memory.
  struct pending_read {
    wire::request req;
    bool cancelled = false;  // its reject went out with the cancel: dropped, never sent
    bool reading = false;    // a block read (pieces too large to cache) is on the disk pool
    bool failed = false;     // the read failed: answered with a reject
    std::shared_ptr<const read_buffer> data;  // once known: holds the block at `at`
    std::size_t at = 0;
  };
  // A block read for a peer: `data` holds it at `at` (a cached whole piece, or the block).
  struct ready_block {
    wire::request req;
    piece_cache::piece_data data;
    std::size_t at = 0;
  };
  struct peer_entry {
    std::shared_ptr<peer_connection> conn;
    picker::peer_key key = 0;
    choker::rate_meter down, up;
    steady::time_point connected_at;
    // Our requests to it are kept by the picker (picker_.outstanding(key) and friends).
    std::deque<pending_read> serving;  // theirs to us, waiting for their data or the socket
    std::deque<ready_block> ready;     // data in hand, next to send (bounded, see pump_uploads)
    // resolve_requests runs once per block sent: it starts where it stopped (the first
    // `serving_seen` requests, `serving_seen_bytes` long, have their data or a read under way)
    // instead of walking the queue each time. Change `serving`/`ready` through these only.
    std::size_t ready_bytes = 0;
    std::size_t serving_seen = 0, serving_seen_bytes = 0;
    void pop_serving() {
      if (serving_seen > 0) {
        --serving_seen;
        serving_seen_bytes -= serving.front().req.length;
      }
      serving.pop_front();
    }
    void push_ready(ready_block b) {
      ready_bytes += b.req.length;
      ready.push_back(std::move(b));
    }
    void pop_ready() {
      ready_bytes -= ready.front().req.length;
      ready.pop_front();
    }
    template <class Pred>
    std::size_t drop_ready_if(Pred pred) {  // keeps the order of the others; returns the count
      auto keep = std::stable_partition(ready.begin(), ready.end(),
                                        [&](const ready_block& b) { return !pred(b); });
      auto n = static_cast<std::size_t>(ready.end() - keep);
      for (auto it = keep; it != ready.end(); ++it) ready_bytes -= it->req.length;
      ready.erase(keep, ready.end());
      return n;
    }
    std::uint32_t reqq = 250;
    bool snubbed = false;  // picker::is_snubbed, updated each tick (expire_requests)
    // Abuse counters (see on_request, on_block): requests refused in a row, and blocks it
    // sent that we never asked for (minus the requested ones since).
    std::size_t refused_in_a_row = 0;
    std::size_t unrequested_blocks = 0;
    std::vector<std::uint32_t> allowed_fast;  // BEP 6: pieces we serve while choking it
    // BEP 9, while fetching the metadata: pieces asked of this peer and when.
    std::vector<std::pair<std::uint32_t, steady::time_point>> metadata_requests;
    steady::time_point metadata_retry{};  // after a reject: ask this peer again only then
    // BEP 11: what this peer was last told about our other peers, and when.
    std::unique_ptr<ext::pex_tracker> pex;
    steady::time_point next_pex{};
    steady::time_point last_pex_in{};  // incoming PEX faster than half our interval is ignored
  };
  struct piece_buffer {
    piece_bytes data;
    std::uint32_t blocks_received = 0;
    std::vector<picker::peer_key> senders;  // per block: who sent it
  };
  // A piece that failed its hash while several peers had sent blocks of it: nobody can be
  // blamed yet. When the piece later verifies, the blocks that differ from this copy name
  // the liars (an honest peer that shared a bad piece is never punished).
  struct failed_piece {
    piece_bytes data;
    std::vector<picker::peer_key> senders;
  };
  struct candidate {
    peer_address address;
    steady::time_point next_attempt{};
    int failures = 0;
    bool connected = false;
    bool banned = false;
    bool from_pex = false;  // learnt from a peer, not a tracker: capped, dropped if private
  };

  void on_message(peer_entry& p, const wire::message& m);
  // BEP 10 messages (torrent_metadata.cpp, torrent_pex.cpp).
  void on_extended(peer_entry& p, const wire::extended& m);
  void on_metadata_message(peer_entry& p, std::span<const std::uint8_t> payload);
  void request_metadata(peer_entry& p, steady::time_point now);
  void expire_metadata_requests(steady::time_point now);
  void metadata_received(std::string info_dict);
  std::filesystem::path metadata_cache_path() const;  // SAVE/.peerwire/<info-hash>.torrent
  bool load_cached_metadata();
  void send_allowed_fast(peer_entry& p);
  void on_pex(peer_entry& p, std::span<const std::uint8_t> payload);
  void send_pex(steady::time_point now);
  void start_announcing();
  void checked_peers();
  void on_block(peer_entry& p, const wire::piece& m);
  void on_request(peer_entry& p, const wire::request& r);
  void update_interest(peer_entry& p);
  void fill_requests(peer_entry& p);
  void pump_uploads(peer_entry& p);
  void pump_all_uploads();
  // A whole-piece read for uploads completed (or failed): serves every request waiting for it.
  void piece_read(std::uint32_t piece, piece_cache::piece_data data);
  // Finds or starts the data of the first requests of `p` (a window of about one send queue)
  // and moves those whose data is in hand, in order, to `ready`.
  void resolve_requests(peer_entry& p);
  bool send_one_upload(peer_entry& p, steady::time_point now);
  void piece_complete(std::uint32_t piece);
  // Piece buffers for downloads (see session_settings::piece_memory): how many pieces may be
  // in progress, and a small pool so a piece costs no allocation (and no page faults).
  std::size_t piece_buffer_limit() const;
  piece_bytes take_piece_buffer(std::size_t size);
  void recycle_piece_buffer(piece_bytes&& data);
  void piece_verified(std::uint32_t piece, bool ok,
                      std::optional<storage::storage_error> write_error,
                      std::shared_ptr<piece_buffer> buffer);
  // Disk full / not writable: pause instead of failing (torrent_state::paused_disk).
  void pause_for_disk(std::uint32_t piece, const storage::storage_error& e,
                      std::shared_ptr<piece_buffer> buffer);
  void retry_disk_write(steady::time_point now);
  void disk_write_retried(std::optional<storage::storage_error> e);
  void ban(picker::peer_key key, const std::string& why);
  void rechoke(steady::time_point now);
  void slot_freed();
  void expire_requests(steady::time_point now);
  void connect_more(steady::time_point now);
  void maybe_finish_download();
  void save_resume(std::function<void()> done = {});
  void fail(const std::string& message);
  void add_candidates(const std::vector<tracker::peer_endpoint>& peers, bool from_pex = false);
  asio::awaitable<void> announce_loop();
  asio::awaitable<void> announce_once(tracker::event ev);
  // One BEP 12 tier: its trackers in order until one answers; the interval on success.
  asio::awaitable<std::optional<std::chrono::seconds>> announce_tier(std::size_t tier,
                                                                     tracker::announce_request req);
  asio::awaitable<result<tracker::announce_response>> announce_to(std::string url,
                                                                  tracker::announce_request req);
  void note(const std::string& text);
  std::int64_t left() const;
  // Runs `work()` on the disk pool, then `done(result)` (or `done()` for void work) back on
  // the network thread, unless the torrent was removed meanwhile. Whatever the two need from
  // the torrent they capture by value: the work must not touch its members.
  template <class Work, class Done>
  void on_disk(Work work, Done done);

  torrent_host& host_;
  add_torrent_params params_;
  sha1_hash info_hash_;
  std::shared_ptr<storage::disk_storage> storage_;
  std::shared_ptr<const piece_verifier> verifier_;  // once the metadata is known (start)
  picker::piece_picker picker_;
  choker::choker choker_;
  choker::token_bucket upload_bucket_, download_bucket_;
  choker::rate_meter total_down_, total_up_;
  torrent_state state_ = torrent_state::checking;
  std::string error_;
  double checking_progress_ = 0;
  std::map<picker::peer_key, peer_entry> peers_;
  picker::peer_key next_key_ = 1;
  std::unordered_map<std::uint32_t, piece_buffer> partial_;
  std::size_t hashing_ = 0;                 // pieces on the disk pool
  std::vector<piece_bytes> spare_buffers_;  // at most piece_buffer_limit()
  std::shared_ptr<std::mutex> write_mutex_ = std::make_shared<std::mutex>();  // piece writes
  // A peer got fewer requests than it could take because the piece memory was spent: when a
  // piece leaves memory every peer is offered requests again.
  bool short_of_memory_ = false;
  std::vector<candidate> candidates_;
  std::set<wire::peer_id> banned_ids_;
  std::unordered_map<std::uint32_t, failed_piece> failed_;  // bounded: see piece_verified
  std::map<picker::peer_key, wire::peer_id> peer_ids_;      // for bans of departed peers
  std::size_t hash_failures_ = 0;
  std::int64_t downloaded_ = 0, uploaded_ = 0;                // this session
  std::int64_t downloaded_before_ = 0, uploaded_before_ = 0;  // from resume data
  std::int64_t verified_bytes_ = 0;
  steady::time_point started_at_ = host_.now();
  steady::time_point seeding_since_{};
  steady::time_point last_resume_ = host_.now();
  std::string tracker_message_;
  steady::time_point next_announce_ = host_.now();
  std::optional<std::string> tracker_id_;
  tracker::tier_list tiers_;  // made (and shuffled) when announcing starts
  bool tiers_made_ = false;
  std::uint32_t tracker_key_ = 0;
  bool completed_announced_ = false;
  std::size_t upload_turn_ = 0;
  std::unique_ptr<asio::steady_timer> announce_timer_;
  std::shared_ptr<std::atomic<bool>> check_stop_ = std::make_shared<std::atomic<bool>>(false);
  bool saving_ = false, save_again_ = false;
  std::vector<std::function<void()>> save_waiters_;
  // Whole pieces recently read for uploads (8 MiB at most, shared with the disk threads).
  std::shared_ptr<piece_cache> read_cache_ = std::make_shared<piece_cache>(8u << 20);
  std::shared_ptr<buffer_recycler> read_recycler_ = std::make_shared<buffer_recycler>(8u << 20);
  std::set<std::uint32_t> reading_;  // pieces being read into the cache for uploads
  // Bytes of all read buffers alive. A queued block keeps its whole cached piece alive; past
  // max_pinned_bytes (torrent_upload.cpp) blocks are copied out instead, so a peer asking one
  // block of each of many pieces cannot make us hold all those pieces.
  std::shared_ptr<std::atomic<std::size_t>> read_bytes_live_ =
      std::make_shared<std::atomic<std::size_t>>(0);
  bool stopping_ = false;
  bool resume_dirty_ = false;
  // paused_disk: one verified piece that could not be written, kept to retry the write (the
  // picker no longer counts it as downloaded), when the next retry is due, and whether one
  // is on the disk pool now.
  std::uint32_t disk_retry_piece_ = 0;
  std::shared_ptr<piece_buffer> disk_retry_buffer_;
  steady::time_point next_disk_retry_{};
  bool disk_retrying_ = false;
  bool announcing_ = false;
  bool have_metadata_ = true;                        // false: a magnet torrent still fetching
  std::optional<ext::metadata_assembler> metadata_;  // while fetching, once a size is known
  std::size_t pex_received_ = 0;                     // peers learnt through PEX (status)
  // After metadata from several peers failed its hash, the next attempt takes every piece
  // from one peer, so a failure can be pinned on someone without banning honest peers.
  bool metadata_single_source_ = false;
  std::optional<picker::peer_key> metadata_owner_;
  steady::time_point metadata_progress_at_{};  // last piece accepted (or attempt started)
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

template <class Work, class Done>
void torrent::on_disk(Work work, Done done) {
  asio::post(host_.disk_pool(), [work = std::move(work), done = std::move(done), alive = alive_,
                                 self = shared_from_this(), ex = host_.executor()]() mutable {
    if constexpr (std::is_void_v<decltype(work())>) {
      work();
      asio::post(ex, [done = std::move(done), alive, self]() mutable {
        if (*alive) done();
      });
    } else {
      auto result = work();
      asio::post(ex, [done = std::move(done), alive, self, result = std::move(result)]() mutable {
        if (*alive) done(std::move(result));
      });
    }
  });
}

}  // namespace peerwire::session_detail
