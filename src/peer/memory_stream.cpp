#include "memory_stream.hpp"

#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

namespace peerwire::peer {
namespace {

namespace asio = boost::asio;
using error_code = boost::system::error_code;
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

// One direction of a pair: bytes written at one end, waiting to be read at the other. A
// waiting reader or writer sleeps on a timer set to expire never; the other side cancels the
// timer to wake it. The wait is an ordinary Asio operation, so the awaiting coroutine's
// cancellation slot reaches it too.
struct pipe {
  explicit pipe(const asio::any_io_executor& ex, std::size_t cap)
      : capacity(std::max<std::size_t>(cap, 1)), reader_wake(ex), writer_wake(ex) {}

  std::deque<std::uint8_t> bytes;
  std::size_t capacity;            // at least 1, or a write could never make progress
  bool writer_closed = false;      // the writing end closed: EOF once `bytes` is drained
  bool reader_closed = false;      // the reading end closed: writes fail, nothing is kept
  bool reading = false;            // a read is pending at the reading end
  bool writing = false;            // a write is pending at the writing end
  asio::steady_timer reader_wake;  // cancelled when bytes arrive or either end closes
  asio::steady_timer writer_wake;  // cancelled when room is made or either end closes
};

struct pair_state {
  pair_state(const asio::any_io_executor& ex, std::size_t capacity)
      : a_to_b(ex, capacity), b_to_a(ex, capacity) {}
  pipe a_to_b;
  pipe b_to_a;
};

// Sleeps until another party cancels `wake`. True when the wake came from this coroutine's
// cancellation slot rather than from the other side: the caller then gives up without
// touching the buffer, so a read that lost a race with a timer loses no bytes.
asio::awaitable<bool> wait_for_wake(asio::steady_timer& wake) {
  wake.expires_at(asio::steady_timer::time_point::max());
  co_await wake.async_wait(tuple_awaitable);
  auto state = co_await asio::this_coro::cancellation_state;
  co_return state.cancelled() != asio::cancellation_type::none;
}

// Clears a pending-operation flag on every way out of a coroutine.
struct busy_flag {
  explicit busy_flag(bool& f) : flag(f) { flag = true; }
  ~busy_flag() { flag = false; }
  busy_flag(const busy_flag&) = delete;
  busy_flag& operator=(const busy_flag&) = delete;
  bool& flag;
};

class memory_stream final : public peer_stream {
 public:
  memory_stream(std::shared_ptr<pair_state> state, pipe& in, pipe& out, asio::any_io_executor ex,
                peer_address remote)
      : state_(std::move(state)), in_(&in), out_(&out), ex_(std::move(ex)), remote_(remote) {}
  ~memory_stream() override { close(); }
  memory_stream(const memory_stream&) = delete;
  memory_stream& operator=(const memory_stream&) = delete;

  asio::awaitable<io_result> read_some(std::span<std::uint8_t> into) override;
  asio::awaitable<io_result> write(std::span<const asio::const_buffer> buffers) override;
  void close() override;
  const peer_address& remote() const override { return remote_; }
  asio::any_io_executor executor() override { return ex_; }

