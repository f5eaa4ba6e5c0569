// Magnet downloads (BEP 9): fetching the info dictionary from peers, verifying it against the
// info-hash, then turning the torrent into a normal one; and serving our metadata to others.
// Also the BEP 6 allowed-fast set we give peers.
#include <algorithm>
#include <fstream>

#include <fmt/format.h>
#include <boost/asio/post.hpp>

#include "peerwire/bencode_value.hpp"
#include "peerwire/ext_fast.hpp"
#include "torrent.hpp"

namespace peerwire::session_detail {

namespace {

constexpr std::size_t metadata_requests_per_peer = 2;  // the whole thing is a few pieces
constexpr auto metadata_request_timeout = std::chrono::seconds(20);
constexpr auto metadata_retry_after_reject = std::chrono::seconds(30);
constexpr auto metadata_stall_limit = std::chrono::seconds(60);
constexpr auto useless_peer_grace = std::chrono::seconds(20);
constexpr std::size_t allowed_fast_count = 10;  // BEP 6 suggests 10

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// A .torrent around received metadata: the trackers we used, then the info dict verbatim
// (re-encoding it could change the info-hash). Keys in bencode order.
std::string torrent_file_bytes(const std::string& info_dict,
                               const std::vector<std::vector<std::string>>& tiers) {
  std::string out = "d";
  if (!tiers.empty() && !tiers.front().empty()) {
    out += "8:announce" + bencode::encode(bencode::value(tiers.front().front()));
    bencode::list tier_list;
    for (const auto& tier : tiers) {
      bencode::list urls;
      for (const auto& u : tier) urls.emplace_back(u);
      tier_list.emplace_back(std::move(urls));
    }
    out += "13:announce-list" + bencode::encode(bencode::value(std::move(tier_list)));
  }
  out += "4:info" + info_dict + "e";
  return out;
}

// Written next to the target and renamed over it: a crash never leaves half a torrent.
std::optional<std::string> write_replacing(const std::filesystem::path& path,
                                           const std::string& bytes) {
  auto tmp = path;
  tmp += ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return "cannot create " + tmp.string();
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    f.flush();
    if (!f) return "cannot write " + tmp.string();
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return "cannot rename to " + path.string();
  }
  return std::nullopt;
}

}  // namespace

void torrent::on_extended(peer_entry& p, const wire::extended& m) {
  if (m.id == 0) {  // the extension handshake (parsed and kept by the connection)
    if (const auto& ext = p.conn->remote_extensions(); ext && ext->reqq)
      p.reqq = std::max<std::uint32_t>(1, *ext->reqq);
    if (!have_metadata_) request_metadata(p, host_.now());
    return;
  }
  if (m.id == peer::ut_metadata_id) {
    on_metadata_message(p, m.payload);
  } else if (m.id == peer::ut_pex_id) {
    on_pex(p, m.payload);
  }
  // Other ids were never offered by us: ignored (BEP 10).
}

void torrent::on_metadata_message(peer_entry& p, std::span<const std::uint8_t> payload) {
  std::int64_t limit =
      params_.magnet ? params_.magnet->max_metadata_size : ext::default_max_metadata_size;
  auto msg = ext::parse_metadata_message(payload, limit);
  if (!msg) {
    p.conn->close("bad ut_metadata message: " + msg.error().describe());
    return;
  }
  auto now = host_.now();
  switch (msg->type) {
    case ext::metadata_msg_type::request: {
      // Ours when we have it, a reject otherwise; a flood of requests is bounded by the
      // connection's send-queue cap.
      auto reply =
          ext::metadata_reply(have_metadata_ ? params_.torrent.info_bytes : "", msg->piece);
      p.conn->send_extended("ut_metadata", bytes_of(reply));
      return;
    }
    case ext::metadata_msg_type::reject: {
      auto& reqs = p.metadata_requests;
      auto it = std::find_if(reqs.begin(), reqs.end(),
                             [&](const auto& r) { return r.first == msg->piece; });
      if (it != reqs.end()) {
        reqs.erase(it);
        if (metadata_) metadata_->release(msg->piece);
      }
      p.metadata_retry = now + metadata_retry_after_reject;
      for (auto& [k, other] : peers_) request_metadata(other, now);
      return;
    }
    case ext::metadata_msg_type::unknown:
      return;  // BEP 9: ignore message types we do not know
    case ext::metadata_msg_type::data:
      break;
  }
  if (have_metadata_ || !metadata_) return;  // late: nothing to do with it
  auto& reqs = p.metadata_requests;
  auto asked =
      std::find_if(reqs.begin(), reqs.end(), [&](const auto& r) { return r.first == msg->piece; });
  // Only pieces asked of this peer: an unasked piece could not be blamed on anyone fairly.
  if (asked == reqs.end()) return;
  reqs.erase(asked);
  auto added = metadata_->add_piece(*msg, p.key);
  if (!added) {
    metadata_->release_peer(p.key);
    p.conn->close("bad metadata piece: " + added.error().describe());
    return;
  }
  using st = ext::metadata_assembler::status;
  switch (added->state) {
    case st::accepted:
    case st::duplicate:
      metadata_progress_at_ = now;
      request_metadata(p, now);
      return;
    case st::complete:
      metadata_received(std::move(added->metadata));
      return;
    case st::invalid_metadata:
      fail("the metadata for this info-hash is not a torrent: " + added->reason);
      return;
    case st::hash_mismatch:
      break;
  }
  note(fmt::format("metadata from {} peer(s) did not match the info-hash; starting again",
                   added->contributors.size()));
  if (added->contributors.size() == 1) {
    ban(added->contributors.front(), "sent metadata that does not match the info-hash");
  } else {
    // Someone among them lied, and honest peers must not pay for it: the next attempt takes
    // the whole metadata from one peer at a time, so a failure names its sender.
    metadata_single_source_ = true;
  }
  // The size may have been the lie: the next peer's metadata_size starts a fresh attempt.
  metadata_.reset();
  metadata_owner_.reset();
  for (auto& [k, other] : peers_) other.metadata_requests.clear();
  for (auto& [k, other] : peers_) request_metadata(other, now);
}

