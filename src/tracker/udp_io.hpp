// The UDP tracker client (BEP 15) on the session's shared UDP socket (net::udp_socket).
//
// udp_transactions owns the socket's `tracker` kind: a request registers a transaction
// (remote endpoint + random transaction id), sends with udp_socket::send_to and waits; a reply
// is handed to the transaction whose id it carries *and* whose endpoint it came from. Late
// replies (to a retransmitted request) and forgeries from elsewhere are not taken: the socket
// counts them as dropped. Everything runs on the socket's thread.
//
// Not a public header: it includes Asio.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <cstdint>
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
#include "udp_socket.hpp"

namespace peerwire::tracker {

class udp_transactions {
 public:
  using endpoint = boost::asio::ip::udp::endpoint;

  // Registers as the socket's `tracker` handler. The socket must outlive this object.
  explicit udp_transactions(net::udp_socket& socket);
  ~udp_transactions();  // unregisters; pending requests end as if closed
  udp_transactions(const udp_transactions&) = delete;
  udp_transactions& operator=(const udp_transactions&) = delete;

  // Ends every pending request with "the UDP socket is closed"; later requests fail the same
  // way. The socket itself is its owner's to close.
  void close();
  bool is_open() const;
  bool can_reach(const endpoint& to) const { return socket_.can_reach(to); }

  // A random transaction id that no pending request uses.
  std::uint32_t new_transaction_id();
  // Sends `packet` to `to` and waits up to `wait` for a reply from `to` carrying
  // `transaction_id` (bytes 4..7, BEP 15 layout). nullopt: no reply in time (a datagram the
  // full send queue dropped is a lost packet, left to the retransmission). Error: the socket
  // is closed or the send failed.
  boost::asio::awaitable<result<std::optional<std::vector<std::uint8_t>>>> request(
      endpoint to, std::uint32_t transaction_id, std::vector<std::uint8_t> packet,
      std::chrono::milliseconds wait);

  // Tracker replies that came from the right endpoint with an unknown transaction id, or from
  // an endpoint no transaction waits on.
  std::uint64_t unmatched() const;

 private:
  struct impl;
  net::udp_socket& socket_;
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
  explicit udp_tracker(udp_transactions& transactions) : transactions_(transactions) {}

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

  udp_transactions& transactions_;
  std::map<boost::asio::ip::udp::endpoint, cached_id> ids_;
};

}  // namespace peerwire::tracker
