// Seeding: serving requests from disk within the upload limit and the per-peer bounds.
#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <boost/asio/post.hpp>

#include "peerwire/sha1.hpp"
#include "torrent.hpp"

namespace peerwire::session_detail {

namespace {
constexpr std::size_t max_served_queue = served_queue_limit;  // more are rejected
constexpr std::size_t max_send_queue = 1024 * 1024;  // bytes queued on a socket before waiting
constexpr std::size_t max_cached_piece = 4u << 20;   // larger pieces are read block by block
// Read buffers alive beyond this (cache included): cache hits are copied, not shared.
constexpr std::size_t max_pinned_bytes = 32u << 20;
}  // namespace

// ---- seeding -------------------------------------------------------------------------------

namespace {
bool allowed_while_choked(const std::vector<std::uint32_t>& allowed_fast, std::uint32_t piece) {
  return std::find(allowed_fast.begin(), allowed_fast.end(), piece) != allowed_fast.end();
}
}  // namespace

void torrent::on_request(peer_entry& p, const wire::request& r) {
  // BEP 6: pieces of the allowed-fast set are served even while we choke the peer.
  bool allowed = !p.conn->state().am_choking ||
                 (p.conn->fast_enabled() && allowed_while_choked(p.allowed_fast, r.index));
  auto reject = [&] {
    if (p.conn->fast_enabled()) p.conn->send(wire::reject_request{r.index, r.offset, r.length});
  };
  // Requests waiting for the disk and blocks read but not yet sent both count: a peer that
  // stops reading its socket cannot make us hold more than max_served_queue blocks.
  if (!allowed || !picker_.have(r.index) || p.serving.size() + p.ready.size() >= max_served_queue) {
    reject();
    // An honest peer stops asking while choked and keeps within the queue it was told about
    // (reqq); a run of refusals twice that long is a flood, and each one costs us a reject.
    if (++p.refused_in_a_row > 2 * max_served_queue) {
      p.conn->close(
          fmt::format("request flood: {} requests in a row refused (choked, a piece we lack, "
                      "or over {} queued)",
                      p.refused_in_a_row, max_served_queue));
    }
    return;
  }
  p.refused_in_a_row = 0;
  p.serving.push_back({r});
  pump_uploads(p);
}

void torrent::resolve_requests(peer_entry& p) {
  // The window: requests whose data we look up or read ahead of the socket. About one send
  // queue's worth, so the disk stays ahead of the network without pinning much memory.
  if (p.ready_bytes >= max_send_queue / 2 && !p.serving.empty() && !p.serving.front().cancelled) {
    return;  // enough in hand; called again as blocks leave
  }
  std::size_t window = p.ready_bytes + p.serving_seen_bytes;
  // A run of requests for one piece (the usual case) looks the cache up once.
  piece_cache::piece_data last_whole;
  std::uint32_t last_piece = 0;
  while (p.serving_seen < p.serving.size() && window < max_send_queue) {
    auto& s = p.serving[p.serving_seen];
    ++p.serving_seen;
    p.serving_seen_bytes += s.req.length;
    window += s.req.length;
    if (s.cancelled || s.data || s.failed || s.reading) continue;
    auto piece_size = static_cast<std::size_t>(params_.torrent.piece_size(s.req.index));
    if (piece_size <= max_cached_piece) {
      // Whole pieces are cached when small enough that reading one for a single block is
      // cheap; peers ask for a piece block after block, so one read serves them all.
      auto whole =
          last_whole && last_piece == s.req.index ? last_whole : read_cache_->get(s.req.index);
      if (whole) {
        last_whole = whole;
        last_piece = s.req.index;
        if (read_bytes_live_->load(std::memory_order_relaxed) > max_pinned_bytes &&
            s.req.offset + std::size_t{s.req.length} <= whole->size()) {
          // Many pieces are held by queued blocks already: this block gets its own copy.
          auto own = std::make_shared<read_buffer>(s.req.length, read_bytes_live_);
          std::copy_n(whole->span().begin() + s.req.offset, s.req.length, own->span().begin());
          s.data = std::move(own);
          s.at = 0;
        } else {
          s.data = std::move(whole);
          s.at = s.req.offset;
        }
        continue;
      }
      // Being read already: piece_read fills this request too.
      if (!reading_.insert(s.req.index).second) continue;
      auto storage = storage_;
      auto cache = read_cache_;
      auto live = read_bytes_live_;
      auto recycler = read_recycler_;
      auto piece = s.req.index;
      on_disk(
          [=] {
            auto fresh = std::make_shared<read_buffer>(piece_size, live, recycler);
            piece_cache::piece_data data;
            if (storage->read(piece, 0, fresh->span())) {
              cache->put(piece, fresh);
              data = std::move(fresh);
            }
            return data;
          },
          [this, piece](piece_cache::piece_data data) { piece_read(piece, std::move(data)); });
      continue;
    }
    // A huge piece: exactly the block asked for.
    s.reading = true;
    auto storage = storage_;
    auto key = p.key;
    auto r = s.req;
    auto live = read_bytes_live_;
    on_disk(
        [=] {
          auto data = std::make_shared<read_buffer>(r.length, live);
          bool ok = static_cast<bool>(storage->read(r.index, r.offset, data->span()));
          return std::pair{ok, data};
        },
        [this, key, r](auto read) {
          auto [ok, data] = std::move(read);
          auto it = peers_.find(key);
          if (it == peers_.end()) return;
          auto& q = it->second.serving;
          auto e = std::find_if(q.begin(), q.end(), [&](const pending_read& x) {
            return x.reading && x.req.index == r.index && x.req.offset == r.offset &&
                   x.req.length == r.length;
          });
          if (e == q.end()) return;
          e->reading = false;
          if (ok) {
            e->data = std::move(data);
          } else {
            e->failed = true;
            note("cannot read piece " + std::to_string(r.index) + " for a peer");
          }
          pump_uploads(it->second);
        });
  }
  // In order: the front waits for its data, the ones behind it wait for the front.
  while (!p.serving.empty()) {
    auto& s = p.serving.front();
    if (s.cancelled) {  // its reject went out with the cancel
      p.pop_serving();
      continue;
    }
    // The codec bounds offset + length by the piece size; checked again here.
    if (s.data && s.at + s.req.length > s.data->size()) s.failed = true;
    if (s.failed) {
      // BEP 6: every request is answered, by the block or by a reject.
      if (p.conn->fast_enabled())
        p.conn->send(wire::reject_request{s.req.index, s.req.offset, s.req.length});
      p.pop_serving();
      continue;
    }
    if (!s.data) break;
    p.push_ready({s.req, std::move(s.data), s.at});
    p.pop_serving();
  }
}

void torrent::piece_read(std::uint32_t piece, piece_cache::piece_data data) {
  reading_.erase(piece);
  if (!data) note("cannot read piece " + std::to_string(piece) + " for a peer");
  for (auto& [k, p] : peers_) {
    bool waiting = false;
    for (auto& s : p.serving) {
      if (s.req.index != piece || s.cancelled || s.data || s.failed || s.reading) continue;
      if (data) {
        s.data = data;
        s.at = s.req.offset;
      } else {
        s.failed = true;
      }
      waiting = true;
    }
    if (waiting) pump_uploads(p);
  }
}

// Sends at most one block to `p`; false when nothing could be sent (nothing ready, socket
// full, or no upload tokens).
bool torrent::send_one_upload(peer_entry& p, steady::time_point now) {
  if (p.ready.empty() || p.conn->queued_bytes() >= max_send_queue) return false;
  if (p.conn->state().am_choking) {
    // Choked since the request: BEP 6 peers get an explicit reject (except for allowed-fast
    // pieces, which are still served), others just lose it.
    bool fast = p.conn->fast_enabled();
    auto dropped = [&](const ready_block& b) {
      return !fast || !allowed_while_choked(p.allowed_fast, b.req.index);
    };
    if (fast) {
      for (const auto& b : p.ready)
        if (dropped(b)) p.conn->send(wire::reject_request{b.req.index, b.req.offset, b.req.length});
    }
    p.drop_ready_if(dropped);
    if (p.ready.empty()) return false;
  }
  const ready_block& b = p.ready.front();
  std::size_t n = b.req.length;
  if (!upload_bucket_.unlimited() && upload_bucket_.available(now) < n) return false;
  upload_bucket_.consume(n, now);
  // Straight from the read buffer to the socket: the connection keeps `data` alive.
  p.conn->send_piece(b.req.index, b.req.offset, b.data->span().subspan(b.at, n), b.data);
  p.up.add(n, now);
  total_up_.add(n, now);
  uploaded_ += static_cast<std::int64_t>(n);
  p.pop_ready();
  return true;
}

void torrent::pump_uploads(peer_entry& p) {
  if (!upload_bucket_.unlimited()) {
    pump_all_uploads();  // a shared limit must be shared fairly
    return;
  }
  auto now = host_.now();
  for (;;) {
    resolve_requests(p);
    if (!send_one_upload(p, now)) break;
  }
}

// Round robin, one block per peer per pass, starting one peer further each time: with an
// upload limit every unchoked peer gets its share instead of the first one taking it all.
void torrent::pump_all_uploads() {
  if (peers_.empty()) return;
  auto now = host_.now();
  std::vector<peer_entry*> order;
  order.reserve(peers_.size());
  for (auto& [k, p] : peers_) order.push_back(&p);
  std::rotate(order.begin(),
              order.begin() + static_cast<std::ptrdiff_t>(upload_turn_++ % order.size()),
              order.end());
  for (bool progress = true; progress;) {
    progress = false;
    for (auto* p : order) {
      resolve_requests(*p);
      progress = send_one_upload(*p, now) || progress;
    }
  }
}

}  // namespace peerwire::session_detail