void torrent::request_metadata(peer_entry& p, steady::time_point now) {
  if (have_metadata_ || stopping_ || state_ != torrent_state::metadata) return;
  if (!p.conn->is_open() || !p.conn->peer_supports("ut_metadata") || now < p.metadata_retry) return;
  const auto& ext = p.conn->remote_extensions();
  std::int64_t limit =
      params_.magnet ? params_.magnet->max_metadata_size : ext::default_max_metadata_size;
  if (!metadata_) {
    if (!ext || !ext->metadata_size) return;  // it does not have the metadata either
    auto created = ext::metadata_assembler::create(info_hash_, *ext->metadata_size, limit);
    if (!created) {
      note(p.conn->peer_name() + ": " + created.error().describe());
      p.metadata_retry = steady::time_point::max();
      return;
    }
    metadata_.emplace(std::move(*created));
    metadata_progress_at_ = now;
  } else if (ext && ext->metadata_size && *ext->metadata_size != metadata_->metadata_size()) {
    return;  // disagrees with the size being fetched; asked only if that attempt fails
  }
  if (metadata_single_source_) {
    if (metadata_owner_ && *metadata_owner_ != p.key) return;
    metadata_owner_ = p.key;
  }
  while (p.metadata_requests.size() < metadata_requests_per_peer) {
    auto piece = metadata_->next_request(p.key);
    if (!piece) break;
    auto payload = ext::encode_metadata_request(*piece);
    if (!p.conn->send_extended("ut_metadata", bytes_of(payload))) {
      metadata_->release(*piece);
      break;
    }
    p.metadata_requests.emplace_back(*piece, now);
  }
}

void torrent::expire_metadata_requests(steady::time_point now) {
  if (have_metadata_) return;
  for (auto& [k, p] : peers_) {
    auto& reqs = p.metadata_requests;
    for (auto it = reqs.begin(); it != reqs.end();) {
      if (now - it->second > metadata_request_timeout) {
        if (metadata_) metadata_->release(it->first);
        it = reqs.erase(it);
        p.metadata_retry = now + metadata_retry_after_reject;
      } else {
        ++it;
      }
    }
  }
  // Nothing received and nothing asked, or no piece for a minute: the size we chose came from
  // a peer that stopped delivering (or lied about it); the next peer's size starts over.
  if (metadata_ && ((metadata_->pieces_received() == 0 && metadata_->pieces_in_flight() == 0) ||
                    now - metadata_progress_at_ > metadata_stall_limit)) {
    if (metadata_->pieces_received() != 0) note("no metadata progress for a minute; starting over");
    metadata_.reset();
    metadata_owner_.reset();
    for (auto& [k, p] : peers_) p.metadata_requests.clear();
  }
  // At the connection limit, peers that cannot give the metadata (other magnet leechers,
  // clients without ut_metadata) make room after a while for ones that might.
  if (peers_.size() >= host_.settings().max_peers_per_torrent) {
    for (auto& [k, p] : peers_) {
      const auto& ext = p.conn->remote_extensions();
      bool useful = p.conn->peer_supports("ut_metadata") && ext && ext->metadata_size;
      if (!useful && now - p.connected_at > useless_peer_grace)
        p.conn->close("cannot provide the metadata, and we are at the connection limit");
    }
  }
  for (auto& [k, p] : peers_) request_metadata(p, now);
}