 private:
  std::shared_ptr<pair_state> state_;
  pipe* in_;   // what we read (its reader_closed doubles as "this end is closed")
  pipe* out_;  // what we write
  asio::any_io_executor ex_;
  peer_address remote_;
};

// The coroutines below copy what they need into locals before their first wait and use
// only those afterwards: the end may be destroyed while they sleep (closing wakes them),
// and the shared state they hold outlives it.

asio::awaitable<io_result> memory_stream::read_some(std::span<std::uint8_t> into) {
  auto keep = state_;
  pipe& in = *in_;
  if (in.reader_closed) co_return io_result{asio::error::bad_descriptor, 0};
  if (in.reading) co_return io_result{asio::error::already_started, 0};
  if (into.empty()) co_return io_result{};
  busy_flag busy(in.reading);
  for (;;) {
    if (!in.bytes.empty()) {
      auto n = std::min(into.size(), in.bytes.size());
      auto end = in.bytes.begin() + static_cast<std::ptrdiff_t>(n);
      std::copy(in.bytes.begin(), end, into.begin());
      in.bytes.erase(in.bytes.begin(), end);
      in.writer_wake.cancel();  // room for a writer held back by the capacity
      co_return io_result{{}, n};
    }
    if (in.writer_closed) co_return io_result{asio::error::eof, 0};
    if (co_await wait_for_wake(in.reader_wake) || in.reader_closed)
      co_return io_result{asio::error::operation_aborted, 0};
  }
}

asio::awaitable<io_result> memory_stream::write(std::span<const asio::const_buffer> buffers) {
  auto keep = state_;
  pipe& in = *in_;
  pipe& out = *out_;
  if (in.reader_closed) co_return io_result{asio::error::bad_descriptor, 0};
  if (out.writing) co_return io_result{asio::error::already_started, 0};
  busy_flag busy(out.writing);
  std::size_t written = 0;
  for (const auto& b : buffers) {
    const auto* p = static_cast<const std::uint8_t*>(b.data());
    std::size_t left = b.size();
    while (left > 0) {
      if (in.reader_closed) co_return io_result{asio::error::operation_aborted, written};
      if (out.reader_closed) co_return io_result{asio::error::broken_pipe, written};
      std::size_t room = out.capacity - out.bytes.size();
      if (room == 0) {
        if (co_await wait_for_wake(out.writer_wake))
          co_return io_result{asio::error::operation_aborted, written};
        continue;  // the checks above say why we were woken
      }
      auto n = std::min(room, left);
      out.bytes.insert(out.bytes.end(), p, p + n);
      out.reader_wake.cancel();
      p += n;
      left -= n;
      written += n;
    }
  }
  co_return io_result{{}, written};
}

void memory_stream::close() {
  if (in_->reader_closed) return;
  in_->reader_closed = true;
  in_->bytes.clear();  // nobody will read them; a writer waiting for room must not wait on
  out_->writer_closed = true;
  in_->reader_wake.cancel();   // our pending read: aborted
  out_->writer_wake.cancel();  // our pending write: aborted
  out_->reader_wake.cancel();  // theirs: EOF once drained
  in_->writer_wake.cancel();   // theirs: broken pipe
}

}  // namespace

memory_stream_pair make_memory_stream_pair(asio::any_io_executor ex, peer_address a, peer_address b,
                                           std::size_t capacity) {
  auto state = std::make_shared<pair_state>(ex, capacity);
  memory_stream_pair p;
  p.a = std::make_unique<memory_stream>(state, state->b_to_a, state->a_to_b, ex, b);
  p.b = std::make_unique<memory_stream>(state, state->a_to_b, state->b_to_a, ex, a);
  return p;
}

void memory_dialer::add(const peer_address& to, std::unique_ptr<peer_stream> stream) {
  plans_[to].push_back(plan{plan::kind::stream, std::move(stream), {}});
}

std::unique_ptr<peer_stream> memory_dialer::add_pair(asio::any_io_executor ex,
                                                     const peer_address& to,
                                                     const peer_address& from,
                                                     std::size_t capacity) {
  auto p = make_memory_stream_pair(std::move(ex), from, to, capacity);
  add(to, std::move(p.a));
  return std::move(p.b);
}

void memory_dialer::refuse(const peer_address& to, std::string error) {
  plans_[to].push_back(plan{plan::kind::refuse, nullptr, std::move(error)});
}

void memory_dialer::hang(const peer_address& to) {
  plans_[to].push_back(plan{plan::kind::hang, nullptr, {}});
}

std::string memory_dialer::refused_text() {
  return "connect failed: " + error_code(asio::error::connection_refused).message();
}

asio::awaitable<dialer::outcome> memory_dialer::dial(asio::any_io_executor ex,
                                                     const peer_address& to,
                                                     std::chrono::milliseconds timeout) {
  ++dials_;
  plan p;
  p.error = refused_text();
  if (auto it = plans_.find(to); it != plans_.end() && !it->second.empty()) {
    p = std::move(it->second.front());
    it->second.pop_front();
  }
  switch (p.what) {
    case plan::kind::stream:
      co_return outcome{std::move(p.stream), {}};
    case plan::kind::refuse:
      co_return outcome{nullptr, std::move(p.error)};
    case plan::kind::hang:
      break;
  }
  // Only this coroutine's locals from here: the dialer may be gone when a cancelled wait
  // resumes. The timer's wait is cancellable through the slot, like a real connect.
  asio::steady_timer timer(ex, timeout);
  auto [ec] = co_await timer.async_wait(tuple_awaitable);
  if (ec) co_return outcome{nullptr, "connect cancelled"};
  co_return outcome{nullptr, fmt::format("connect timed out after {} ms", timeout.count())};
}

}  // namespace peerwire::peer
