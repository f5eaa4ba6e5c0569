// One peer connection on the network thread: handshake, then a read loop, a write loop and a
// watchdog (keep-alives, idle timeout) running side by side until one of them ends it. The
// protocol rules live in the pure wire/ext code; this file only moves bytes and keeps time.
#pragma once

#include <array>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "peer_stream.hpp"
#include "peerwire/address.hpp"
#include "peerwire/ext_handshake.hpp"
#include "peerwire/info_hash.hpp"
#include "peerwire/wire.hpp"
#include "peerwire/wire_peer_state.hpp"

namespace peerwire::peer {

namespace asio = boost::asio;

// What a connection needs to know about its torrent.
struct torrent_ref {
  sha1_hash info_hash;
  std::uint32_t piece_count = 0;  // 0 = unknown (magnet before metadata)
  std::uint32_t piece_length = 0;
  std::uint64_t total_size = 0;
  std::vector<std::uint8_t> our_bitfield;  // empty = we have no pieces
  bool we_are_seed = false;
  std::int64_t metadata_size = 0;  // bytes of our info dict (BEP 9); 0 = we lack it too
  bool is_private = false;         // BEP 27: no peer exchange
};

// The extended message ids we ask peers to use when they write to us (our "m" dictionary).
inline constexpr std::uint8_t ut_pex_id = 1;
inline constexpr std::uint8_t ut_metadata_id = 2;

// The session's torrents, looked up by info-hash when a peer connects to us (one listening
// port serves every torrent). Injected, so connections do not depend on the session.
class torrent_directory {
 public:
  virtual ~torrent_directory() = default;
  virtual std::optional<torrent_ref> find(const sha1_digest& info_hash) const = 0;
};

struct connection_settings {
  wire::peer_id our_id{};
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds handshake_timeout{10'000};
  std::chrono::milliseconds keepalive_interval{120'000};  // send one after this much silence
  std::chrono::milliseconds idle_timeout{300'000};        // close after this much from them
  bool fast_extension = true;
  bool extension_protocol = true;
  std::string client_name = "peerwire 0.1.0";
  std::uint16_t listen_port = 0;  // advertised in the extension handshake ("p") when non-zero
  // Requests we promise to hold without dropping ("reqq"); the torrent serves this many.
  std::uint32_t reqq = 500;
};

// One line of --trace output. `outgoing` is true for what we send.
using trace_sink =
    std::function<void(const std::string& peer, bool outgoing, const std::string& text)>;

class peer_connection : public std::enable_shared_from_this<peer_connection> {
 public:
  // We dial `remote` for `torrent` through `dialer` (which must outlive run()).
  peer_connection(asio::any_io_executor ex, peer_address remote, dialer& dialer,
                  torrent_ref torrent, connection_settings settings, trace_sink trace = {});
  // A peer reached us over `stream`; the torrent is chosen by the info-hash in its handshake.
  peer_connection(std::unique_ptr<peer_stream> stream, const torrent_directory& directory,
                  connection_settings settings, trace_sink trace = {});

  // Runs the whole connection; returns when it is closed. close_reason() then says why.
  asio::awaitable<void> run();

  // Asks the connection to end (from the network thread); run() returns soon after.
  void close(std::string reason);
  // Queues a message (network thread only); the write loop sends it.
  void send(const wire::message& m);
  // Queues a piece message whose block is written straight from `owner`'s memory (a read
  // cache buffer): `block` must stay valid while `owner` lives. No copy is made.
  void send_piece(std::uint32_t index, std::uint32_t offset, std::span<const std::uint8_t> block,
                  std::shared_ptr<const void> owner);
  // Sends a BEP 10 message under the id the peer chose for `name` ("ut_metadata", ...);
  // false (nothing sent) when the peer did not offer that extension.
  bool send_extended(std::string_view name, std::span<const std::uint8_t> payload);
  // Whether the peer offered the extension `name` with a non-zero id.
  bool peer_supports(std::string_view name) const;
  // The torrent changed (metadata arrived, we became a seed): when the piece count was
  // unknown, sizes the decoder and the peer's pieces (checking what it announced before; a
  // violation closes the connection: returns false), and re-sends our extension handshake
  // when its content changed (BEP 10 allows it at any time).
  bool update_torrent(torrent_ref torrent);

  bool outgoing() const { return outgoing_; }
  bool handshake_done() const { return remote_handshake_.has_value(); }
  bool is_open() const { return open_; }
  const std::string& close_reason() const { return close_reason_; }
  const std::string& peer_name() const { return peer_name_; }
  const wire::peer_state& state() const { return state_; }
  const std::optional<wire::handshake>& remote_handshake() const { return remote_handshake_; }
  const std::optional<ext::handshake>& remote_extensions() const { return remote_extensions_; }
  const std::optional<torrent_ref>& torrent() const { return torrent_; }

  // Called once the handshake is done and our greeting is queued, before any message is read:
  // the owner attaches the connection to its torrent here.
  std::function<void(peer_connection&)> on_ready;
  // Called for every message received after the handshake (after state is updated).
  std::function<void(peer_connection&, const wire::message&)> on_message;

  // Called when the write loop takes everything queued for one write (the queue is empty
  // while those bytes go out): time to queue the next uploads.
  std::function<void(peer_connection&)> on_drained;
  const peer_address& remote() const { return remote_; }
  transport kind() const { return remote_.kind; }

  // Whether both sides negotiated these in the handshake.
  bool fast_enabled() const { return fast_; }
  bool extensions_enabled() const { return extensions_; }
  // Bytes queued but not yet written (for back-pressure when serving pieces).
  std::size_t queued_bytes() const { return queued_bytes_; }

 private:
  using steady = std::chrono::steady_clock;

  asio::awaitable<bool> connect();
  asio::awaitable<bool> handshake();
  void send_greeting();
  void send_extension_handshake();
  asio::awaitable<void> read_loop();
  asio::awaitable<void> write_loop();
  asio::awaitable<void> watchdog();
  // Reads once before `deadline`. > 0 bytes; 0 on EOF (reason set); -1 timeout; -2 error.
  asio::awaitable<long> read_some(steady::time_point deadline);
  asio::awaitable<bool> write_now(const std::vector<std::uint8_t>& bytes);
  bool handle_message(const wire::message& m);
  void end(std::string reason);
  void trace(bool out, const std::string& text) const;

  asio::any_io_executor ex_;
  std::unique_ptr<peer_stream> stream_;  // null while an outgoing connection dials
  dialer* dialer_ = nullptr;             // outgoing only
  asio::steady_timer timer_;  // deadlines for the dial and the handshake reads and writes
  asio::steady_timer wake_;   // wakes the write loop when something is queued
  bool outgoing_;
  peer_address remote_;
  const torrent_directory* directory_ = nullptr;
  connection_settings settings_;
  trace_sink trace_;
  std::string peer_name_;

  std::optional<torrent_ref> torrent_;
  std::optional<wire::handshake> remote_handshake_;
  std::optional<ext::handshake> remote_extensions_;
  wire::peer_state state_;
  wire::message_decoder decoder_;
  std::vector<std::uint8_t> leftover_;  // bytes after the handshake, for the decoder
  // What the write loop sends next, in order. Small messages share one entry's bytes; a
  // block sent by send_piece is its own entry, referring to memory `owner` keeps alive.
  struct send_entry {
    std::vector<std::uint8_t> bytes;  // encoded messages, unless this is a piece message:
    bool piece = false;
    std::array<std::uint8_t, wire::piece_header_size> head{};  // its header (no allocation)
    std::span<const std::uint8_t> block;                       // and its block
    std::shared_ptr<const void> owner;
  };
  bool queue_bytes(std::size_t n);  // accounts n more queued bytes; false: closed
  std::deque<send_entry> queue_;
  std::array<std::uint8_t, 4 * 1024> buf_{};  // handshake reads (later reads go to decoder_)
  steady::time_point last_sent_ = steady::now();
  steady::time_point last_received_ = steady::now();
  bool open_ = true;
  bool fast_ = false;
  bool extensions_ = false;
  std::string sent_extensions_;  // our last extension handshake payload
  std::size_t queued_bytes_ = 0;
  bool writing_ = false;
  steady::time_point write_started_{};
  std::string close_reason_;
  std::string io_error_;
};

}  // namespace peerwire::peer
