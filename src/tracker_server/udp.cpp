// BEP 15 packets (all integers big-endian) and the stateless connection ids.
#include <algorithm>

#include "peerwire/tracker_server_proto.hpp"
#include "siphash.hpp"

namespace peerwire::tracker_server {
namespace {

std::uint64_t be64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         p[3];
}

void put32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 24));
  out.push_back(static_cast<std::uint8_t>(v >> 16));
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}

void put64(std::vector<std::uint8_t>& out, std::uint64_t v) {
  put32(out, static_cast<std::uint32_t>(v >> 32));
  put32(out, static_cast<std::uint32_t>(v));
}

std::uint32_t clamp32(std::uint64_t v) {
  return v > 0x7fffffffU ? 0x7fffffffU : static_cast<std::uint32_t>(v);
}

}  // namespace

std::optional<udp_request> decode_udp_request(std::span<const std::uint8_t> p,
                                              std::size_t max_scrape_hashes) {
  if (p.size() < 16 || p.size() > udp_max_packet) return std::nullopt;
  const std::uint64_t cid = be64(p.data());
  const std::uint32_t action = be32(p.data() + 8);
  const std::uint32_t tid = be32(p.data() + 12);
  switch (static_cast<udp_action>(action)) {
    case udp_action::connect:
      if (cid != udp_protocol_id) return std::nullopt;
      return udp_connect{tid};
    case udp_action::announce: {
      // Bytes after the 98 are BEP 41 options (URL data): allowed and ignored.
      if (p.size() < udp_announce_size) {
        return udp_bad_request{cid, tid, "announce packet too short"};
      }
      udp_announce a;
      a.connection_id = cid;
      a.transaction_id = tid;
      std::copy_n(p.data() + 16, 20, a.info_hash.bytes.begin());
      std::copy_n(p.data() + 36, 20, a.id.begin());
      a.downloaded = static_cast<std::int64_t>(be64(p.data() + 56));
      a.left = static_cast<std::int64_t>(be64(p.data() + 64));
      a.uploaded = static_cast<std::int64_t>(be64(p.data() + 72));
      std::uint32_t ev = be32(p.data() + 80);
      if (ev > 3) return udp_bad_request{cid, tid, "unknown event"};
      a.ev = static_cast<event>(ev);  // 0 none, 1 completed, 2 started, 3 stopped
      a.ip = be32(p.data() + 84);
      a.key = be32(p.data() + 88);
      a.numwant = static_cast<std::int32_t>(be32(p.data() + 92));
      a.port = static_cast<std::uint16_t>((p[96] << 8) | p[97]);
      if (a.port == 0) return udp_bad_request{cid, tid, "port must be from 1 to 65535"};
      return a;
    }
    case udp_action::scrape: {
      std::size_t body = p.size() - 16;
      if (body == 0 || body % 20 != 0) {
        return udp_bad_request{cid, tid, "scrape packet must hold whole 20-byte info-hashes"};
      }
      if (body / 20 > max_scrape_hashes) {
        return udp_bad_request{cid, tid, "too many info-hashes in one scrape"};
      }
      udp_scrape s{cid, tid, {}};
      s.hashes.resize(body / 20);
      for (std::size_t i = 0; i < s.hashes.size(); ++i) {
        std::copy_n(p.data() + 16 + 20 * i, 20, s.hashes[i].bytes.begin());
      }
      return s;
    }
    default:
      return udp_bad_request{cid, tid, "unknown action"};
  }
}

void encode_udp_connect(std::vector<std::uint8_t>& out, std::uint32_t tid, std::uint64_t cid) {
  out.clear();
  put32(out, static_cast<std::uint32_t>(udp_action::connect));
  put32(out, tid);
  put64(out, cid);
}

void encode_udp_error(std::vector<std::uint8_t>& out, std::uint32_t tid, std::string_view msg) {
  out.clear();
  put32(out, static_cast<std::uint32_t>(udp_action::error));
  put32(out, tid);
  out.insert(out.end(), msg.begin(), msg.end());
}

void encode_udp_announce(std::vector<std::uint8_t>& out, std::uint32_t tid,
                         std::chrono::seconds interval, const announce_output& res, bool v6) {
  out.clear();
  put32(out, static_cast<std::uint32_t>(udp_action::announce));
  put32(out, tid);
  put32(out, clamp32(static_cast<std::uint64_t>(interval.count())));
  put32(out, res.counts.incomplete);
  put32(out, res.counts.complete);
  for (const auto& p : res.peers) {
    if (p.addr.v6 != v6) continue;
    out.insert(out.end(), p.addr.ip.begin(), p.addr.ip.begin() + (v6 ? 16 : 4));
    out.push_back(static_cast<std::uint8_t>(p.addr.port >> 8));
    out.push_back(static_cast<std::uint8_t>(p.addr.port));
  }
}

void encode_udp_scrape(std::vector<std::uint8_t>& out, std::uint32_t tid,
                       const std::vector<swarm_counts>& counts) {
  out.clear();
  put32(out, static_cast<std::uint32_t>(udp_action::scrape));
  put32(out, tid);
  for (const auto& c : counts) {
    put32(out, c.complete);
    put32(out, c.downloaded);
    put32(out, c.incomplete);
  }
}

connection_ids::connection_ids(const std::array<std::uint8_t, 16>& secret,
                               std::chrono::seconds epoch)
    : secret_(secret), epoch_(std::max(epoch, std::chrono::seconds(1))) {}

std::uint64_t connection_ids::id_for(const endpoint& client, std::int64_t epoch) const {
  std::array<std::uint8_t, 27> msg{};
  for (int i = 0; i < 8; ++i)
    msg[i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(epoch) >> (8 * i));
  std::copy(client.ip.begin(), client.ip.end(), msg.begin() + 8);
  msg[24] = static_cast<std::uint8_t>(client.port >> 8);
  msg[25] = static_cast<std::uint8_t>(client.port);
  msg[26] = client.v6 ? 1 : 0;
  return detail::siphash24(detail::sip_key::from(secret_.data()), msg);
}

std::uint64_t connection_ids::mint(const endpoint& client, time_point now) const {
  auto epoch = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()) / epoch_;
  return id_for(client, epoch);
}

bool connection_ids::check(std::uint64_t id, const endpoint& client, time_point now) const {
  auto epoch = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()) / epoch_;
  return id == id_for(client, epoch) || id == id_for(client, epoch - 1);
}

}  // namespace peerwire::tracker_server