void torrent::metadata_received(std::string info_dict) {
  metainfo_limits lim;
  lim.bencode.max_input_size = std::max<std::size_t>(lim.bencode.max_input_size, info_dict.size());
  auto parsed = parse_info_dict(info_dict, lim);
  if (!parsed) {
    fail("the metadata for this info-hash is not a valid torrent: " + parsed.error().describe());
    return;
  }
  auto tiers = std::move(params_.torrent.trackers);
  params_.torrent = std::move(*parsed);
  params_.torrent.trackers = std::move(tiers);
  if (!params_.torrent.trackers.empty() && !params_.torrent.trackers.front().empty())
    params_.torrent.announce = params_.torrent.trackers.front().front();
  have_metadata_ = true;
  metadata_.reset();
  metadata_owner_.reset();
  if (params_.torrent.is_private) {
    // BEP 27, learnt late: peers heard of through PEX are not to be used.
    std::erase_if(candidates_, [](const candidate& c) { return c.from_pex && !c.connected; });
  }
  note(fmt::format("metadata received ({} bytes): {} file(s), {} bytes in {} pieces",
                   params_.torrent.info_bytes.size(), params_.torrent.files.size(),
                   params_.torrent.content_size(), params_.torrent.piece_count()));

  {
    // Kept next to the resume data, so a restarted magnet download need not ask peers again;
    // and where the user asked (--save-torrent).
    auto cache = metadata_cache_path();
    auto wanted = params_.save_torrent;
    auto bytes = torrent_file_bytes(params_.torrent.info_bytes, params_.torrent.trackers);
    on_disk(
        [=] {
          std::error_code ec;
          std::filesystem::create_directories(cache.parent_path(), ec);
          auto cache_err = write_replacing(cache, bytes);
          std::optional<std::string> err;
          if (wanted) err = write_replacing(*wanted, bytes);
          return std::pair{cache_err, err};
        },
        [this, wanted](auto errors) {
          auto [cache_err, err] = errors;
          if (cache_err) note("cannot keep the metadata: " + *cache_err);
          if (wanted) {
            note(err ? "cannot save the torrent: " + *err
                     : "saved the torrent to " + wanted->string());
          }
        });
  }

  // The peers met while fetching stay: size their piece sets and tell the picker.
  picker_ = make_picker(params_.torrent);
  picker_.set_sequential(params_.sequential);
  for (auto& [k, p] : peers_) {
    p.metadata_requests.clear();
    // Known to the picker even when it is closing (detach removes it): every peer in peers_
    // must be, or the picker throws.
    picker_.add_peer(k);
    if (!p.conn->update_torrent(ref())) continue;  // broke a rule now checkable: closing
    const auto& st = p.conn->state();
    if (st.peer_is_seed()) {
      picker_.peer_has_all(k);
    } else {
      for (std::uint32_t i = 0; i < st.piece_count(); ++i) {
        if (st.peer_has(i)) picker_.peer_has(k, i);
      }
    }
    send_allowed_fast(p);
  }
  state_ = torrent_state::checking;
  start();  // opens the files and checks what is already there, like any torrent
}

std::filesystem::path torrent::metadata_cache_path() const {
  return params_.save_path / ".peerwire" / (info_hash_.hex() + ".torrent");
}

bool torrent::load_cached_metadata() {
  std::error_code ec;
  auto file_size = std::filesystem::file_size(metadata_cache_path(), ec);
  std::int64_t limit =
      params_.magnet ? params_.magnet->max_metadata_size : ext::default_max_metadata_size;
  if (ec || file_size > static_cast<std::uintmax_t>(limit) + 64 * 1024) return false;
  std::ifstream f(metadata_cache_path(), std::ios::binary);
  if (!f) return false;
  std::string bytes;
  bytes.resize(static_cast<std::size_t>(file_size));
  f.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  bytes.resize(static_cast<std::size_t>(f.gcount()));
  metainfo_limits lim;
  lim.bencode.max_input_size = std::max(lim.bencode.max_input_size, bytes.size());
  auto parsed = parse_metainfo(bytes, lim);
  // Anything else than the torrent of this info-hash is ignored: the peers are asked again.
  if (!parsed || !parsed->hash.v1 || *parsed->hash.v1 != info_hash_) {
    note("ignoring the kept metadata in " + metadata_cache_path().string());
    return false;
  }
  auto tiers = std::move(params_.torrent.trackers);
  params_.torrent = std::move(*parsed);
  params_.torrent.trackers = std::move(tiers);
  have_metadata_ = true;
  picker_ = make_picker(params_.torrent);
  picker_.set_sequential(params_.sequential);
  note("metadata from " + metadata_cache_path().string() + " (fetched earlier)");
  if (params_.save_torrent) {
    auto err = write_replacing(*params_.save_torrent, bytes);
    note(err ? "cannot save the torrent: " + *err
             : "saved the torrent to " + params_.save_torrent->string());
  }
  return true;
}

void torrent::send_allowed_fast(peer_entry& p) {
  if (!have_metadata_ || !p.conn->fast_enabled() || !p.allowed_fast.empty()) return;
  const auto& addr = p.conn->remote().ip;
  // BEP 6 defines the set for IPv4 only. With few pieces the set would be much of the
  // torrent, free of any reciprocation: not offered then.
  auto count = static_cast<std::uint32_t>(params_.torrent.piece_count());
  if (!addr.is_v4() || count < 4 * allowed_fast_count) return;
  p.allowed_fast = ext::allowed_fast_set(addr.v4_uint(), info_hash_, count, allowed_fast_count);
  for (auto i : p.allowed_fast) p.conn->send(wire::allowed_fast{i});
}

}  // namespace peerwire::session_detail
