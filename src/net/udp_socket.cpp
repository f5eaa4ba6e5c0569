// net::udp_socket (see udp_socket.hpp): binding, the batched receive loop, routing by kind,
// and non-blocking sends with a bounded queue.
#include "udp_socket.hpp"

#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <vector>

#if defined(__linux__)
#include <sys/socket.h>
#define PEERWIRE_HAVE_RECVMMSG 1
#endif

namespace peerwire::net {

namespace asio = boost::asio;
using error_code = boost::system::error_code;
using udp = asio::ip::udp;

namespace {

// One receive slot holds the largest UDP payload (65507 bytes over IPv4, 65527 over IPv6),
// so no datagram is ever truncated: uTP packets on loopback (MTU 64 KiB) can be that large.
// The slots are allocated without initialisation: the kernel touches only the pages a
// datagram fills, so 32 slots cost 2 MiB of address space but a few pages of memory for
// MTU-sized traffic.
constexpr std::size_t slot_bytes = 65536;
// After this many receive errors in a row the loop pauses briefly: a broken socket must not
// spin the network thread.
constexpr int errors_before_pause = 100;
constexpr std::chrono::milliseconds error_pause{100};

udp::endpoint unmapped(const udp::endpoint& e) {
  if (e.address().is_v6() && e.address().to_v6().is_v4_mapped()) {
    return {asio::ip::make_address_v4(asio::ip::v4_mapped, e.address().to_v6()), e.port()};
  }
  return e;
}

std::size_t index(datagram_kind k) {
  return static_cast<std::size_t>(k);
}

}  // namespace

struct udp_socket::impl : std::enable_shared_from_this<impl> {
  impl(asio::any_io_executor ex, udp_socket_options o) : socket(ex), pause(ex), opts(std::move(o)) {
    if (opts.batch == 0) opts.batch = 1;
    if (opts.batches_per_wakeup == 0) opts.batches_per_wakeup = 1;
  }

  struct queued_datagram {
    udp::endpoint to;  // already mapped for the socket's family
    std::vector<std::uint8_t> data;
  };

  udp::socket socket;
  asio::steady_timer pause;
  udp_socket_options opts;
  bool dual_stack = false;
  bool closed = true;
  // Bumped by every open() and close(): a completion from an earlier socket does nothing.
  std::uint64_t generation = 0;
  // shared_ptr so a handler replaced or cleared while it runs stays alive until it returns.
  std::array<std::shared_ptr<const datagram_handler>, datagram_kinds> handlers;
  std::array<std::shared_ptr<const batch_end_handler>, datagram_kinds> batch_ends;
  udp_counters counters;
  int errors_in_a_row = 0;

  std::unique_ptr<std::uint8_t[]> slots;  // opts.batch * slot_bytes, allocated by open()
#ifdef PEERWIRE_HAVE_RECVMMSG
  std::vector<mmsghdr> headers;
  std::vector<iovec> iovecs;
  std::vector<sockaddr_storage> sources;
#endif

  std::deque<queued_datagram> send_queue;
  std::size_t send_queue_bytes = 0;
  bool waiting_to_write = false;

  bool current(std::uint64_t g) const {
    return !closed && g == generation;
  }

  void allocate_slots() {
    if (slots) return;
    slots.reset(new std::uint8_t[opts.batch * slot_bytes]);  // uninitialised on purpose
#ifdef PEERWIRE_HAVE_RECVMMSG
    headers.resize(opts.batch);
    iovecs.resize(opts.batch);
    sources.resize(opts.batch);
#endif
  }

  // --- receiving ------------------------------------------------------------------------

  void wait_readable() {
    socket.async_wait(udp::socket::wait_read,
                      [self = shared_from_this(), g = generation](const error_code& ec) {
                        self->on_readable(g, ec);
                      });
  }

  void on_readable(std::uint64_t g, const error_code& ec) {
    if (!current(g)) return;
    if (ec) {
      // Not seen on Linux, but a failing wait must not spin: count it and retry later.
      ++counters.receive_errors;
      pause_then_wait(g);
      return;
    }
    for (std::size_t round = 0; round < opts.batches_per_wakeup; ++round) {
      std::size_t n = receive_batch();
      if (!current(g)) return;    // a handler closed the socket
      if (n < opts.batch) break;  // drained (or an error was counted)
    }
    if (errors_in_a_row >= errors_before_pause) {
      pause_then_wait(g);
    } else {
      // Still readable after the last round: the wait completes at once, but other work
      // queued on the thread runs first.
      wait_readable();
    }
  }

  void pause_then_wait(std::uint64_t g) {
    errors_in_a_row = 0;
    pause.expires_after(error_pause);
    pause.async_wait([self = shared_from_this(), g](const error_code& ec) {
      if (!ec && self->current(g)) self->wait_readable();
    });
  }

