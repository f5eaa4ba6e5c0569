// libFuzzer target for what a UDP client can send `peerwire tracker` (BEP 15). The first byte
// picks whether the packet's connection id is replaced by one the server minted for the
// sender, so the fuzzer reaches announce/scrape/error handling and not only the silent drop.
// Any input is dropped or answered with a well-formed reply: connect 16 bytes, announce
// 20 + 6n, scrape 8 + 12n, error 8 + text, with the request's transaction id.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "peerwire/tracker_server_proto.hpp"

namespace ts = peerwire::tracker_server;

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "invariant broken: %s\n", what);
  std::abort();
}

std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         p[3];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static ts::server srv = [] {
    ts::settings s;
    s.max_torrents = 500;
    s.max_peers = 2000;
    return ts::server(s, std::array<std::uint8_t, 32>{4, 5, 6}, 9);
  }();
  if (size == 0) return 0;
  const bool forge_valid_id = (data[0] & 1) != 0;
  std::vector<std::uint8_t> packet(data + 1, data + size);
  const auto now = ts::time_point{} + std::chrono::seconds(5'000'000);
  const auto from = ts::endpoint::v4_from({192, 0, 2, 1}, 6881);
  if (forge_valid_id && packet.size() >= 16) {
    // Ask the server for an id the honest way, then put it in the packet.
    std::vector<std::uint8_t> req = {0, 0, 4, 0x17, 0x27, 0x10, 0x19, 0x80, 0, 0, 0, 0, 0, 0, 0, 1};
    std::vector<std::uint8_t> rep;
    if (!srv.udp(req, from, now, rep) || rep.size() != 16) fail("connect failed");
    std::copy(rep.begin() + 8, rep.end(), packet.begin());
  }

  (void)ts::decode_udp_request(packet, 74);
  std::vector<std::uint8_t> out;
  if (!srv.udp(packet, from, now, out)) return 0;
  if (out.size() < 8) fail("reply shorter than its header");
  if (be32(out.data() + 4) != be32(packet.data() + 12)) fail("transaction id not echoed");
  switch (be32(out.data())) {
    case 0:
      if (out.size() != 16) fail("connect reply size");
      break;
    case 1:
      if (out.size() < 20 || (out.size() - 20) % 6 != 0) fail("announce reply size");
      break;
    case 2:
      if ((out.size() - 8) % 12 != 0) fail("scrape reply size");
      break;
    case 3:
      break;
    default:
      fail("unknown reply action");
  }
  if (srv.swarms().torrent_count() > 500 || srv.swarms().peer_count() > 2000) fail("bounds");
  return 0;
}
