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
  auto storage = storage_;
  auto self = shared_from_this();
  auto alive = alive_;
  auto ex = host_.executor();
  auto key = p.key;
  auto cache = read_cache_;
  auto piece_size = static_cast<std::size_t>(params_.torrent.piece_size(r.index));
  asio::post(host_.disk_pool(), [=] {
    // Whole pieces are cached only when they are small enough that reading one for a single
    // block is cheap; a peer asking one block of each huge piece gets exactly what it asked.
    bool cacheable = piece_size <= max_cached_piece;
    std::vector<std::uint8_t> data;
    bool ok = true;
    if (!cacheable) {
      data.resize(r.length);
      ok = static_cast<bool>(storage->read(r.index, r.offset, data));
    } else {
      auto whole = cache->get(r.index);
      if (!whole) {
        auto fresh = std::make_shared<std::vector<std::uint8_t>>(piece_size);
        ok = static_cast<bool>(storage->read(r.index, 0, *fresh));
        if (ok) cache->put(r.index, fresh);
        whole = std::move(fresh);
      }
      // The codec already bounds offset + length by the piece size; checked again here.
      if (ok && static_cast<std::size_t>(r.offset) + r.length <= whole->size()) {
        data.assign(whole->begin() + r.offset, whole->begin() + r.offset + r.length);
      } else {
        ok = false;
      }
    }
    asio::post(ex, [=, data = std::move(data)]() mutable {
      if (!*alive) return;
      auto it = self->peers_.find(key);
      if (it == self->peers_.end()) return;
      auto& q = it->second.serving;
      auto s = std::find_if(q.begin(), q.end(), [&](const pending_read& x) {
        return x.req.index == r.index && x.req.offset == r.offset && x.req.length == r.length;
      });
      if (s == q.end()) return;
      bool cancelled = s->cancelled;
      q.erase(s);
      if (!ok) {
        self->note("cannot read piece " + std::to_string(r.index) + " for a peer");
        // BEP 6: every request is answered, by the block or by a reject.
        if (!cancelled && it->second.conn->fast_enabled())
          it->second.conn->send(wire::reject_request{r.index, r.offset, r.length});
        return;
      }
      if (!cancelled) {
        it->second.ready.emplace_back(r, std::move(data));
        self->pump_uploads(it->second);
      }
    });
  });
}

// Sends at most one block to `p`; false when nothing could be sent (nothing ready, socket
// full, or no upload tokens).
bool torrent::send_one_upload(peer_entry& p, steady::time_point now) {
  if (p.ready.empty() || p.conn->queued_bytes() >= max_send_queue) return false;
  if (p.conn->state().am_choking) {
    // Choked since the request: BEP 6 peers get an explicit reject (except for allowed-fast
    // pieces, which are still served), others just lose it.
    bool fast = p.conn->fast_enabled();
    auto keep = std::stable_partition(p.ready.begin(), p.ready.end(), [&](const auto& entry) {
      return fast && allowed_while_choked(p.allowed_fast, entry.first.index);
    });
    for (auto it = keep; it != p.ready.end(); ++it) {
      if (fast)
        p.conn->send(wire::reject_request{it->first.index, it->first.offset, it->first.length});
    }
    p.ready.erase(keep, p.ready.end());
    if (p.ready.empty()) return false;
  }
  auto& [req, data] = p.ready.front();
  if (!upload_bucket_.unlimited() && upload_bucket_.available(now) < data.size()) return false;
  upload_bucket_.consume(data.size(), now);
  p.conn->send(wire::piece{req.index, req.offset, data});
  p.up.add(data.size(), now);
  total_up_.add(data.size(), now);
  uploaded_ += static_cast<std::int64_t>(data.size());
  p.ready.pop_front();
  return true;
}

void torrent::pump_uploads(peer_entry& p) {
  if (!upload_bucket_.unlimited()) {
    pump_all_uploads();  // a shared limit must be shared fairly
    return;
  }
  auto now = steady::now();
  while (send_one_upload(p, now)) {
  }
}

// Round robin, one block per peer per pass, starting one peer further each time: with an
// upload limit every unchoked peer gets its share instead of the first one taking it all.
void torrent::pump_all_uploads() {
  if (peers_.empty()) return;
  auto now = steady::now();
  std::vector<peer_entry*> order;
  order.reserve(peers_.size());
  for (auto& [k, p] : peers_) order.push_back(&p);
  std::rotate(order.begin(),
              order.begin() + static_cast<std::ptrdiff_t>(upload_turn_++ % order.size()),
              order.end());
  for (bool progress = true; progress;) {
    progress = false;
    for (auto* p : order) progress = send_one_upload(*p, now) || progress;
  }
}

}  // namespace peerwire::session_detail