  // Receives up to opts.batch datagrams and delivers them. Returns how many arrived.
  std::size_t receive_batch() {
#ifdef PEERWIRE_HAVE_RECVMMSG
    for (std::size_t i = 0; i < opts.batch; ++i) {
      iovecs[i] = {slots.get() + i * slot_bytes, slot_bytes};
      auto& h = headers[i].msg_hdr;
      h = {};
      h.msg_name = &sources[i];
      h.msg_namelen = sizeof(sockaddr_storage);
      h.msg_iov = &iovecs[i];
      h.msg_iovlen = 1;
      headers[i].msg_len = 0;
    }
    int got;
    do {
      got = ::recvmmsg(socket.native_handle(), headers.data(), static_cast<unsigned>(opts.batch),
                       MSG_DONTWAIT, nullptr);
    } while (got < 0 && errno == EINTR);
    if (got < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK) note_receive_error();
      return 0;
    }
    errors_in_a_row = 0;
    auto n = static_cast<std::size_t>(got);
    if (n > 0) ++counters.batches;
    std::array<std::size_t, datagram_kinds> per_kind{};
    for (std::size_t i = 0; i < n && !closed; ++i) {
      if (headers[i].msg_hdr.msg_flags & MSG_TRUNC) {
        note_receive_error();  // cannot happen with 64 KiB slots; never deliver a partial one
        continue;
      }
      udp::endpoint from;
      std::memcpy(from.data(), &sources[i], headers[i].msg_hdr.msg_namelen);
      from.resize(headers[i].msg_hdr.msg_namelen);
      deliver(unmapped(from), {slots.get() + i * slot_bytes, headers[i].msg_len}, per_kind);
    }
#else
    std::array<std::size_t, datagram_kinds> per_kind{};
    std::size_t n = 0;
    for (; n < opts.batch && !closed; ++n) {
      udp::endpoint from;
      error_code ec;
      auto len = socket.receive_from(asio::buffer(slots.get(), slot_bytes), from, 0, ec);
      if (ec) {
        if (ec != asio::error::would_block) note_receive_error();
        break;
      }
      errors_in_a_row = 0;
      deliver(unmapped(from), {slots.get(), len}, per_kind);
    }
    if (n > 0) ++counters.batches;
#endif
    for (std::size_t k = 0; k < datagram_kinds && !closed; ++k) {
      if (per_kind[k] == 0) continue;
      if (auto end = batch_ends[k]) (*end)(per_kind[k]);
    }
    return n;
  }

  // ECONNREFUSED and friends (an ICMP report for an earlier send, on systems that deliver
  // them to unconnected sockets) concern one destination, not the socket: count and go on.
  void note_receive_error() {
    ++counters.receive_errors;
    ++errors_in_a_row;
  }

  void deliver(const udp::endpoint& from, std::span<const std::uint8_t> data,
               std::array<std::size_t, datagram_kinds>& per_kind) {
    auto k = index(classify_datagram(data));
    auto h = handlers[k];  // a copy: the handler may replace its own registration
    if (h && (*h)(from, data)) {
      ++counters.received[k];
    } else {
      ++counters.dropped[k];
    }
    if (h) ++per_kind[k];
  }

  // --- sending --------------------------------------------------------------------------

  // One non-blocking send. would_block: the kernel buffer is full.
  error_code try_send(const udp::endpoint& to, std::span<const std::uint8_t> data) {
    error_code ec;
    socket.send_to(asio::buffer(data.data(), data.size()), to, 0, ec);
    if (ec == asio::error::interrupted)
      socket.send_to(asio::buffer(data.data(), data.size()), to, 0, ec);
    return ec;
  }

  void wait_writable() {
    if (waiting_to_write) return;
    waiting_to_write = true;
    socket.async_wait(udp::socket::wait_write,
                      [self = shared_from_this(), g = generation](const error_code& ec) {
                        self->on_writable(g, ec);
                      });
  }

  void on_writable(std::uint64_t g, const error_code& ec) {
    if (g != generation) return;  // an old socket's wait; the new one has its own flag
    waiting_to_write = false;
    if (closed) return;
    if (ec) {
      // A failing wait would leave the queue stuck: drop what waits, count it.
      counters.send_errors += send_queue.size();
      send_queue.clear();
      send_queue_bytes = 0;
      return;
    }
    while (!send_queue.empty()) {
      auto& d = send_queue.front();
      auto e = try_send(d.to, d.data);
      if (e == asio::error::would_block || e == asio::error::try_again) {
        wait_writable();
        return;
      }
      if (e) {
        ++counters.send_errors;
      } else {
        ++counters.sent;
      }
      send_queue_bytes -= d.data.size();
      send_queue.pop_front();
    }
  }

  void drop_queue() {
    send_queue.clear();
    send_queue_bytes = 0;
  }
};

udp_socket::udp_socket(asio::any_io_executor ex, udp_socket_options opts)
    : impl_(std::make_shared<impl>(std::move(ex), std::move(opts))) {}

udp_socket::~udp_socket() {
  close();
  // The state lives on until the aborted waits complete; the owners' handlers need not.
  for (auto& h : impl_->handlers) h.reset();
  for (auto& h : impl_->batch_ends) h.reset();
}

