#include "peer_connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include "address_io.hpp"
#include "peerwire/encoding.hpp"

namespace peerwire::peer {
namespace {

using namespace asio::experimental::awaitable_operators;
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t max_queued_bytes = 16u << 20;
// Bytes asked of the socket per read after the handshake: 64 KiB, doubled up to 512 KiB while
// reads come back full. A fast sender then costs a quarter of the reads, wake-ups and
// decoder compactions per byte (the partial block at the end of each read is moved to the
// front); a slow one keeps the small buffer.
constexpr std::size_t min_read_size = 64 * 1024;
constexpr std::size_t max_read_size = 512 * 1024;

std::string handshake_text(const wire::handshake& h) {
  sha1_hash ih{h.info_hash};
  return fmt::format("handshake info-hash {} peer id {} ({}) reserved: {}", ih.hex(),
                     wire::describe_peer_id(h.id), to_hex(h.id),
                     wire::describe_reserved(h.reserved));
}

}  // namespace

peer_connection::peer_connection(asio::any_io_executor ex, peer_address remote, dialer& dialer,
                                 torrent_ref torrent, connection_settings settings,
                                 trace_sink trace)
    : ex_(ex),
      dialer_(&dialer),
      timer_(ex),
      wake_(ex),
      outgoing_(true),
      remote_(remote),
      settings_(std::move(settings)),
      trace_(std::move(trace)),
      peer_name_(to_string(remote)),
      torrent_(std::move(torrent)),
      state_(torrent_->piece_count) {}

peer_connection::peer_connection(std::unique_ptr<peer_stream> stream,
                                 const torrent_directory& directory, connection_settings settings,
                                 trace_sink trace)
    : ex_(stream->executor()),
      stream_(std::move(stream)),
      timer_(ex_),
      wake_(ex_),
      outgoing_(false),
      remote_(stream_->remote()),
      directory_(&directory),
      settings_(std::move(settings)),
      trace_(std::move(trace)),
      peer_name_(remote_.port == 0 ? "(unknown peer)" : to_string(remote_)) {}

void peer_connection::trace(bool out, const std::string& text) const {
  if (trace_) trace_(peer_name_, out, text);
}

void peer_connection::end(std::string reason) {
  if (!open_) return;
  open_ = false;
  close_reason_ = std::move(reason);
  if (stream_) stream_->close();  // cancels every pending operation: each loop sees it and returns
  timer_.cancel();                // and a dial in progress (see connect)
  wake_.cancel();
}

void peer_connection::close(std::string reason) {
  end(std::move(reason));
}

bool peer_connection::queue_bytes(std::size_t n) {
  queued_bytes_ += n;
  if (queued_bytes_ > max_queued_bytes) {
    // Our own senders stop at 1 MiB; beyond this the peer is not reading at all.
    end("the peer stopped reading: over 16 MiB waiting to be sent");
    return false;
  }
  wake_.cancel();
  return true;
}

void peer_connection::send(const wire::message& m) {
  if (!open_) return;
  state_.on_send(m);
  if (trace_) trace(true, wire::describe(m, state_.piece_count()));  // formatting costs
  // Appended to the last entry unless that one is a piece message: one buffer for a run of
  // small messages (a burst of requests or haves is one write, not one per message).
  if (queue_.empty() || queue_.back().piece) queue_.emplace_back();
  auto& bytes = queue_.back().bytes;
  std::size_t before = bytes.size();
  wire::encode(m, bytes);
  queue_bytes(bytes.size() - before);
}

void peer_connection::send_piece(std::uint32_t index, std::uint32_t offset,
                                 std::span<const std::uint8_t> block,
                                 std::shared_ptr<const void> owner) {
  if (!open_) return;
  wire::piece m{index, offset, block};
  state_.on_send(m);
  if (trace_) trace(true, wire::describe(m, state_.piece_count()));
  auto& o = queue_.emplace_back();
  o.piece = true;
  o.head = wire::piece_header(index, offset, static_cast<std::uint32_t>(block.size()));
  o.block = block;
  o.owner = std::move(owner);
  queue_bytes(o.head.size() + block.size());
}

asio::awaitable<void> peer_connection::run() {
  auto self = shared_from_this();  // keep alive while any loop runs
  try {
    // Every way out, including a failed connect or handshake, reaches the "closed" line below.
    if (!outgoing_ || co_await connect()) {
      if (co_await handshake()) {
        send_greeting();
        if (on_ready) on_ready(*this);
        last_received_ = steady::now();
        co_await (read_loop() || write_loop() || watchdog());
      }
    }
  } catch (const std::exception& e) {
    end(std::string("internal error: ") + e.what());
  }
  end(close_reason_.empty() ? "closed" : close_reason_);
  trace(false, "closed: " + close_reason_);
}

asio::awaitable<bool> peer_connection::connect() {
  if (!open_) co_return false;  // closed before it ran: no dial at all
  trace(true, "connecting");
  // The dialer keeps its own deadline; this timer only fires when end() cancels it, which
  // abandons the dial.
  timer_.expires_at(steady::time_point::max());
  auto r = co_await (dialer_->dial(ex_, remote_, settings_.connect_timeout) ||
                     timer_.async_wait(tuple_awaitable));
  if (r.index() == 1 || !open_) co_return false;
  auto& dialled = std::get<0>(r);
  if (!dialled.stream) {
    end(dialled.error);
    co_return false;
  }
  stream_ = std::move(dialled.stream);
  co_return true;
}

asio::awaitable<long> peer_connection::read_some(steady::time_point deadline) {
  timer_.expires_at(deadline);
  auto r = co_await (stream_->read_some(buf_) || timer_.async_wait(tuple_awaitable));
  if (r.index() == 1) co_return -1;
  auto [ec, n] = std::get<0>(r);
  if (ec == asio::error::eof) co_return 0;
  if (ec) {
    io_error_ = ec.message();
    co_return -2;
  }
  co_return static_cast<long>(n);
}

asio::awaitable<bool> peer_connection::write_now(const std::vector<std::uint8_t>& bytes) {
  timer_.expires_after(settings_.handshake_timeout);
  asio::const_buffer buffer = asio::buffer(bytes);
  auto r = co_await (stream_->write(std::span(&buffer, 1)) || timer_.async_wait(tuple_awaitable));
  if (r.index() == 1) {
    end("timed out sending the handshake");
    co_return false;
  }
  auto [ec, n] = std::get<0>(r);
  if (ec) end("send failed: " + ec.message());
  last_sent_ = steady::now();
  co_return !ec;
}

asio::awaitable<bool> peer_connection::handshake() {
  auto our_handshake = [&] {
    wire::handshake h;
    h.reserved = wire::make_reserved(
        {.extension_protocol = settings_.extension_protocol, .fast = settings_.fast_extension});
    h.info_hash = torrent_->info_hash.bytes;
    h.id = settings_.our_id;
    return h;
  };
  // The initiator speaks first (BEP 3); the receiver answers once it knows the info-hash.
  if (outgoing_) {
    auto h = our_handshake();
    std::vector<std::uint8_t> bytes;
    wire::encode_handshake(h, bytes);
    trace(true, handshake_text(h));
    if (!co_await write_now(bytes)) co_return false;
  }
  wire::handshake_decoder decoder;
  auto deadline = steady::now() + settings_.handshake_timeout;
  for (;;) {
    long n = co_await read_some(deadline);
    if (n == -1) {
      end(fmt::format("handshake timed out after {} ms ({} of 68 bytes received)",
                      settings_.handshake_timeout.count(), decoder.received()));
      co_return false;
    }
    if (n == 0) {
      end(decoder.received() == 0 ? "peer closed the connection without answering the handshake"
                                  : "peer closed the connection during the handshake");
      co_return false;
    }
    if (n < 0) {
      end("read failed during the handshake: " + io_error_);
      co_return false;
    }
    decoder.feed(std::span<const std::uint8_t>(buf_.data(), static_cast<std::size_t>(n)));
    for (;;) {
      auto stage = decoder.next();
      if (stage == wire::handshake_stage::need_more) break;
      if (stage == wire::handshake_stage::error) {
        end("bad handshake: " + decoder.error().describe());
        co_return false;
      }
      if (stage == wire::handshake_stage::info_hash && !outgoing_) {
        auto found = directory_->find(decoder.info_hash());
        if (!found) {
          end("unknown info-hash " + sha1_hash{decoder.info_hash()}.hex());
          co_return false;
        }
        torrent_ = std::move(*found);
        state_ = wire::peer_state(torrent_->piece_count);
        auto h = our_handshake();
        std::vector<std::uint8_t> bytes;
        wire::encode_handshake(h, bytes);
        trace(true, handshake_text(h));
        if (!co_await write_now(bytes)) co_return false;
        continue;
      }
      if (stage != wire::handshake_stage::complete) continue;
      const wire::handshake& reply = decoder.get();
      trace(false, handshake_text(reply));
      auto check =
          wire::check_reply(reply, torrent_->info_hash.bytes, settings_.our_id, std::nullopt);
      if (check != wire::handshake_check::ok) {
        end(std::string("handshake rejected: ") + wire::describe(check));
        co_return false;
      }
      remote_handshake_ = reply;
      leftover_.assign(decoder.remaining().begin(), decoder.remaining().end());
      co_return true;
    }
  }
}

// What we say right after the handshake: our pieces (bitfield, or BEP 6 have-all/have-none)
// and, when both sides speak BEP 10, our extension handshake.
void peer_connection::send_greeting() {
  auto ours = wire::decode_reserved(wire::make_reserved(
      {.extension_protocol = settings_.extension_protocol, .fast = settings_.fast_extension}));
  auto theirs = wire::decode_reserved(remote_handshake_->reserved);
  bool fast = ours.fast && theirs.fast;
  bool extensions = ours.extension_protocol && theirs.extension_protocol;
  fast_ = fast;
  extensions_ = extensions;

  wire::decoder_config cfg;
  if (torrent_->piece_count > 0 && torrent_->piece_length > 0) {
    cfg = wire::decoder_config::for_torrent(torrent_->piece_length, torrent_->total_size);
  }
  cfg.fast_enabled = fast;
  cfg.extensions_enabled = extensions;
  decoder_.configure(cfg);
  decoder_.feed(leftover_);
  leftover_.clear();

  if (torrent_->we_are_seed && fast) {
    send(wire::have_all{});
  } else if (!torrent_->our_bitfield.empty()) {
    send(wire::bitfield{torrent_->our_bitfield});
  } else if (fast) {
    send(wire::have_none{});
  }
  if (extensions) send_extension_handshake();
}

void peer_connection::send_extension_handshake() {
  ext::handshake h;
  h.extensions["ut_metadata"] = ut_metadata_id;
  // BEP 27: a private torrent's peers come from its tracker only. Id 0 withdraws ut_pex from
  // a peer that was offered it before we knew (a magnet link of a private torrent).
  h.extensions["ut_pex"] = torrent_->is_private ? 0 : ut_pex_id;
  h.client = settings_.client_name;
  h.reqq = settings_.reqq;
  if (settings_.listen_port != 0) h.listen_port = settings_.listen_port;
  if (torrent_->metadata_size > 0) h.metadata_size = torrent_->metadata_size;
  // BEP 10 "yourip": the address we see, so a peer behind NAT learns its external one. Text
  // here, as parse_handshake gives it; the encoder writes the 4 or 16 raw bytes.
  h.your_ip = to_string(remote_.ip);
  h.upload_only = torrent_->we_are_seed;
  std::string payload = ext::encode_handshake(h);
  if (payload == sent_extensions_) return;
  sent_extensions_ = payload;
  send(wire::extended{
      0, std::span(reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size())});
}

bool peer_connection::peer_supports(std::string_view name) const {
  if (!extensions_ || !remote_extensions_) return false;
  auto it = remote_extensions_->extensions.find(name);
  return it != remote_extensions_->extensions.end() && it->second != 0;
}

bool peer_connection::send_extended(std::string_view name, std::span<const std::uint8_t> payload) {
  if (!peer_supports(name)) return false;
  send(wire::extended{remote_extensions_->extensions.find(name)->second, payload});
  return true;
}

bool peer_connection::update_torrent(torrent_ref torrent) {
  if (!open_ || !torrent_) return false;
  bool sized_now = torrent_->piece_count == 0 && torrent.piece_count != 0;
  torrent_ = std::move(torrent);
  if (sized_now && remote_handshake_) {
    auto cfg = wire::decoder_config::for_torrent(torrent_->piece_length, torrent_->total_size);
    cfg.fast_enabled = fast_;
    cfg.extensions_enabled = extensions_;
    decoder_.configure(cfg);
    if (auto violation = state_.set_piece_count(torrent_->piece_count)) {
      end("protocol error: " + *violation);
      return false;
    }
  }
  if (extensions_ && remote_handshake_) send_extension_handshake();
  return open_;
}

bool peer_connection::handle_message(const wire::message& m) {
  if (trace_) trace(false, wire::describe(m, state_.piece_count()));
  if (auto violation = state_.on_receive(m)) {
    end("protocol error: " + *violation);
    return false;
  }
  if (const auto* e = std::get_if<wire::extended>(&m); e && e->id == 0) {
    auto parsed = ext::parse_handshake(e->payload);
    if (!parsed) {
      end("protocol error: " + parsed.error().describe());
      return false;
    }
    if (!remote_extensions_) {
      remote_extensions_ = std::move(*parsed);
    } else {
      // BEP 10: a later handshake updates the first; "m" entries are added or, with id 0,
      // removed, and fields it leaves out keep their earlier values.
      auto& have = *remote_extensions_;
      for (const auto& [name, id] : parsed->extensions) {
        if (id == 0) {
          have.extensions.erase(name);
        } else {
          have.extensions[name] = id;
        }
      }
      if (parsed->client) have.client = parsed->client;
      if (parsed->listen_port) have.listen_port = parsed->listen_port;
      if (parsed->reqq) have.reqq = parsed->reqq;
      if (parsed->metadata_size) have.metadata_size = parsed->metadata_size;
      if (parsed->your_ip) have.your_ip = parsed->your_ip;
      if (parsed->ipv4) have.ipv4 = parsed->ipv4;
      if (parsed->ipv6) have.ipv6 = parsed->ipv6;
      have.upload_only = parsed->upload_only;
    }
  }
  if (on_message) on_message(*this, m);
  return open_;
}

asio::awaitable<void> peer_connection::read_loop() {
  std::size_t read_size = min_read_size;
  for (;;) {
    // Drain what is buffered first: the handshake read may have brought messages along.
    for (;;) {
      auto r = decoder_.next();
      if (std::holds_alternative<wire::need_more>(r)) break;
      if (const auto* err = std::get_if<wire::decode_error>(&r)) {
        end("protocol error: " + err->reason);
        co_return;
      }
      if (!handle_message(std::get<wire::message>(r))) co_return;
    }
    // Straight into the decoder's buffer: no copy between the socket and the parser.
    auto room = decoder_.prepare(read_size);
    auto [ec, n] = co_await stream_->read_some(room);
    decoder_.commit(ec ? 0 : n);
    if (!ec && n == room.size() && read_size < max_read_size) read_size *= 2;
    if (!open_) co_return;
    if (ec == asio::error::eof) {
      end("peer closed the connection");
      co_return;
    }
    if (ec) {
      end("read failed: " + ec.message());
      co_return;
    }
    last_received_ = steady::now();
  }
}

asio::awaitable<void> peer_connection::write_loop() {
  std::deque<send_entry> sending;  // kept alive (blocks and their owners) until written
  std::vector<asio::const_buffer> buffers;
  while (open_) {
    if (queue_.empty()) {
      wake_.expires_at(steady::time_point::max());
      co_await wake_.async_wait(tuple_awaitable);  // cancelled by send() or end()
      continue;
    }
    // One gathered write for everything queued: blocks go from the read cache to the socket
    // without being copied, and many small messages are one syscall.
    sending.swap(queue_);
    queued_bytes_ = 0;
    buffers.clear();
    for (const auto& o : sending) {
      if (o.piece) {
        buffers.push_back(asio::buffer(o.head));
        if (!o.block.empty()) buffers.push_back(asio::buffer(o.block.data(), o.block.size()));
      } else if (!o.bytes.empty()) {
        buffers.push_back(asio::buffer(o.bytes));
      }
    }
    writing_ = true;
    write_started_ = steady::now();
    // The queue is empty again: the owner may queue the next batch while this one is being
    // written, so the socket never waits for the torrent between writes.
    if (on_drained) on_drained(*this);
    if (!open_) co_return;
    auto [ec, n] = co_await stream_->write(buffers);
    writing_ = false;
    sending.clear();
    if (!open_) co_return;
    if (ec) {
      end("write failed: " + ec.message());
      co_return;
    }
    last_sent_ = steady::now();
  }
}

asio::awaitable<void> peer_connection::watchdog() {
  asio::steady_timer t(ex_);
  while (open_) {
    auto now = steady::now();
    // While bytes are queued or being written a keep-alive is pointless; check again in a
    // second rather than at a deadline that has already passed (that would spin).
    bool sending = writing_ || !queue_.empty();
    auto keepalive_due =
        sending ? now + std::chrono::seconds(1) : last_sent_ + settings_.keepalive_interval;
    auto idle_due = last_received_ + settings_.idle_timeout;
    t.expires_at(std::min(keepalive_due, idle_due));
    co_await t.async_wait(tuple_awaitable);
    if (!open_) co_return;
    now = steady::now();
    if (now >= last_received_ + settings_.idle_timeout) {
      end(fmt::format("idle: nothing received for {:.1f} s",
                      static_cast<double>(settings_.idle_timeout.count()) / 1000.0));
      co_return;
    }
    if (writing_ && now - write_started_ > settings_.idle_timeout) {
      end("the peer stopped reading: a write made no progress");
      co_return;
    }
    if (!writing_ && queue_.empty() && now >= last_sent_ + settings_.keepalive_interval) {
      send(wire::keep_alive{});
      last_sent_ = now;  // the write loop updates it again once the bytes are out
    }
  }
}

}  // namespace peerwire::peer
