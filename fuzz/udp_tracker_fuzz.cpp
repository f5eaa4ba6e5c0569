// libFuzzer target for what a UDP tracker sends us (BEP 15): the first input byte picks the
// request kind, the address family and how many hashes a scrape asked for; the rest is the
// datagram. Any input either fails with a reason or yields a reply within the limits.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

#include "peerwire/tracker_udp.hpp"

namespace udp = peerwire::tracker::udp;
namespace pt = peerwire::tracker;

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "invariant broken: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t mode = data[0];
  std::span<const std::uint8_t> packet(data + 1, size - 1);
  const auto expected = static_cast<udp::action>(mode % 3);  // connect, announce, scrape
  const auto fam = (mode & 0x04) ? udp::family::v6 : udp::family::v4;
  std::vector<peerwire::sha1_hash> hashes((mode >> 3) % 8);
  for (std::size_t i = 0; i < hashes.size(); ++i)
    hashes[i].bytes.fill(static_cast<std::uint8_t>(i));
  // The transaction id the reply must carry: take it from the packet half the time, so the
  // decoders behind the id check are reached.
  std::uint32_t tid = 0x01020304;
  if ((mode & 0x80) && packet.size() >= 8) {
    tid = (std::uint32_t{packet[4]} << 24) | (std::uint32_t{packet[5]} << 16) |
          (std::uint32_t{packet[6]} << 8) | packet[7];
  }
  pt::response_limits lim;
  lim.max_peers = 32;
  auto r = udp::decode_reply(packet, expected, tid, fam, hashes, lim);
  if (!r) {
    if (r.error().message.empty()) fail("error without a reason");
    return 0;
  }
  if (r->act != expected && r->act != udp::action::error) fail("reply of another kind");
  if (r->act == udp::action::error && r->error.empty()) fail("error reply without text");
  for (char c : r->error) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) fail("control byte in error text");
  }
  if (r->error.size() > 520) fail("error text not capped");
  if (r->announce.peers.size() > lim.max_peers) fail("peer limit exceeded");
  for (const auto& p : r->announce.peers) {
    if (p.port == 0 || p.address.empty()) fail("unusable peer kept");
  }
  if (r->announce.interval < lim.min_interval_floor || r->announce.interval > lim.max_interval) {
    fail("interval outside the clamp range");
  }
  if (r->scrape.size() > hashes.size()) fail("more scrape entries than hashes");
  return 0;
}
