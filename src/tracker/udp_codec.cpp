// BEP 15 packet encoding and decoding (pure). All integers are big-endian.
#include <algorithm>

#include "peerwire/ip_text.hpp"
#include "peerwire/tracker_udp.hpp"

namespace peerwire::tracker::udp {
namespace {

void put32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 3; i >= 0; --i, v >>= 8) p[i] = static_cast<std::uint8_t>(v);
}
void put64(std::uint8_t* p, std::uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8) p[i] = static_cast<std::uint8_t>(v);
}
std::uint32_t get32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         p[3];
}
std::uint64_t get64(const std::uint8_t* p) {
  return (std::uint64_t{get32(p)} << 32) | get32(p + 4);
}

// BEP 15 event numbers differ from the order of tracker::event.
std::uint32_t event_code(event e) {
  switch (e) {
    case event::completed:
      return 1;
    case event::started:
      return 2;
    case event::stopped:
      return 3;
    case event::none:
      break;
  }
  return 0;
}

// The tracker's error text reaches the terminal: no control bytes, bounded length.
std::string printable(std::span<const std::uint8_t> s) {
  constexpr std::size_t max_text = 512;
  std::string out;
  for (std::size_t i = 0; i < s.size() && i < max_text; ++i) {
    out += (s[i] < 0x20 || s[i] == 0x7f) ? '?' : static_cast<char>(s[i]);
  }
  if (s.size() > max_text) out += "...";
  return out;
}

const char* action_name(std::uint32_t a) {
  switch (a) {
    case 0:
      return "connect";
    case 1:
      return "announce";
    case 2:
      return "scrape";
    case 3:
      return "error";
  }
  return "unknown";
}

std::string address_text(bool v6, const std::uint8_t* raw) {
  if (v6) return ipv6_text(std::span<const std::uint8_t, 16>(raw, 16));
  return ipv4_text(std::span<const std::uint8_t, 4>(raw, 4));
}

result<reply> decode_announce(std::span<const std::uint8_t> p, family fam,
                              const response_limits& lim) {
  constexpr std::size_t head = 20;
  const std::size_t entry = fam == family::v6 ? 18 : 6;
  if (p.size() < head) {
    return make_error("announce reply is " + std::to_string(p.size()) +
                      " bytes, shorter than the 20-byte minimum");
  }
  const std::size_t peer_bytes = p.size() - head;
  if (peer_bytes % entry != 0) {
    return make_error("announce reply has " + std::to_string(peer_bytes) +
                      " bytes of peers, not a multiple of " + std::to_string(entry) +
                      (fam == family::v6 ? " (IPv6)" : " (IPv4)"));
  }
  reply out;
  out.act = action::announce;
  auto& a = out.announce;
  auto interval = static_cast<std::int64_t>(get32(p.data() + 8));
  if (interval < lim.min_interval_floor.count()) {
    a.notes.push_back("interval " + std::to_string(interval) + " clamped to " +
                      std::to_string(lim.min_interval_floor.count()) + " s");
    a.interval = lim.min_interval_floor;
  } else if (interval > lim.max_interval.count()) {
    a.notes.push_back("interval " + std::to_string(interval) + " clamped to " +
                      std::to_string(lim.max_interval.count()) + " s");
    a.interval = lim.max_interval;
  } else {
    a.interval = std::chrono::seconds(interval);
  }
  a.incomplete = get32(p.data() + 12);  // leechers
  a.complete = get32(p.data() + 16);    // seeders
  std::size_t zero_ports = 0, dropped = 0;
  for (std::size_t off = head; off < p.size(); off += entry) {
    const std::uint8_t* e = p.data() + off;
    auto port = static_cast<std::uint16_t>((e[entry - 2] << 8) | e[entry - 1]);
    if (port == 0) {
      ++zero_ports;
    } else if (a.peers.size() >= lim.max_peers) {
      ++dropped;
    } else {
      a.peers.push_back({address_text(fam == family::v6, e), port, {}});
    }
  }
  if (zero_ports) a.notes.push_back("skipped " + std::to_string(zero_ports) + " peers with port 0");
  if (dropped) {
    a.notes.push_back("dropped " + std::to_string(dropped) + " peers over the limit of " +
                      std::to_string(lim.max_peers));
  }
  return out;
}

result<reply> decode_scrape(std::span<const std::uint8_t> p, std::span<const sha1_hash> hashes) {
  constexpr std::size_t head = 8, entry = 12;
  const std::size_t body = p.size() - head;
  if (body % entry != 0) {
    return make_error("scrape reply has " + std::to_string(body) +
                      " bytes of counts, not a multiple of 12");
  }
  if (body / entry > hashes.size()) {
    return make_error("scrape reply has " + std::to_string(body / entry) + " entries for " +
                      std::to_string(hashes.size()) + " info-hashes asked");
  }
  reply out;
  out.act = action::scrape;
  for (std::size_t i = 0; i < body / entry; ++i) {
    const std::uint8_t* e = p.data() + head + i * entry;
    scrape_stats s;
    s.info_hash = hashes[i];
    s.seeders = get32(e);
    s.completed = get32(e + 4);
    s.leechers = get32(e + 8);
    out.scrape.push_back(std::move(s));
  }
  return out;
}

}  // namespace

