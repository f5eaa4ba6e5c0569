// libFuzzer target for what a tracker sends us: the announce response body (any input either
// fails with a reason or yields a response within the limits), and, since the same bytes could
// be a redirect's Location header, the URL helpers that read it.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "peerwire/tracker.hpp"

namespace pt = peerwire::tracker;

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "invariant broken: %s\n", what);
  std::abort();
}

void check_response(std::string_view body) {
  pt::response_limits lim;
  lim.max_peers = 64;  // small, so the over-the-limit path is reached too
  auto r = pt::parse_announce_response(body, lim);
  if (!r) {
    if (r.error().message.empty()) fail("error without a reason");
    return;
  }
  if (r->failure_reason && !r->peers.empty()) fail("peers read from a failure response");
  if (r->peers.size() > lim.max_peers) fail("peer limit exceeded");
  if (r->interval < lim.min_interval_floor || r->interval > lim.max_interval) {
    fail("interval outside the clamp range");
  }
  for (const auto& p : r->peers) {
    if (p.port == 0 || p.address.empty()) fail("unusable peer kept");
  }
}

void check_urls(std::string_view text) {
  if (auto parts = pt::split_http_url(text)) {
    if (parts->host.empty() || parts->port == 0 || parts->target.empty() ||
        parts->target.front() != '/') {
      fail("split_http_url accepted an unusable URL");
    }
  }
  if (auto next = pt::resolve_redirect("http://tracker.example/a/b?x=1", text)) {
    if (!pt::split_http_url(*next)) fail("resolve_redirect returned an unusable URL");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  check_response(input);
  if (size <= 2048) check_urls(input);
  return 0;
}
