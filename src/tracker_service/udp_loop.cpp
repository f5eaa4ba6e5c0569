// The UDP side: one coroutine per socket. After each awaited datagram it drains whatever else
// is already queued with non-blocking reads, so a busy tracker pays for one coroutine
// resumption per burst rather than per packet. Replies are sent non-blocking: when the send
// buffer is full the reply is dropped, which UDP clients already handle by retrying.
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "parts.hpp"

namespace peerwire::tracker_service::detail {

namespace asio = boost::asio;
using udp = asio::ip::udp;

tracker_server::endpoint to_endpoint(const asio::ip::address& a, std::uint16_t port) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    return tracker_server::endpoint::v4_from(
        asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).to_bytes(), port);
  }
  if (a.is_v4()) return tracker_server::endpoint::v4_from(a.to_v4().to_bytes(), port);
  return tracker_server::endpoint::v6_from(a.to_v6().to_bytes(), port);
}

asio::awaitable<void> udp_loop(udp::socket& sock, shared_state& st) {
  constexpr int max_burst = 256;
  // Larger than any datagram we serve, so an oversized one is seen as such and dropped.
  std::array<std::uint8_t, tracker_server::udp_max_packet + 512> buf;
  std::vector<std::uint8_t> out;
  out.reserve(2048);
  std::string line;
  udp::endpoint from;
  boost::system::error_code ec;
  sock.non_blocking(true, ec);
  while (!st.stopping) {
    auto [rec, n] = co_await sock.async_receive_from(asio::buffer(buf), from,
                                                     asio::as_tuple(asio::use_awaitable));
    if (rec == asio::error::operation_aborted || st.stopping) co_return;
    if (rec) continue;  // e.g. ICMP port unreachable reported on the socket: not fatal
    for (int burst = 0;; ++burst) {
      const auto now = std::chrono::steady_clock::now();
      auto peer = to_endpoint(from.address(), from.port());
      std::string* log = st.opt.verbose ? &line : nullptr;
      line.clear();
      ++st.requests;
      if (st.srv.udp(std::span<const std::uint8_t>(buf.data(), n), peer, now, out, log)) {
        sock.send_to(asio::buffer(out), from, 0, ec);  // dropped if it would block
      }
      if (log && !line.empty() && st.opt.log) st.opt.log(line);
      if (burst + 1 >= max_burst) break;
      n = sock.receive_from(asio::buffer(buf), from, 0, ec);
      if (ec) break;  // would_block: back to waiting
    }
  }
}

}  // namespace peerwire::tracker_service::detail
