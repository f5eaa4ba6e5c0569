// The UDP side of a session: one socket shared by everything that speaks UDP, and the BEP 15
// tracker client on top of it.
//
// udp_mux owns the socket and its receive loop. A request registers a transaction (remote
// endpoint + transaction id) and waits; a datagram is handed to the transaction whose id it
// carries *and* whose endpoint it came from (a forged reply from elsewhere is ignored).
// Datagrams no transaction claims are offered to the listeners (uTP and the DHT will register
// here), and dropped when nobody takes them. Everything runs on the session's network thread.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "peerwire/result.hpp"
#include "peerwire/tracker.hpp"
#include "peerwire/tracker_scrape.hpp"
#include "peerwire/tracker_udp.hpp"

namespace peerwire::tracker {

class udp_mux {
 public:
  using udp = boost::asio::ip::udp;
  // Offered every datagram no transaction claimed; returns true when it took it.
  using listener = std::function<bool(const udp::endpoint& from, std::span<const std::uint8_t>)>;

  explicit udp_mux(boost::asio::any_io_executor ex);
  ~udp_mux();  // closes the socket
  udp_mux(const udp_mux&) = delete;
  udp_mux& operator=(const udp_mux&) = delete;

  // Binds and starts receiving. "0.0.0.0" and "::" open one dual-stack IPv6 socket (IPv4
  // peers as mapped addresses) when the system allows, else an IPv4 one; a specific address
  // opens a socket of its family. Port 0 picks a free port. Returns the bound port.
  result<std::uint16_t> open(const std::string& bind_address, std::uint16_t port);
  void close();
  bool is_open() const;
  // Whether `to` can be reached from this socket (an IPv4 socket cannot send to IPv6).
  bool can_reach(const udp::endpoint& to) const;

  void add_listener(listener l);

  // A random transaction id that no pending request uses.
  std::uint32_t new_transaction_id();
  // Sends `packet` to `to` and waits up to `wait` for a reply from `to` carrying
  // `transaction_id` (bytes 4..7, BEP 15 layout). nullopt: no reply in time. Error: the socket
  // is closed or the send failed.
  boost::asio::awaitable<result<std::optional<std::vector<std::uint8_t>>>> request(
      udp::endpoint to, std::uint32_t transaction_id, std::vector<std::uint8_t> packet,
      std::chrono::milliseconds wait);

  // Datagrams that nobody claimed, and those that came from the right endpoint with an
  // unknown transaction id (late replies to retransmitted requests, forgeries).
  std::uint64_t dropped() const;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

struct udp_options {
  // BEP 15: retransmit after 15 * 2^n s, n = 0, 1, ... max_retransmits (at most 8).
  std::chrono::milliseconds base_timeout{15000};
  int max_retransmits = 8;
  // When non-zero, a cap on the whole call (resolution, connect, request, retransmissions).
  std::chrono::milliseconds deadline{0};
};

// BEP 15 client: connection ids are cached per tracker endpoint and reused for one minute;
// requests are retransmitted with doubling timeouts; replies must carry our random
// transaction id. An error reply (action 3) to an announce is returned as a response with
// failure_reason set; to a connect or scrape, as an error "tracker says: ...".
class udp_tracker {
 public:
  explicit udp_tracker(udp_mux& mux) : mux_(mux) {}

  boost::asio::awaitable<result<announce_response>> announce(std::string url, announce_request req,
                                                             udp_options opts);
  // One scrape request (at most 74 hashes); stats in the order of `hashes`.
  boost::asio::awaitable<result<std::vector<scrape_stats>>> scrape(std::string url,
                                                                   std::vector<sha1_hash> hashes,
                                                                   udp_options opts);

 private:
  struct cached_id {
    std::uint64_t id = 0;
    std::chrono::steady_clock::time_point expires;
  };
  struct exchange;
  boost::asio::awaitable<result<udp::reply>> transact(exchange& x);

  udp_mux& mux_;
  std::map<boost::asio::ip::udp::endpoint, cached_id> ids_;
};

}  // namespace peerwire::tracker