result<std::uint16_t> udp_socket::open(const std::string& bind_address, std::uint16_t port) {
  auto& s = *impl_;
  if (s.socket.is_open()) return make_error("UDP socket already open");
  error_code ec;
  auto addr = asio::ip::make_address(bind_address, ec);
  if (ec) return make_error("'" + bind_address + "' is not an IP address to bind UDP to");
  auto try_bind = [&](const udp::endpoint& ep, bool dual) -> error_code {
    error_code e;
    s.socket.open(ep.protocol(), e);
    if (e) return e;
    if (dual) s.socket.set_option(asio::ip::v6_only(false), e);
    if (!e) s.socket.bind(ep, e);
    if (!e) s.socket.non_blocking(true, e);
    if (e) {
      error_code ignored;
      s.socket.close(ignored);
    }
    return e;
  };
  s.dual_stack = false;
  if (addr.is_unspecified()) {
    // One socket for both families when the system has IPv6; otherwise IPv4 only.
    ec = try_bind({udp::v6(), port}, true);
    if (!ec) {
      s.dual_stack = true;
    } else {
      ec = try_bind({udp::v4(), port}, false);
    }
  } else {
    ec = try_bind({addr, port}, false);
  }
  if (ec) {
    return make_error("cannot open a UDP socket on " + bind_address + " port " +
                      std::to_string(port) + ": " + ec.message());
  }
  // Best effort: the kernel caps (or refuses) sizes above its limits, and a small buffer
  // only costs drops under load.
  error_code ignored;
  s.socket.set_option(asio::socket_base::receive_buffer_size(s.opts.kernel_buffer_bytes), ignored);
  s.socket.set_option(asio::socket_base::send_buffer_size(s.opts.kernel_buffer_bytes), ignored);
  auto local = s.socket.local_endpoint(ec);
  if (ec) {
    s.socket.close(ignored);
    return make_error("cannot open a UDP socket on " + bind_address + ": " + ec.message());
  }
  s.allocate_slots();
  s.closed = false;
  ++s.generation;
  s.waiting_to_write = false;
  s.wait_readable();
  return local.port();
}

void udp_socket::close() {
  auto& s = *impl_;
  s.closed = true;
  ++s.generation;
  error_code ignored;
  s.socket.close(ignored);  // pending waits complete with operation_aborted and do nothing
  s.pause.cancel();
  s.drop_queue();
}

bool udp_socket::is_open() const {
  return !impl_->closed && impl_->socket.is_open();
}

std::uint16_t udp_socket::local_port() const {
  if (!is_open()) return 0;
  error_code ec;
  auto local = impl_->socket.local_endpoint(ec);
  return ec ? 0 : local.port();
}

bool udp_socket::can_reach(const endpoint& to) const {
  if (!is_open()) return false;
  if (impl_->dual_stack) return true;
  error_code ec;
  auto local = impl_->socket.local_endpoint(ec);
  if (ec) return false;
  return local.address().is_v4() == unmapped(to).address().is_v4();
}

void udp_socket::on_datagram(datagram_kind kind, datagram_handler h) {
  impl_->handlers[index(kind)] =
      h ? std::make_shared<const datagram_handler>(std::move(h)) : nullptr;
}

void udp_socket::on_batch_end(datagram_kind kind, batch_end_handler h) {
  impl_->batch_ends[index(kind)] =
      h ? std::make_shared<const batch_end_handler>(std::move(h)) : nullptr;
}

result<send_status> udp_socket::send_to(const endpoint& to, std::span<const std::uint8_t> data) {
  auto& s = *impl_;
  if (!is_open()) return make_error("the UDP socket is closed");
  auto plain = unmapped(to);
  auto describe = [&] { return plain.address().to_string() + ":" + std::to_string(plain.port()); };
  if (!can_reach(plain)) {
    return make_error("cannot send to " + describe() +
                      " from the UDP socket (other address family)");
  }
  udp::endpoint dest = plain;
  if (s.dual_stack && plain.address().is_v4()) {
    dest = {asio::ip::make_address_v6(asio::ip::v4_mapped, plain.address().to_v4()), plain.port()};
  }
  // Behind a queue, a datagram waits its turn: sending it first would reorder the stream.
  if (s.send_queue.empty()) {
    auto ec = s.try_send(dest, data);
    if (!ec) {
      ++s.counters.sent;
      return send_status::sent;
    }
    if (ec != asio::error::would_block && ec != asio::error::try_again) {
      ++s.counters.send_errors;
      return make_error("cannot send to " + describe() + ": " + ec.message());
    }
  }
  if (s.send_queue_bytes + data.size() > s.opts.send_queue_bytes) {
    ++s.counters.queue_full;
    return send_status::queue_full;
  }
  s.send_queue.push_back({dest, {data.begin(), data.end()}});
  s.send_queue_bytes += data.size();
  ++s.counters.queued;
  s.wait_writable();
  return send_status::queued;
}

const udp_counters& udp_socket::counters() const {
  return impl_->counters;
}

std::uint64_t udp_socket::dropped() const {
  std::uint64_t total = 0;
  for (auto d : impl_->counters.dropped) total += d;
  return total;
}

}  // namespace peerwire::net
