// The public face of the engine: a session runs torrents on its own network thread (plus a
// small disk/hash pool); the application adds torrents, polls status snapshots and stops it.
// No Asio in this header.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "peerwire/metainfo.hpp"

namespace peerwire {

struct session_settings {
  std::string bind_address = "0.0.0.0";
  std::uint16_t listen_port = 0;  // 0: 6881-6889, then any free port
  std::size_t max_peers_per_torrent = 50;
  std::size_t max_peers_total = 200;
  // Regular upload slots per torrent (tit-for-tat; round robin when seeding), plus one
  // optimistic unchoke. 8, like libtorrent's unchoke_slots_limit.
  std::size_t upload_slots = 8;
  double upload_limit = 0;    // bytes/s, 0 = unlimited
  double download_limit = 0;  // bytes/s, 0 = unlimited
  unsigned disk_threads = 2;
  // Memory for the buffers of pieces being downloaded (received blocks, then hashing and
  // writing): a torrent starts a new piece only while its pieces in progress fit in this,
  // and always may have 4. When the disk is slower than the network the requests stop
  // instead of the memory growing.
  std::size_t piece_memory = 8u << 20;
  // Verified pieces are written with O_DIRECT where aligned (storage_options::direct_writes).
  bool direct_io = false;
  // Files are allocated in full when a download creates them (storage_options::preallocate),
  // as Transmission and aria2 do by default; false leaves them sparse (libtorrent's default).
  bool preallocate = true;
  std::chrono::seconds resume_interval{30};
  // --trace: every message in and out, "peer -> text" (called on the network thread).
  std::function<void(const std::string& peer, bool outgoing, const std::string& text)> trace;
  // Human-readable notes (tracker warnings, bans, disk errors), called on the network thread.
  std::function<void(const std::string& torrent, const std::string& text)> log;
  // Trackers (BEP 12): by default the tiers are tried in order and the first tracker that
  // answers ends the announce; with this set every tier is announced to, in parallel (like
  // libtorrent's announce_to_all_tiers).
  bool announce_to_all_tiers = false;
  // UDP trackers (BEP 15): first retransmission after this, doubling, udp_tracker_retransmits
  // times (BEP 15 allows 8; fewer means a dead tracker costs 15+30+60 s before the next one).
  std::chrono::milliseconds udp_tracker_timeout{15000};
  int udp_tracker_retransmits = 2;
  // A tracker that failed is skipped for this long, doubling per failure up to the cap.
  std::chrono::seconds tracker_backoff{30};
  std::chrono::seconds tracker_backoff_cap{3600};
  // Test hooks: shorter timers.
  // While paused for a full or read-only disk (torrent_state::paused_disk): how often the
  // failed write is tried again.
  std::chrono::milliseconds disk_retry_interval{5000};
  std::chrono::milliseconds tick{250};            // choking, timeouts, connecting, status snapshots
  std::chrono::seconds announce_interval_cap{0};  // when non-zero, re-announce at least this often
  std::chrono::seconds pex_interval{60};          // BEP 11: at most one PEX message a minute
};

enum class seed_goal_kind { forever, ratio, minutes, none };
struct seed_goal {
  seed_goal_kind kind = seed_goal_kind::forever;
  double value = 0;
};

// A torrent known only by its info-hash (a magnet link, BEP 9): the metadata is fetched from
// peers that have it, verified against the info-hash, then the download starts.
struct magnet_source {
  sha1_hash info_hash;
  std::string display_name;                        // "dn", shown until the metadata arrives
  std::vector<std::vector<std::string>> trackers;  // "tr", one tier each (BEP 12 style)
  std::int64_t max_metadata_size = 64 << 20;       // a larger "metadata_size" is refused
};

struct add_torrent_params {
  metainfo torrent;                     // ignored when `magnet` is set
  std::optional<magnet_source> magnet;  // download by info-hash: metadata from peers
  // Where to write the .torrent once the metadata arrived (magnet downloads only).
  std::optional<std::filesystem::path> save_torrent;
  std::filesystem::path save_path;
  std::vector<std::string> peers;  // "host:port" to dial (with or without trackers)
  bool sequential = false;
  bool recheck = false;  // ignore resume data and check every piece
  seed_goal goal;
  std::optional<std::filesystem::path> resume_file;  // default: SAVE/.peerwire/<hash>.resume
};

// paused_disk: a write failed because the disk is full or not writable; verified data and
// resume data are kept, nothing is requested, and the write is retried every
// disk_retry_interval until it succeeds (then downloading resumes).
enum class torrent_state { metadata, checking, downloading, seeding, finished, error, paused_disk };

struct torrent_status {
  std::string name;
  std::string info_hash;
  torrent_state state = torrent_state::checking;
  std::string error;                // when state is error or paused_disk: the reason
  std::int64_t total_size = 0;      // content bytes (without padding)
  std::int64_t verified_bytes = 0;  // of the content
  std::uint32_t pieces_have = 0, piece_count = 0;
  double checking_progress = 0;               // 0..1 while checking
  double metadata_progress = 0;               // 0..1 while fetching the metadata
  std::int64_t metadata_size = 0;             // bytes of the info dict, once a peer said
  std::int64_t downloaded = 0;                // payload bytes received this session
  std::int64_t uploaded = 0;                  // payload bytes sent this session
  double download_rate = 0, upload_rate = 0;  // bytes/s
  std::size_t peers = 0, seeds = 0;
  std::size_t hash_failures = 0, banned_peers = 0;
  std::string tracker_message;  // last tracker warning/failure, if any
  std::chrono::seconds active_time{0};
};

class session {
 public:
  explicit session(session_settings settings);
  ~session();  // stops if still running
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  // Starts the network thread and the listener. Returns an error (port busy...) if it cannot.
  result<std::uint16_t> start();
  // Adds a torrent (from any thread). Returns its index in status().
  std::size_t add_torrent(add_torrent_params params);
  // A consistent snapshot, refreshed every tick (any thread).
  std::vector<torrent_status> status() const;
  // True once every torrent reached `finished` or `error`.
  bool all_done() const;
  // Waits up to `max` for all_done(), returning as soon as it becomes true; returns it.
  bool wait_done(std::chrono::milliseconds max) const;
  // Graceful stop: stopped announces (bounded), resume data saved, connections closed. Blocks
  // until the network thread has exited. Safe to call twice.
  void stop();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace peerwire
