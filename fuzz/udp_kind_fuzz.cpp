// libFuzzer target for the router of the shared UDP socket: every datagram anyone sends to the
// listen port goes through classify_datagram() first. Any input gets a kind, and the kind's
// promises (net_datagram.hpp) hold, since the owners rely on them before parsing.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

#include "peerwire/net_datagram.hpp"

namespace pn = peerwire::net;

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "invariant broken: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::uint8_t> d(data, size);
  switch (pn::classify_datagram(d)) {
    case pn::datagram_kind::tracker:
      if (size < pn::tracker_reply_min_size || d[0] != 0) fail("tracker: header");
      break;
    case pn::datagram_kind::utp:
      if (size < pn::utp_header_size || (d[0] & 0x0f) != 1 || (d[0] >> 4) > 4) fail("utp: header");
      break;
    case pn::datagram_kind::krpc:
      if (size < 2 || d.front() != 'd' || d.back() != 'e') fail("krpc: not a dictionary");
      break;
    case pn::datagram_kind::unknown:
      break;
    default:
      fail("no such kind");
  }
  return 0;
}