std::array<std::uint8_t, 16> encode_connect(std::uint32_t transaction_id) {
  std::array<std::uint8_t, 16> out{};
  put64(out.data(), protocol_id);
  put32(out.data() + 8, static_cast<std::uint32_t>(action::connect));
  put32(out.data() + 12, transaction_id);
  return out;
}

result<std::vector<std::uint8_t>> encode_announce(std::uint64_t connection_id,
                                                  std::uint32_t transaction_id,
                                                  const announce_request& req) {
  if (req.uploaded < 0 || req.downloaded < 0 || req.left < 0) {
    return make_error("negative byte count in announce (uploaded, downloaded or left)");
  }
  std::vector<std::uint8_t> out(announce_request_size);
  std::uint8_t* p = out.data();
  put64(p, connection_id);
  put32(p + 8, static_cast<std::uint32_t>(action::announce));
  put32(p + 12, transaction_id);
  std::copy(req.info_hash.bytes.begin(), req.info_hash.bytes.end(), p + 16);
  std::copy(req.peer_id.begin(), req.peer_id.end(), p + 36);
  put64(p + 56, static_cast<std::uint64_t>(req.downloaded));
  put64(p + 64, static_cast<std::uint64_t>(req.left));
  put64(p + 72, static_cast<std::uint64_t>(req.uploaded));
  put32(p + 80, event_code(req.ev));
  put32(p + 84, 0);  // IP address: 0 = the sender's
  put32(p + 88, req.key);
  put32(p + 92, req.numwant < 0 ? 0xffffffffu : static_cast<std::uint32_t>(req.numwant));
  p[96] = static_cast<std::uint8_t>(req.port >> 8);
  p[97] = static_cast<std::uint8_t>(req.port);
  return out;
}

result<std::vector<std::uint8_t>> encode_scrape(std::uint64_t connection_id,
                                                std::uint32_t transaction_id,
                                                std::span<const sha1_hash> hashes) {
  if (hashes.empty()) return make_error("scrape without an info-hash");
  if (hashes.size() > max_scrape_hashes) {
    return make_error("a UDP scrape carries at most " + std::to_string(max_scrape_hashes) +
                      " info-hashes, not " + std::to_string(hashes.size()));
  }
  std::vector<std::uint8_t> out(16 + 20 * hashes.size());
  put64(out.data(), connection_id);
  put32(out.data() + 8, static_cast<std::uint32_t>(action::scrape));
  put32(out.data() + 12, transaction_id);
  for (std::size_t i = 0; i < hashes.size(); ++i) {
    std::copy(hashes[i].bytes.begin(), hashes[i].bytes.end(), out.data() + 16 + 20 * i);
  }
  return out;
}

std::optional<header> peek_header(std::span<const std::uint8_t> packet) {
  if (packet.size() < 8) return std::nullopt;
  return header{get32(packet.data()), get32(packet.data() + 4)};
}

result<reply> decode_reply(std::span<const std::uint8_t> packet, action expected,
                           std::uint32_t transaction_id, family fam,
                           std::span<const sha1_hash> scrape_hashes, const response_limits& lim) {
  auto h = peek_header(packet);
  if (!h) {
    return make_error("reply is " + std::to_string(packet.size()) +
                      " bytes, shorter than the 8-byte header");
  }
  if (h->transaction_id != transaction_id) {
    return make_error("reply has transaction id " + std::to_string(h->transaction_id) +
                      ", expected " + std::to_string(transaction_id));
  }
  if (h->act == static_cast<std::uint32_t>(action::error)) {
    reply out;
    out.act = action::error;
    out.error = printable(packet.subspan(8));
    if (out.error.empty()) out.error = "(no message)";
    return out;
  }
  if (h->act != static_cast<std::uint32_t>(expected)) {
    return make_error(std::string("reply action is ") + action_name(h->act) + " (" +
                      std::to_string(h->act) + "), expected " +
                      action_name(static_cast<std::uint32_t>(expected)));
  }
  switch (expected) {
    case action::connect: {
      // BEP 15 asks clients to accept longer packets (future extensions); shorter is broken.
      if (packet.size() < 16) {
        return make_error("connect reply is " + std::to_string(packet.size()) +
                          " bytes, shorter than 16");
      }
      reply out;
      out.act = action::connect;
      out.connection_id = get64(packet.data() + 8);
      return out;
    }
    case action::announce:
      return decode_announce(packet, fam, lim);
    case action::scrape:
      return decode_scrape(packet, scrape_hashes);
    case action::error:
      break;
  }
  return make_error("cannot expect an error reply");
}

}  // namespace peerwire::tracker::udp
