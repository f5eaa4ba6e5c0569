#include "torrent.hpp"

#include <algorithm>
#include <random>

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>

#include "peerwire/sha1.hpp"

namespace peerwire::session_detail {

namespace {

constexpr auto request_timeout = std::chrono::seconds(30);
constexpr auto announce_timeout = std::chrono::seconds(30);  // see expire_requests

}  // namespace

// A magnet torrent has no pieces until its metadata arrives; its picker is a one-piece
// placeholder that is never asked about peers (see have_metadata_).
picker::piece_picker make_picker(const metainfo& m) {
  if (m.piece_count() == 0) return picker::piece_picker(1, 16384, 16384, std::random_device{}());
  return picker::piece_picker(static_cast<std::uint32_t>(m.piece_count()),
                              static_cast<std::uint32_t>(m.piece_length),
                              static_cast<std::uint64_t>(m.total_size), std::random_device{}());
}

namespace {

add_torrent_params prepare(add_torrent_params p) {
  if (p.magnet) {
    // Until the metadata arrives the torrent is its info-hash, its name and its trackers.
    p.torrent = metainfo{};
    p.torrent.hash.v1 = p.magnet->info_hash;
    p.torrent.name =
        p.magnet->display_name.empty() ? p.magnet->info_hash.hex() : p.magnet->display_name;
    p.torrent.trackers = p.magnet->trackers;
  }
  return p;
}

}  // namespace

torrent::torrent(torrent_host& host, add_torrent_params params)
    : host_(host),
      params_(prepare(std::move(params))),
      info_hash_(*params_.torrent.hash.v1),
      picker_(make_picker(params_.torrent)),
      choker_({.slots = host.settings().upload_slots}, std::random_device{}()),
      upload_bucket_(host.settings().upload_limit,
                     std::max(host.settings().upload_limit, 256.0 * 1024)),
      download_bucket_(host.settings().download_limit,
                       std::max(host.settings().download_limit, 256.0 * 1024)),
      tracker_key_(static_cast<std::uint32_t>(std::random_device{}())),
      have_metadata_(!params_.magnet) {
  picker_.set_sequential(params_.sequential);
  for (const auto& p : params_.peers) {
    if (auto a = peer::parse_peer_address(p)) candidates_.push_back({*a});
  }
}

void torrent::note(const std::string& text) {
  host_.log(params_.torrent.name, text);
}

std::int64_t torrent::left() const {
  // Without the metadata the size is unknown; 0 would tell the tracker we are a seed (and
  // some then send no seeds back), so claim one block, as other clients do.
  if (!have_metadata_) return 16 * 1024;
  return std::max<std::int64_t>(0, params_.torrent.content_size() - verified_bytes_);
}

peer::torrent_ref torrent::ref() const {
  peer::torrent_ref r;
  r.info_hash = info_hash_;
  r.piece_count = static_cast<std::uint32_t>(params_.torrent.piece_count());
  r.piece_length = static_cast<std::uint32_t>(params_.torrent.piece_length);
  r.total_size = static_cast<std::uint64_t>(params_.torrent.total_size);
  r.is_private = params_.torrent.is_private;
  if (!have_metadata_) return r;  // piece_count 0: the connection waits for the metadata
  r.metadata_size = static_cast<std::int64_t>(params_.torrent.info_bytes.size());
  r.we_are_seed = picker_.complete();
  if (!r.we_are_seed && picker_.have_count() > 0) {
    r.our_bitfield.assign((r.piece_count + 7) / 8, 0);
    for (std::uint32_t i = 0; i < r.piece_count; ++i) {
      if (picker_.have(i)) r.our_bitfield[i / 8] |= static_cast<std::uint8_t>(0x80 >> (i % 8));
    }
  } else if (r.we_are_seed) {
    r.our_bitfield.assign((r.piece_count + 7) / 8, 0xff);
    if (r.piece_count % 8 != 0)
      r.our_bitfield.back() = static_cast<std::uint8_t>(0xff << (8 - r.piece_count % 8));
  }
  return r;
}

// ---- start: open storage, check what is on disk --------------------------------------------

void torrent::start() {
  if (!have_metadata_ && !load_cached_metadata()) {
    state_ = torrent_state::metadata;
    note("fetching metadata from peers");
    start_announcing();
    return;
  }
  storage::storage_options options;
  options.sync_on_close = !storage::boot_id();  // see save_resume
  options.direct_writes = host_.settings().direct_io;
  options.preallocate = host_.settings().preallocate;
  auto opened = storage::disk_storage::open(params_.torrent, params_.save_path, options);
  if (!opened) {
    fail(opened.error().message);
    return;
  }
  storage_ = std::make_shared<storage::disk_storage>(std::move(*opened));
  verifier_ = std::make_shared<sha1_piece_verifier>(params_.torrent.pieces);
  std::filesystem::path resume_path = params_.resume_file.value_or(params_.save_path / ".peerwire" /
                                                                   (info_hash_.hex() + ".resume"));
  params_.resume_file = resume_path;

  // Which pieces to check: all (no or bad resume data, --recheck), or only those whose files
  // changed since the resume data was written.
  std::vector<std::uint32_t> to_check;
  std::vector<bool> trusted(params_.torrent.piece_count(), false);
  bool full_check = true;
  if (!params_.recheck) {
    auto loaded = storage::load_resume(resume_path, params_.torrent);
    if (!loaded) {
      note("ignoring resume data: " + loaded.error().describe());
    } else if (*loaded) {
      const auto& rd = **loaded;
      uploaded_before_ = rd.uploaded;
      downloaded_before_ = rd.downloaded;
      if (!storage::claims_trusted(rd)) {
        // Saved without a disk sync in an earlier boot: a power cut may have taken data it
        // claims, so every piece is checked (the counters are still good).
        note("the machine restarted since the resume data was saved: checking every piece");
      } else {
        full_check = false;
        trusted = rd.have;
        to_check = storage::pieces_to_recheck(params_.torrent, rd, storage_->stamps());
        for (auto p : to_check) trusted[p] = false;
      }
    }
  }
  if (full_check) {
    to_check.clear();  // empty = every piece
  }
  state_ = torrent_state::checking;
  auto self = shared_from_this();
  auto alive = alive_;
  auto ex = host_.executor();
  bool nothing_to_check = !full_check && to_check.empty();
  if (nothing_to_check) {
    for (std::uint32_t i = 0; i < trusted.size(); ++i) {
      if (trusted[i]) {
        picker_.set_have(i);
        verified_bytes_ += params_.torrent.piece_size(i);
      }
    }
    verified_bytes_ = std::min(verified_bytes_, params_.torrent.content_size());
    state_ = picker_.complete() ? torrent_state::seeding : torrent_state::downloading;
    maybe_finish_download();
    checked_peers();
    start_announcing();
    connect_more(host_.now());  // the peers we were given: now, not at the next tick
    return;
  }
  unsigned threads = std::max(1u, host_.settings().disk_threads);
  auto progress = [self, alive, ex](const storage::check_progress& p) {
    double f = p.pieces_total
                   ? static_cast<double>(p.pieces_checked) / static_cast<double>(p.pieces_total)
                   : 1.0;
    asio::post(ex, [self, alive, f] {
      if (*alive) self->checking_progress_ = f;
    });
  };
  on_disk(
      [storage = storage_, to_check, threads, progress, stop = check_stop_] {
        return storage->check_pieces(to_check, threads, progress, stop.get());
      },
      [this, trusted, full_check](auto checked) {
        if (!checked) {
          fail(checked.error().message);
          return;
        }
        const auto& found = *checked;
        for (std::uint32_t i = 0; i < found.size(); ++i) {
          if (found[i] || (!full_check && trusted[i])) {
            picker_.set_have(i);
            verified_bytes_ += params_.torrent.piece_size(i);
          }
        }
        verified_bytes_ = std::min(verified_bytes_, params_.torrent.content_size());
        checking_progress_ = 1;
        state_ = picker_.complete() ? torrent_state::seeding : torrent_state::downloading;
        resume_dirty_ = true;
        maybe_finish_download();
        checked_peers();
        start_announcing();
        connect_more(host_.now());
      });
}

void torrent::start_announcing() {
  // A magnet torrent announces while it fetches the metadata and keeps that loop afterwards.
  if (announcing_) return;
  announcing_ = true;
  asio::co_spawn(host_.executor(), announce_loop(), asio::detached);
}

// Peers that stayed connected while the data was checked (a magnet torrent's peers, kept
// from the metadata phase) learn our pieces and start trading.
void torrent::checked_peers() {
  for (auto& [k, p] : peers_) {
    // Greeted before we knew the pieces: haves now (a bitfield may only come first).
    for (std::uint32_t i = 0; i < params_.torrent.piece_count(); ++i) {
      if (picker_.have(i)) p.conn->send(wire::have{i});
    }
    p.conn->update_torrent(ref());
    update_interest(p);
  }
}

void torrent::fail(const std::string& message) {
  if (state_ == torrent_state::error) return;  // the first error is the one that matters
  check_stop_->store(true);
  state_ = torrent_state::error;
  host_.torrent_done();
  error_ = message;
  note("stopped: " + message);
  for (auto& [k, p] : peers_) p.conn->close("torrent stopped: " + message);
}

// ---- peers -------------------------------------------------------------------------------

void torrent::attach(std::shared_ptr<peer_connection> c) {
  if (state_ == torrent_state::error || state_ == torrent_state::checking || stopping_) {
    c->close(state_ == torrent_state::checking ? "still checking existing data"
                                               : "torrent is not active");
    return;
  }
  const auto& id = c->remote_handshake()->id;
  if (banned_ids_.count(id)) {
    c->close("banned peer");
    return;
  }
  for (auto& [k, p] : peers_) {
    if (p.conn->remote_handshake() && p.conn->remote_handshake()->id == id) {
      c->close("duplicate connection to the same peer");
      return;
    }
  }
  if (peers_.size() >= host_.settings().max_peers_per_torrent) {
    c->close("too many peers for this torrent");
    return;
  }
  // Dialled (or greeted) while the metadata was still missing, attached after it came: size
  // its pieces now (a rule broken before is a close) and tell it what we have.
  bool greeted_without_metadata = have_metadata_ && c->torrent() && c->torrent()->piece_count == 0;
  if (greeted_without_metadata) {
    if (!c->update_torrent(ref())) return;
    for (std::uint32_t i = 0; i < params_.torrent.piece_count(); ++i) {
      if (picker_.have(i)) c->send(wire::have{i});
    }
  }
  auto key = next_key_++;
  // Kept to ban a peer found lying after it left; bounded (oldest keys go first).
  if (peer_ids_.size() >= 10'000) peer_ids_.erase(peer_ids_.begin());
  peer_ids_[key] = id;
  peer_entry& p = peers_[key];
  p.conn = c;
  p.key = key;
  p.connected_at = host_.now();
  if (have_metadata_) picker_.add_peer(key);
  // Our greeting was built when the connection started; announce what was verified since.
  if (const auto& greeted = c->torrent();
      have_metadata_ && greeted && greeted->piece_count != 0 && !greeted->we_are_seed) {
    for (std::uint32_t i = 0; i < params_.torrent.piece_count(); ++i) {
      bool announced = !greeted->our_bitfield.empty() && wire::has_piece(greeted->our_bitfield, i);
      if (picker_.have(i) && !announced) c->send(wire::have{i});
    }
  }
  c->on_message = [this, key, alive = alive_](peer_connection&, const wire::message& m) {
    if (!*alive) return;
    auto it = peers_.find(key);
    if (it != peers_.end()) on_message(it->second, m);
  };
  c->on_drained = [this, key, alive = alive_](peer_connection&) {
    if (!*alive) return;
    auto it = peers_.find(key);
    if (it != peers_.end()) pump_uploads(it->second);
  };
  if (have_metadata_) send_allowed_fast(p);
}

void torrent::detach(peer_connection& c) {
  for (auto it = peers_.begin(); it != peers_.end(); ++it) {
    if (it->second.conn.get() != &c) continue;
    if (metadata_) metadata_->release_peer(it->first);
    if (metadata_owner_ == it->first) {
      // The one source of this attempt left: start over rather than mix in other senders.
      metadata_.reset();
      metadata_owner_.reset();
    }
    bool held_slot = !it->second.conn->state().am_choking;
    picker_.remove_peer(it->first);
    choker_.peer_left(it->first);
    peers_.erase(it);
    if (held_slot) slot_freed();
    break;
  }
  // Let the candidate be tried again later (with back-off when it failed quickly).
  for (auto& cand : candidates_) {
    if (c.outgoing() && cand.connected && cand.address == c.remote()) {
      cand.connected = false;
      if (!c.handshake_done()) ++cand.failures;
      cand.next_attempt =
          host_.now() + std::chrono::seconds(std::min(60, 2 << std::min(cand.failures, 5)));
    }
  }
  // Blocks that peer was sending may now be requested from others.
  for (auto& [k, p] : peers_) fill_requests(p);
}

void torrent::update_interest(peer_entry& p) {
  // Nothing to be interested in yet; or a peer closed (detach follows) that the picker
  // never learnt about because it broke a rule when the metadata sized its pieces.
  if (!have_metadata_ || !p.conn->is_open() || !picker_.has_peer(p.key)) return;
  // Two seeds have nothing to say to each other; the slot is better used by a leecher.
  if (picker_.complete() && p.conn->state().peer_is_seed()) {
    p.conn->close("both sides are seeds");
    return;
  }
  bool want = !picker_.complete() && picker_.interesting(p.key);
  if (want && !p.conn->state().am_interested) p.conn->send(wire::interested{});
  if (!want && p.conn->state().am_interested) p.conn->send(wire::not_interested{});
}

void torrent::on_message(peer_entry& p, const wire::message& m) {
  if (const auto* e = std::get_if<wire::extended>(&m)) {
    on_extended(p, *e);
    return;
  }
  if (!have_metadata_) {
    // Pieces the peer announces are kept by its connection until the metadata sizes them;
    // requests cannot be served yet.
    if (const auto* rq = std::get_if<wire::request>(&m); rq && p.conn->fast_enabled())
      p.conn->send(wire::reject_request{rq->index, rq->offset, rq->length});
    return;
  }
  if (const auto* h = std::get_if<wire::have>(&m)) {
    picker_.peer_has(p.key, h->index);
    update_interest(p);
  } else if (const auto* b = std::get_if<wire::bitfield>(&m)) {
    for (std::uint32_t i = 0; i < params_.torrent.piece_count(); ++i) {
      if (wire::has_piece(b->bits, i)) picker_.peer_has(p.key, i);
    }
    update_interest(p);
  } else if (std::holds_alternative<wire::have_all>(m)) {
    picker_.peer_has_all(p.key);
    update_interest(p);
  } else if (std::holds_alternative<wire::have_none>(m)) {
    update_interest(p);
  } else if (std::holds_alternative<wire::interested>(m)) {
    // A free upload slot is given at once rather than at the next 10 s rechoke: a new leecher
    // should not wait for the choker's rhythm when nobody competes for the slot.
    std::size_t unchoked = 0;
    for (auto& [k, other] : peers_) unchoked += other.conn->state().am_choking ? 0 : 1;
    if (unchoked < choker_.config().slots) rechoke(host_.now());
  } else if (std::holds_alternative<wire::not_interested>(m)) {
    if (!p.conn->state().am_choking) slot_freed();
  } else if (std::holds_alternative<wire::unchoke>(m)) {
    fill_requests(p);
  } else if (std::holds_alternative<wire::choke>(m)) {
    // Without the fast extension a choke silently drops our requests (BEP 3); with it the
    // peer rejects each one explicitly (BEP 6), so they stay until then.
    if (!p.conn->fast_enabled()) picker_.release_peer_requests(p.key);
  } else if (const auto* r = std::get_if<wire::reject_request>(&m)) {
    picker_.on_request_failed(p.key, {r->index, r->offset, r->length}, host_.now());
    fill_requests(p);
  } else if (const auto* a = std::get_if<wire::allowed_fast>(&m)) {
    picker_.set_allowed_fast(p.key, a->index);
    fill_requests(p);
  } else if (const auto* pc = std::get_if<wire::piece>(&m)) {
    on_block(p, *pc);
  } else if (const auto* rq = std::get_if<wire::request>(&m)) {
    on_request(p, *rq);
  } else if (const auto* c = std::get_if<wire::cancel>(&m)) {
    // BEP 6: every request gets exactly one answer, so a cancelled one still gets a reject
    // (unless its piece is already on the way). Reads in flight are rejected here and
    // dropped when they complete.
    bool rejected = false;
    auto same = [&](const wire::request& q) {
      return q.index == c->index && q.offset == c->offset && q.length == c->length;
    };
    for (auto& s : p.serving) {
      if (same(s.req) && !s.cancelled) {
        s.cancelled = true;
        rejected = true;
      }
    }
    if (p.drop_ready_if([&](const ready_block& entry) { return same(entry.req); }) > 0)
      rejected = true;
    if (rejected && p.conn->fast_enabled())
      p.conn->send(wire::reject_request{c->index, c->offset, c->length});
  }
}

// ---- periodic work -------------------------------------------------------------------------

// A slot holder left or lost interest: a peer waiting for a slot gets it now rather than at
// the next 10 s rechoke (with 8 leechers on one seed, finished ones would otherwise leave
// their slots idle for seconds).
void torrent::slot_freed() {
  for (auto& [k, p] : peers_) {
    if (p.conn->state().peer_interested && p.conn->state().am_choking) {
      rechoke(host_.now());
      return;
    }
  }
}

void torrent::rechoke(steady::time_point now) {
  std::vector<choker::peer_info> infos;
  infos.reserve(peers_.size());
  for (auto& [k, p] : peers_) {
    infos.push_back({k, p.conn->state().peer_interested, p.conn->state().am_choking,
                     p.down.rate(now), p.up.rate(now), p.snubbed, p.connected_at});
  }
  auto d = choker_.rechoke(
      infos, state_ == torrent_state::seeding || state_ == torrent_state::finished, now);
  for (auto k : d.choke) {
    if (auto it = peers_.find(k); it != peers_.end()) it->second.conn->send(wire::choke{});
  }
  for (auto k : d.unchoke) {
    if (auto it = peers_.find(k); it != peers_.end()) it->second.conn->send(wire::unchoke{});
  }
}

void torrent::expire_requests(steady::time_point now) {
  for (auto& [k, p] : peers_) {
    // BEP 6: a fast-extension peer says which pieces it has (bitfield, have all or have none)
    // right after the handshake. One that stays silent (keep-alives only) holds a slot for
    // nothing; closing it lets someone useful in.
    if (p.conn->fast_enabled() && !p.conn->state().pieces_known() &&
        now - p.connected_at > announce_timeout) {
      p.conn->close(fmt::format("no bitfield, have all or have none within {} s of the handshake",
                                announce_timeout.count()));
      continue;
    }
    bool expired = !picker_.expire_requests(k, now, request_timeout).empty();
    auto since = picker_.waiting_since(k).value_or(now);
    using ms = std::chrono::milliseconds;
    p.snubbed = picker::is_snubbed(p.conn->state().peer_choking, picker_.outstanding(k),
                                   std::chrono::duration_cast<ms>(now.time_since_epoch()),
                                   std::chrono::duration_cast<ms>(since.time_since_epoch()));
    if (expired) {
      for (auto& [k2, other] : peers_) fill_requests(other);
    }
  }
}

void torrent::add_candidates(const std::vector<tracker::peer_endpoint>& peers, bool from_pex) {
  // Peers can hand out any address: at most a quarter of the list may come from PEX, so a
  // peer feeding bogus entries cannot crowd out the tracker's.
  constexpr std::size_t max_candidates = 2000, max_from_pex = max_candidates / 4;
  std::size_t pex_count = 0;
  if (from_pex) {
    for (const auto& c : candidates_) pex_count += c.from_pex ? 1 : 0;
  }
  for (const auto& pe : peers) {
    if (from_pex && pex_count >= max_from_pex) return;
    auto ip = peer::parse_ip(pe.address);
    if (!ip || pe.port == 0) continue;
    peer_address a{*ip, pe.port, transport::tcp};
    if (a.port == host_.listen_port() && (ip->is_loopback() || ip->is_unspecified()))
      continue;  // ourselves
    bool known = std::any_of(candidates_.begin(), candidates_.end(),
                             [&](const candidate& c) { return c.address == a; });
    if (!known && candidates_.size() < max_candidates) {
      candidate c{a};
      c.from_pex = from_pex;
      candidates_.push_back(c);
      pex_count += from_pex ? 1 : 0;
    }
  }
}

void torrent::connect_more(steady::time_point now) {
  if (stopping_) return;
  if (state_ != torrent_state::downloading && state_ != torrent_state::seeding &&
      state_ != torrent_state::metadata)
    return;
  // Dials in progress count against the limit too, or one tick would dial every candidate.
  std::size_t dialing = 0, attached_outgoing = 0;
  for (const auto& c : candidates_) dialing += c.connected ? 1 : 0;
  for (const auto& [k, p] : peers_) attached_outgoing += p.conn->outgoing() ? 1 : 0;
  std::size_t active =
      peers_.size() + (dialing > attached_outgoing ? dialing - attached_outgoing : 0);
  for (auto& c : candidates_) {
    if (active >= host_.settings().max_peers_per_torrent) return;
    if (host_.total_connections() >= host_.settings().max_peers_total) return;
    if (c.connected || c.banned || now < c.next_attempt) continue;
    if (c.address.port == host_.listen_port() && c.address.ip.is_loopback()) continue;
    c.connected = true;
    ++active;
    c.next_attempt = now + std::chrono::seconds(5);
    host_.dial(c.address, info_hash_);
  }
}

void torrent::tick(steady::time_point now) {
  if (state_ == torrent_state::error || state_ == torrent_state::checking) return;
  send_pex(now);
  if (state_ == torrent_state::metadata) {
    expire_metadata_requests(now);
    connect_more(now);
    return;
  }
  if (choker_.due(now)) rechoke(now);
  expire_requests(now);
  retry_disk_write(now);  // paused for a full or read-only disk only
  connect_more(now);
  pump_all_uploads();
  for (auto& [k, p] : peers_) fill_requests(p);
  if (resume_dirty_ && now - last_resume_ >= host_.settings().resume_interval) save_resume();
  if (state_ == torrent_state::seeding) {
    const auto& g = params_.goal;
    double ratio = params_.torrent.content_size() > 0
                       ? static_cast<double>(uploaded_before_ + uploaded_) /
                             static_cast<double>(params_.torrent.content_size())
                       : 0;
    if ((g.kind == seed_goal_kind::ratio && ratio >= g.value) ||
        (g.kind == seed_goal_kind::minutes &&
         now - seeding_since_ >= std::chrono::duration<double>(g.value * 60)) ||
        g.kind == seed_goal_kind::none) {
      state_ = torrent_state::finished;
      host_.torrent_done();
      note("seeding goal reached");
    }
  }
}

// ---- resume data ---------------------------------------------------------------------------

void torrent::save_resume(std::function<void()> done) {
  if (!storage_ || !params_.resume_file) {
    if (done) done();
    return;
  }
  // One save at a time: concurrent saves would share the temp file, and one could rename a
  // record while another's flush is still running. A request during a save runs after it.
  if (done) save_waiters_.push_back(std::move(done));
  if (saving_) {
    save_again_ = true;
    return;
  }
  saving_ = true;
  save_again_ = false;
  last_resume_ = host_.now();
  resume_dirty_ = false;
  storage::resume_data rd;
  rd.info_hash = info_hash_;
  rd.have.resize(params_.torrent.piece_count());
  for (std::uint32_t i = 0; i < rd.have.size(); ++i) rd.have[i] = picker_.have(i);
  rd.uploaded = uploaded_before_ + uploaded_;
  rd.downloaded = downloaded_before_ + downloaded_;
  auto storage = storage_;
  auto path = *params_.resume_file;
  auto self = shared_from_this();
  auto ex = host_.executor();
  auto waiters = std::move(save_waiters_);
  save_waiters_.clear();
  // Data first, then the record that claims it: after a crash the resume file never claims a
  // piece that is not on disk. Where the boot can be identified the data is not synced: the
  // record is bound to this boot instead (see resume.hpp), which spares a disk write of
  // everything downloaded at each save.
  auto boot = storage::boot_id();
  if (boot) rd.unsynced_boot = *boot;
  asio::post(host_.disk_pool(), [=]() mutable {
    // Only data that reached the disk may be claimed: if the flush fails, keep the old file.
    storage::storage_result<void> flushed;
    if (!boot) flushed = storage->flush();
    rd.files = storage->stamps();
    auto saved = flushed ? storage::save_resume_atomically(path, rd) : flushed;
    asio::post(ex, [self, saved = static_cast<bool>(saved), waiters]() {
      self->saving_ = false;
      if (!saved) self->note("cannot save resume data");
      if (self->save_again_) {
        self->save_resume();  // runs the waiters that arrived meanwhile when it finishes
      }
      for (const auto& w : waiters) w();
    });
  });
}

void torrent::stop(std::function<void()> done) {
  if (stopping_) {
    if (done) done();
    return;
  }
  stopping_ = true;
  check_stop_->store(true);  // a running check must not hold up shutdown
  if (announce_timer_) announce_timer_->cancel();
  for (auto& [k, p] : peers_) p.conn->close("shutting down");
  auto self = shared_from_this();
  auto finish = [self, done] {
    *self->alive_ = false;
    if (done) done();
  };
  if (state_ == torrent_state::error || state_ == torrent_state::checking) {
    finish();
    return;
  }
  asio::co_spawn(host_.executor(), announce_once(tracker::event::stopped),
                 [self, finish](std::exception_ptr) { self->save_resume(finish); });
}

torrent_status torrent::status(steady::time_point now) const {
  torrent_status s;
  s.name = params_.torrent.name;
  s.info_hash = info_hash_.hex();
  s.state = state_;
  s.error = error_;
  s.total_size = params_.torrent.content_size();
  s.verified_bytes = verified_bytes_;
  s.pieces_have = picker_.have_count();
  s.piece_count = static_cast<std::uint32_t>(params_.torrent.piece_count());
  s.checking_progress = checking_progress_;
  if (metadata_) {
    s.metadata_size = metadata_->metadata_size();
    s.metadata_progress =
        metadata_->piece_count()
            ? static_cast<double>(metadata_->pieces_received()) / metadata_->piece_count()
            : 0;
  } else if (have_metadata_) {
    s.metadata_size = static_cast<std::int64_t>(params_.torrent.info_bytes.size());
    s.metadata_progress = 1;
  }
  s.downloaded = downloaded_;
  s.uploaded = uploaded_;
  s.download_rate = total_down_.rate(now);
  s.upload_rate = total_up_.rate(now);
  s.peers = peers_.size();
  for (const auto& [k, p] : peers_) s.seeds += p.conn->state().peer_is_seed() ? 1 : 0;
  s.hash_failures = hash_failures_;
  s.banned_peers = banned_ids_.size();
  s.tracker_message = tracker_message_;
  s.active_time = std::chrono::duration_cast<std::chrono::seconds>(now - started_at_);
  return s;
}

}  // namespace peerwire::session_detail
