// libFuzzer target for what an HTTP client can send `peerwire tracker`: the request target.
// Any input gives a reply with a bencoded body that decodes, or a failure reason; the query
// parsers never accept a wrong-length info_hash/peer_id or an out-of-range port. One server
// lives across inputs (with small bounds) so announces build up swarms that later inputs hit.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "peerwire/bencode.hpp"
#include "peerwire/tracker_server_proto.hpp"

namespace ts = peerwire::tracker_server;

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "invariant broken: %s\n", what);
  std::abort();
}

ts::server& shared_server() {
  static ts::server srv = [] {
    ts::settings s;
    s.max_torrents = 500;
    s.max_peers = 2000;
    s.full_scrape = true;
    s.interval = std::chrono::seconds(60);
    return ts::server(s, std::array<std::uint8_t, 32>{1, 2, 3}, 7);
  }();
  return srv;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  static std::uint64_t calls = 0;
  const auto now = ts::time_point{} + std::chrono::seconds(1'000'000 + ++calls / 50);

  if (auto a = ts::parse_announce_query(in)) {
    if (a->port == 0) fail("port 0 accepted");
    if (a->left < 0 || a->uploaded < 0 || a->downloaded < 0) fail("negative byte count");
  } else if (a.error().message.empty()) {
    fail("announce error without a reason");
  }
  if (auto s = ts::parse_scrape_query(in, 74)) {
    if (s->size() > 74) fail("scrape bound exceeded");
  }

  // The same bytes as the target of /announce and /scrape requests, and as a raw target.
  auto& srv = shared_server();
  const auto from = ts::endpoint::v4_from({10, 0, static_cast<std::uint8_t>(size & 0xff), 1},
                                          static_cast<std::uint16_t>(1000 + size));
  std::string log;
  for (std::string target :
       {"/announce?" + std::string(in), "/scrape?" + std::string(in), std::string(in)}) {
    auto reply = srv.http(target, from, now, &log);
    auto doc = peerwire::bencode::decode(reply.body);
    if (!doc) fail("reply is not bencode");
    if (!doc->root().is_dict()) fail("reply is not a dictionary");
    if (reply.status != 200 && reply.status != 404) fail("unexpected status");
  }
  if (srv.swarms().torrent_count() > 500 || srv.swarms().peer_count() > 2000) fail("bounds");
  if (calls % 1000 == 0) srv.swarms().expire(now);
  return 0;
}
