// udp_transactions: BEP 15 request/reply matching on the shared UDP socket (see udp_io.hpp).
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 reports a false -Wmismatched-new-delete for Asio coroutine frames here: the frame's
// class-level operator new/delete pair is matched, but inlining hides it (clang is clean).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <random>
#include <unordered_map>

#include "udp_io.hpp"

namespace peerwire::tracker {

namespace asio = boost::asio;
using udp_proto = asio::ip::udp;
using std::chrono::milliseconds;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

// The socket reports IPv4 sources as plain IPv4; a caller may still pass a mapped address.
udp_proto::endpoint unmapped(const udp_proto::endpoint& e) {
  if (e.address().is_v6() && e.address().to_v6().is_v4_mapped()) {
    return {asio::ip::make_address_v4(asio::ip::v4_mapped, e.address().to_v6()), e.port()};
  }
  return e;
}

}  // namespace

// Shared with the socket's handler and with every pending request, so either may outlive
// the udp_transactions object.
struct udp_transactions::impl {
  struct waiter {
    explicit waiter(const asio::any_io_executor& ex) : wake(ex) {}
    udp_proto::endpoint from;
    asio::steady_timer wake;
    std::optional<std::vector<std::uint8_t>> reply;
  };

  bool closed = false;
  std::mt19937 rng{std::random_device{}()};
  std::unordered_map<std::uint32_t, std::shared_ptr<waiter>> pending;
  std::uint64_t unmatched = 0;

  // The socket's `tracker` handler: the datagram is at least a BEP 15 reply header.
  bool take(const udp_proto::endpoint& from, std::span<const std::uint8_t> data) {
    auto head = udp::peek_header(data);
    if (head && !closed) {
      auto it = pending.find(head->transaction_id);
      if (it != pending.end() && it->second->from == from && !it->second->reply) {
        it->second->reply.emplace(data.begin(), data.end());
        it->second->wake.cancel();
        return true;
      }
    }
    ++unmatched;
    return false;
  }

  void close() {
    closed = true;
    for (auto& [tid, w] : pending) w->wake.cancel();
  }
};

udp_transactions::udp_transactions(net::udp_socket& socket)
    : socket_(socket), impl_(std::make_shared<impl>()) {
  socket_.on_datagram(net::datagram_kind::tracker, [s = impl_](const udp_proto::endpoint& from,
                                                               std::span<const std::uint8_t> data) {
    return s->take(from, data);
  });
}

udp_transactions::~udp_transactions() {
  socket_.on_datagram(net::datagram_kind::tracker, nullptr);
  impl_->close();
}

void udp_transactions::close() {
  impl_->close();
}

bool udp_transactions::is_open() const {
  return !impl_->closed && socket_.is_open();
}

std::uint32_t udp_transactions::new_transaction_id() {
  auto& s = *impl_;
  for (;;) {
    std::uint32_t id = s.rng();
    if (!s.pending.count(id)) return id;
  }
}

std::uint64_t udp_transactions::unmatched() const {
  return impl_->unmatched;
}

asio::awaitable<result<std::optional<std::vector<std::uint8_t>>>> udp_transactions::request(
    udp_proto::endpoint to, std::uint32_t transaction_id, std::vector<std::uint8_t> packet,
    milliseconds wait) {
  // Only `self` and the waiter are used after the first suspension: this object (and the
  // socket) may be gone by then.
  auto self = impl_;
  if (!is_open()) co_return make_error("the UDP socket is closed");
  to = unmapped(to);
  auto w = std::make_shared<impl::waiter>(co_await asio::this_coro::executor);
  w->from = to;
  w->wake.expires_after(wait);
  self->pending[transaction_id] = w;
  struct unregister {
    impl& s;
    std::uint32_t id;
    ~unregister() { s.pending.erase(id); }
  } guard{*self, transaction_id};

  // The destination may be unreachable right now (no route): that is this request's failure,
  // reported like a timeout would be, only sooner. A datagram dropped because the send queue
  // is full is a lost packet: the timeout and the retransmission deal with it.
  auto sent = socket_.send_to(to, packet);
  if (!sent) co_return sent.error();
  if (!w->reply) co_await w->wake.async_wait(tuple_awaitable);
  if (w->reply) co_return std::move(w->reply);
  if (self->closed) co_return make_error("the UDP socket is closed");
  co_return std::optional<std::vector<std::uint8_t>>{};
}

}  // namespace peerwire::tracker
