// Downloading: requests to peers, blocks into piece buffers, verification on the disk pool,
// and finding the senders of corrupt data.
#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>

#include "torrent.hpp"

namespace peerwire::session_detail {

namespace {
constexpr std::uint32_t block_size = 16 * 1024;
constexpr std::size_t max_unrequested_blocks = 1000;  // see on_block
}  // namespace

// ---- downloading -------------------------------------------------------------------------

void torrent::fill_requests(peer_entry& p) {
  if (state_ != torrent_state::downloading || stopping_) return;
  if (!p.conn->state().am_interested) return;
  bool choked = p.conn->state().peer_choking;
  // While choked only the peer's allowed-fast pieces may be asked for (BEP 6); in sequential
  // mode those would jump the order, so we wait for the unchoke.
  if (choked && (!p.conn->fast_enabled() || params_.sequential)) return;
  auto now = host_.now();
  std::size_t want = picker::desired_queue(p.down.rate(now), p.reqq, block_size);
  // In endgame every request duplicates one in flight elsewhere: a few per peer finish the
  // torrent just as fast, a full pipeline only multiplies the wasted bytes.
  if (picker_.in_endgame()) want = std::min<std::size_t>(want, 4);
  std::size_t outstanding = picker_.outstanding(p.key);
  if (outstanding >= want) return;
  std::size_t room = want - outstanding;
  if (!download_bucket_.unlimited()) {
    // Blocks asked for but not yet here are paid for on arrival: only ask for what the tokens
    // cover, counting every peer's requests in flight, or a fast start asks for everything
    // while the bucket still holds its first burst and the limit is overrun.
    std::uint64_t in_flight = picker_.outstanding_total();
    std::uint64_t affordable = download_bucket_.available(now) / block_size;
    if (affordable <= in_flight) return;
    room = std::min<std::size_t>(room, affordable - in_flight);
  }
  // A new piece needs a buffer: only while the pieces in progress fit in the piece memory.
  std::size_t in_progress = picker_.pieces_in_progress();
  bool start_new = in_progress < piece_buffer_limit();
  if (!start_new) short_of_memory_ = true;
  auto blocks = picker_.pick(p.key, room, choked, start_new,
                             start_new ? piece_buffer_limit() - in_progress : 0, now);
  if (blocks.empty() && !start_new && picker_.free_blocks_in_progress() > 0 &&
      in_progress < piece_buffer_limit() + peers_.size()) {
    // Pieces in progress still need blocks this peer cannot give (it lacks them; their
    // senders may have left): one piece of its own, or it idles, and if every peer is in that
    // position the download stops. Each peer then works on that piece, so this adds at most
    // one piece per peer. (Pieces fully asked for need nothing: their answers, or timeouts,
    // free the memory. A lone seeder used to get a fifth piece there.)
    blocks = picker_.pick(p.key, room, choked, true, 1, now);
  }
  for (const auto& b : blocks) p.conn->send(wire::request{b.piece, b.offset, b.length});
}

void torrent::on_block(peer_entry& p, const wire::piece& m) {
  auto now = host_.now();
  picker::block b{m.index, m.offset, static_cast<std::uint32_t>(m.data.size())};
  // Every payload byte counts as downloaded (and against the download limit), wasted or not,
  // so the counters match what the peers sent.
  downloaded_ += static_cast<std::int64_t>(m.data.size());
  total_down_.add(m.data.size(), now);
  if (!download_bucket_.unlimited()) download_bucket_.consume(m.data.size(), now);
  auto res = picker_.on_block(p.key, b, now);
  if (res.status != picker::received::accepted) {
    // Not requested from this peer (cancelled in endgame, or timed out): dropped. A few such
    // blocks are normal (at most one request queue's worth, 500, arrives after a timeout);
    // a peer that keeps sending more than twice that, beyond what it sent on request, only
    // wastes our bandwidth.
    if (++p.unrequested_blocks > max_unrequested_blocks) {
      p.conn->close(fmt::format("sent over {} blocks we did not request", max_unrequested_blocks));
    }
    return;
  }
  if (p.unrequested_blocks > 0) --p.unrequested_blocks;
  p.snubbed = false;
  p.down.add(m.data.size(), now);
  auto& buf = partial_[b.piece];
  if (buf.data.empty()) {
    buf.data = take_piece_buffer(static_cast<std::size_t>(params_.torrent.piece_size(b.piece)));
    buf.senders.assign(picker_.block_count(b.piece), 0);
  }
  std::copy(m.data.begin(), m.data.end(), buf.data.begin() + b.offset);
  buf.senders[b.offset / picker_.block_size()] = p.key;
  ++buf.blocks_received;
  for (auto other : res.cancel_at) {
    auto o = peers_.find(other);
    if (o != peers_.end()) o->second.conn->send(wire::cancel{b.piece, b.offset, b.length});
  }
  if (res.piece_complete) piece_complete(b.piece);
  fill_requests(p);
}

std::size_t torrent::piece_buffer_limit() const {
  auto piece_length =
      static_cast<std::size_t>(std::max<std::int64_t>(params_.torrent.piece_length, 1));
  return std::max<std::size_t>(4, host_.settings().piece_memory / piece_length);
}

piece_bytes torrent::take_piece_buffer(std::size_t size) {
  piece_bytes data;
  if (!spare_buffers_.empty()) {
    data = std::move(spare_buffers_.back());
    spare_buffers_.pop_back();
  }
  data.resize(size);  // a reused buffer of the same size is not touched
  return data;
}

void torrent::recycle_piece_buffer(piece_bytes&& data) {
  if (state_ == torrent_state::downloading && data.capacity() != 0 &&
      spare_buffers_.size() < piece_buffer_limit()) {
    spare_buffers_.push_back(std::move(data));
  }
}

void torrent::piece_complete(std::uint32_t piece) {
  auto node = partial_.extract(piece);
  if (node.empty()) return;
  auto buffer = std::make_shared<piece_buffer>(std::move(node.mapped()));
  auto verifier = verifier_;
  auto storage = storage_;
  auto write_mutex = write_mutex_;
  ++hashing_;
  // Hash, and write only a piece that verified: nothing unverified ever reaches the disk.
  on_disk(
      [=] {
        const auto& data = buffer->data;
        bool ok = verifier->verify_piece(piece, std::span(data.data(), data.size()));
        std::optional<storage::storage_error> write_error;
        if (ok) {
          // One writer at a time: the kernel serialises writes to a file anyway, and a second
          // thread waiting for its inode lock spins on a CPU; here it sleeps (or hashes).
          std::lock_guard lock(*write_mutex);
          auto w = storage->write_piece(piece, data);
          if (!w) write_error = w.error();
        }
        return std::pair{ok, write_error};
      },
      [this, piece, buffer](auto r) { piece_verified(piece, r.first, r.second, buffer); });
}

void torrent::piece_verified(std::uint32_t piece, bool ok,
                             std::optional<storage::storage_error> write_error,
                             std::shared_ptr<piece_buffer> buffer) {
  --hashing_;
  if (write_error) {
    // A full disk or a read-only/permission problem is often fixed by the user while we
    // wait (space freed, mount made writable): pause and retry. Anything else stops.
    if (write_error->kind == storage::error_kind::disk_full ||
        write_error->kind == storage::error_kind::permission) {
      pause_for_disk(piece, *write_error, std::move(buffer));
    } else {
      fail("cannot write piece " + std::to_string(piece) + ": " + write_error->message);
    }
    return;
  }
  if (!ok) {
    ++hash_failures_;
    auto contributors = picker_.hash_failed(piece);
    note(fmt::format("piece {} failed the hash check ({} peer(s) sent it)", piece,
                     contributors.size()));
    if (contributors.size() == 1) {
      ban(contributors.front(), "sent a piece that failed the hash check");
    } else if (failed_.size() < 64) {  // bounded memory: at most 64 suspect pieces kept
      failed_[piece] = {std::move(buffer->data), std::move(buffer->senders)};
    }
    recycle_piece_buffer(std::move(buffer->data));
    short_of_memory_ = false;
    for (auto& [k, p] : peers_) fill_requests(p);
    return;
  }
  if (auto f = failed_.find(piece); f != failed_.end()) {
    // The good copy tells which blocks of the bad one were wrong, and who sent them.
    std::uint32_t bs = picker_.block_size();
    std::set<picker::peer_key> liars;
    for (std::size_t i = 0; i < f->second.senders.size(); ++i) {
      std::size_t off = i * bs;
      std::size_t len = std::min<std::size_t>(bs, buffer->data.size() - off);
      if (!std::equal(buffer->data.begin() + static_cast<std::ptrdiff_t>(off),
                      buffer->data.begin() + static_cast<std::ptrdiff_t>(off + len),
                      f->second.data.begin() + static_cast<std::ptrdiff_t>(off))) {
        liars.insert(f->second.senders[i]);
      }
    }
    failed_.erase(f);
    for (auto k : liars) ban(k, "sent corrupt blocks (found by comparing with the verified piece)");
  }
  picker_.set_have(piece);
  recycle_piece_buffer(std::move(buffer->data));
  verified_bytes_ =
      std::min(verified_bytes_ + params_.torrent.piece_size(piece), params_.torrent.content_size());
  resume_dirty_ = true;
  // A piece in flight when we paused was written after all: the disk has room again, so
  // retry the kept piece now rather than at the next interval.
  if (state_ == torrent_state::paused_disk) next_disk_retry_ = host_.now();
  for (auto& [k, p] : peers_) {
    p.conn->send(wire::have{piece});
    update_interest(p);
  }
  if (short_of_memory_) {
    short_of_memory_ = false;
    for (auto& [k, p] : peers_) fill_requests(p);
  }
  maybe_finish_download();
}

void torrent::ban(picker::peer_key key, const std::string& why) {
  auto it = peers_.find(key);
  if (it == peers_.end()) {
    // Already gone: its peer id was recorded when it attached.
    if (auto n = peer_ids_.find(key); n != peer_ids_.end()) banned_ids_.insert(n->second);
    return;
  }
  if (it->second.conn->remote_handshake())
    banned_ids_.insert(it->second.conn->remote_handshake()->id);
  for (auto& c : candidates_) {
    if (it->second.conn->outgoing() && c.address == it->second.conn->remote()) c.banned = true;
  }
  note("banned " + it->second.conn->peer_name() + ": " + why);
  it->second.conn->close("banned: " + why);
}

void torrent::maybe_finish_download() {
  if (!picker_.complete() || hashing_ > 0) return;
  if (state_ == torrent_state::downloading) {
    state_ = torrent_state::seeding;
    spare_buffers_.clear();  // seeding needs no piece buffers
    spare_buffers_.shrink_to_fit();
    seeding_since_ = host_.now();
    note("download complete");
    save_resume();  // on the disk pool; see save_resume for what is synced
    for (auto& [k, p] : peers_) {
      update_interest(p);
      if (p.conn->is_open()) p.conn->update_torrent(ref());  // "upload_only" in its handshake
    }
    if (!completed_announced_) {
      completed_announced_ = true;
      asio::co_spawn(host_.executor(), announce_once(tracker::event::completed), asio::detached);
    }
  } else if (state_ == torrent_state::seeding && seeding_since_ == steady::time_point{}) {
    seeding_since_ = host_.now();
  }
  if (params_.goal.kind == seed_goal_kind::none) {
    state_ = torrent_state::finished;
    host_.torrent_done();
  }
}

// ---- disk full / not writable --------------------------------------------------------------

void torrent::pause_for_disk(std::uint32_t piece, const storage::storage_error& e,
                             std::shared_ptr<piece_buffer> buffer) {
  // The piece verified but is not (or only partly) on disk: the picker forgets it, so nothing
  // counts it as downloaded; nobody is blamed (hash_failed's list of senders is ignored). One
  // such piece is kept in memory to retry the write with; any others are fetched again.
  picker_.hash_failed(piece);
  if (!disk_retry_buffer_) {
    disk_retry_piece_ = piece;
    disk_retry_buffer_ = std::move(buffer);
  }
  if (state_ != torrent_state::downloading) return;  // already paused, or stopped
  state_ = torrent_state::paused_disk;
  error_ = fmt::format("cannot write piece {}: {}", piece, e.message);
  auto interval = host_.settings().disk_retry_interval;
  next_disk_retry_ = host_.now() + interval;
  note(fmt::format("paused: {}; the verified data is kept, retrying every {:.1f} s", error_,
                   static_cast<double>(interval.count()) / 1000.0));
  // Stop downloading: every outstanding request is withdrawn (its block is free again in the
  // picker), and fill_requests asks for nothing until the write succeeds.
  for (auto& [k, p] : peers_) {
    for (const auto& b : picker_.outstanding_blocks(k))
      p.conn->send(wire::cancel{b.piece, b.offset, b.length});
    picker_.release_peer_requests(k);
  }
}

void torrent::retry_disk_write(steady::time_point now) {
  if (state_ != torrent_state::paused_disk || disk_retrying_ || now < next_disk_retry_) return;
  if (!disk_retry_buffer_) {  // nothing to probe with (cannot happen): just try downloading
    disk_write_retried(std::nullopt);
    return;
  }
  disk_retrying_ = true;
  auto storage = storage_;
  auto piece = disk_retry_piece_;
  auto buffer = disk_retry_buffer_;
  on_disk(
      [=] {
        std::optional<storage::storage_error> error;
        auto w = storage->write_piece(piece, buffer->data);
        if (!w) error = w.error();
        return error;
      },
      [this](auto error) { disk_write_retried(error); });
}

void torrent::disk_write_retried(std::optional<storage::storage_error> e) {
  disk_retrying_ = false;
  if (state_ != torrent_state::paused_disk) return;  // stopped meanwhile
  if (e) {
    if (e->kind != storage::error_kind::disk_full && e->kind != storage::error_kind::permission) {
      fail("cannot write piece " + std::to_string(disk_retry_piece_) + ": " + e->message);
      return;
    }
    error_ = fmt::format("cannot write piece {}: {}", disk_retry_piece_, e->message);
    next_disk_retry_ = host_.now() + host_.settings().disk_retry_interval;
    return;
  }
  // The kept piece (verified before the pause) is on disk now.
  std::uint32_t piece = disk_retry_piece_;
  bool kept = disk_retry_buffer_ != nullptr;
  disk_retry_buffer_.reset();
  state_ = torrent_state::downloading;
  error_.clear();
  note("the disk is writable again: downloading resumes");
  if (kept && !picker_.have(piece)) {
    partial_.erase(piece);  // a stray copy being collected again is superseded
    picker_.set_have(piece);
    verified_bytes_ = std::min(verified_bytes_ + params_.torrent.piece_size(piece),
                               params_.torrent.content_size());
    resume_dirty_ = true;
    for (auto& [k, p] : peers_) {
      p.conn->send(wire::have{piece});
      update_interest(p);
    }
  }
  for (auto& [k, p] : peers_) fill_requests(p);
  maybe_finish_download();
}

}  // namespace peerwire::session_detail
