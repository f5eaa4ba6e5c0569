// net::udp_socket: the session's one UDP socket, shared by everything that speaks UDP on the
// listen port. It sends to any endpoint without waiting, receives in batches and hands each
// datagram to the owner of its kind (classify_datagram(): UDP tracker replies, uTP, KRPC).
//
// Not a public header: it includes Asio. Everything runs on the executor's thread (no locks);
// open() may also be called before that thread runs.
//
// Receiving: the socket waits for readability, then drains it with recvmmsg (Linux; one
// non-blocking receive per datagram elsewhere), up to `batch` datagrams per call and
// `batches_per_wakeup` calls before yielding to other work on the thread. Each datagram goes
// to its kind's handler, its data valid only during the call; after each batch, the batch-end
// handler of every kind that got datagrams in it runs (uTP flushes its ACKs there). A datagram
// nobody takes is counted as dropped for its kind. Receive errors (ICMP reports on some
// systems) are counted and never end the loop.
//
// Sending: send_to() tries a non-blocking send at once (no copy). When the kernel's buffer is
// full it copies the datagram into a bounded queue that drains when the socket is writable;
// when that queue is full too the datagram is dropped and counted (uTP treats this as
// congestion). Sources and destinations are plain IPv4 endpoints even on a dual-stack socket.
#pragma once

#include <array>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/udp.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "peerwire/net_datagram.hpp"
#include "peerwire/result.hpp"

namespace peerwire::net {

struct udp_socket_options {
  // SO_RCVBUF / SO_SNDBUF asked for, best effort (Linux caps them at net.core.rmem_max and
  // wmem_max): a uTP ACK storm or a DHT burst must fit while the thread is busy elsewhere.
  int kernel_buffer_bytes = 4 << 20;
  // Bytes of datagrams that may wait for the socket to become writable.
  std::size_t send_queue_bytes = 1 << 20;
  // Datagrams per recvmmsg call, and calls per readiness before other work gets the thread.
  std::size_t batch = 32;
  std::size_t batches_per_wakeup = 8;
};

enum class send_status {
  sent,        // handed to the kernel
  queued,      // copied; goes out when the socket is writable
  queue_full,  // dropped: the kernel buffer and the send queue are full (congestion)
};

struct udp_counters {
  std::array<std::uint64_t, datagram_kinds> received{};  // handed to a handler that took it
  std::array<std::uint64_t, datagram_kinds> dropped{};   // no handler, or not taken
  std::uint64_t batches = 0;                             // receive calls that returned datagrams
  std::uint64_t receive_errors = 0;  // failed receives (ICMP reports, truncation)
  std::uint64_t sent = 0;            // datagrams handed to the kernel (at once or from the queue)
  std::uint64_t queued = 0;          // of which waited in the send queue first
  std::uint64_t queue_full = 0;      // dropped by send_to(): queue full
  std::uint64_t send_errors = 0;     // refused by the kernel (at once or from the queue)
};

class udp_socket {
 public:
  using udp = boost::asio::ip::udp;
  using endpoint = udp::endpoint;
  // Every datagram of one kind with its source; `data` is valid only during the call. Returns
  // whether it took the datagram (false: counted as dropped, e.g. a reply nobody waits for).
  using datagram_handler = std::function<bool(const endpoint& from, std::span<const std::uint8_t>)>;
  // After a receive batch that handed `count` datagrams of the kind to its handler.
  using batch_end_handler = std::function<void(std::size_t count)>;

  explicit udp_socket(boost::asio::any_io_executor ex, udp_socket_options opts = {});
  ~udp_socket();  // close(); safe while a receive is pending
  udp_socket(const udp_socket&) = delete;
  udp_socket& operator=(const udp_socket&) = delete;

  // Binds and starts receiving. "0.0.0.0" and "::" open one dual-stack IPv6 socket (IPv4
  // peers as mapped addresses) when the system allows, else an IPv4 one; a specific address
  // opens a socket of its family. Port 0 picks a free port. Returns the bound port.
  result<std::uint16_t> open(const std::string& bind_address, std::uint16_t port);
  // Stops receiving and sending (the queue is discarded). Registrations stay: open() may be
  // called again.
  void close();
  bool is_open() const;
  std::uint16_t local_port() const;  // 0 when closed
  // Whether `to` can be reached from this socket (an IPv4 socket cannot send to IPv6).
  bool can_reach(const endpoint& to) const;

  // Registration points, one owner per kind: tracker replies (tracker::udp_transactions),
  // uTP (BEP 29) and KRPC (BEP 5) when they exist, `unknown` for diagnostics. An empty
  // function unregisters; a kind without a handler is only counted as dropped. A handler may
  // call send_to() and close(), and may replace or clear any registration, its own included
  // (it then finishes its call; the next datagram goes to the new handler).
  void on_datagram(datagram_kind kind, datagram_handler h);
  void on_batch_end(datagram_kind kind, batch_end_handler h);

  // Sends one datagram without blocking. Errors: the socket is closed, `to` is of a family the
  // socket cannot reach, or the kernel refused it at once (no route, too large). Datagrams
  // refused later, from the queue, are only counted.
  result<send_status> send_to(const endpoint& to, std::span<const std::uint8_t> data);

  const udp_counters& counters() const;
  // Datagrams of every kind that nobody took.
  std::uint64_t dropped() const;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace peerwire::net
