// libFuzzer target for an HTTP tracker's scrape reply (BEP 48: bencoded, "files" keyed by raw
// 20-byte info-hashes) and, since the same bytes could be a tracker URL from a torrent, the
// scrape URL derivation and the URL policy that read it.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "peerwire/tracker_policy.hpp"
#include "peerwire/tracker_scrape.hpp"

namespace pt = peerwire::tracker;

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "invariant broken: %s\n", what);
  std::abort();
}

void check_reply(std::string_view body) {
  pt::scrape_limits lim;
  lim.max_files = 16;
  auto r = pt::parse_scrape_response(body, lim);
  if (!r) {
    if (r.error().message.empty()) fail("error without a reason");
    return;
  }
  if (r->failure_reason && !r->files.empty()) fail("files read from a failure response");
  if (r->files.size() > lim.max_files) fail("file limit exceeded");
  for (const auto& f : r->files) {
    if (f.seeders < 0 || f.leechers < 0 || f.completed < 0) fail("negative count");
  }
}

void check_url(std::string_view url) {
  auto kind = pt::tracker_url_kind(url);
  auto scrape = pt::scrape_url(url);
  if (scrape && !kind) fail("scrape URL for a refused tracker URL");
  if (scrape && *kind != pt::url_kind::udp) {
    if (scrape->find("/scrape") == std::string::npos) fail("scrape URL without /scrape");
    if (!pt::tracker_url_kind(*scrape)) fail("scrape URL with a refused scheme");
  }
  if (auto u = pt::split_udp_url(url)) {
    if (u->host.empty() || u->port == 0) fail("split_udp_url accepted an unusable URL");
  }
  (void)pt::classify_address(url);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  check_reply(input);
  if (size <= 2048) check_url(input);
  return 0;
}
