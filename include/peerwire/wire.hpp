// The peer wire protocol's messages (BEP 3, with BEP 5 port, BEP 6 Fast extension and the
// BEP 10 extended message): types, encoders, a streaming decoder and one-line descriptions.
//
// Pure (sans-IO): feed(bytes) then next() → a message, "need more", or an error with a
// reason. Encoders append to a caller-provided buffer.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "peerwire/wire_handshake.hpp"
#include "peerwire/wire_peer_id.hpp"

namespace peerwire::wire {

enum class message_id : std::uint8_t {
  choke = 0,
  unchoke = 1,
  interested = 2,
  not_interested = 3,
  have = 4,
  bitfield = 5,
  request = 6,
  piece = 7,
  cancel = 8,
  port = 9,            // BEP 5
  suggest_piece = 13,  // BEP 6 (Fast extension) from here to allowed_fast
  have_all = 14,
  have_none = 15,
  reject_request = 16,
  allowed_fast = 17,
  extended = 20,  // BEP 10
};

inline constexpr std::uint32_t default_block_length = 16 * 1024;
inline constexpr std::uint32_t max_block_length_cap = 128 * 1024;

// Messages. Spans are views into the decoder's buffer (or whatever the caller built them
// from), valid until the decoder's next feed()/next() call. Equality compares contents.
using bytes_view = std::span<const std::uint8_t>;
bool equal_bytes(bytes_view a, bytes_view b);

struct keep_alive {
  bool operator==(const keep_alive&) const = default;
};
struct choke {
  bool operator==(const choke&) const = default;
};
struct unchoke {
  bool operator==(const unchoke&) const = default;
};
struct interested {
  bool operator==(const interested&) const = default;
};
struct not_interested {
  bool operator==(const not_interested&) const = default;
};
struct have {
  std::uint32_t index = 0;
  bool operator==(const have&) const = default;
};
struct bitfield {
  bytes_view bits;  // bit 7 of byte 0 is piece 0
  bool operator==(const bitfield& o) const { return equal_bytes(bits, o.bits); }
};
struct request {
  std::uint32_t index = 0, offset = 0, length = 0;
  bool operator==(const request&) const = default;
};
struct piece {
  std::uint32_t index = 0, offset = 0;
  bytes_view data;
  bool operator==(const piece& o) const {
    return index == o.index && offset == o.offset && equal_bytes(data, o.data);
  }
};
struct cancel {
  std::uint32_t index = 0, offset = 0, length = 0;
  bool operator==(const cancel&) const = default;
};
struct port {
  std::uint16_t number = 0;
  bool operator==(const port&) const = default;
};
struct suggest_piece {
  std::uint32_t index = 0;
  bool operator==(const suggest_piece&) const = default;
};
struct have_all {
  bool operator==(const have_all&) const = default;
};
struct have_none {
  bool operator==(const have_none&) const = default;
};
struct reject_request {
  std::uint32_t index = 0, offset = 0, length = 0;
  bool operator==(const reject_request&) const = default;
};
struct allowed_fast {
  std::uint32_t index = 0;
  bool operator==(const allowed_fast&) const = default;
};
struct extended {
  std::uint8_t id = 0;  // 0 = the BEP 10 handshake; others as negotiated in it
  bytes_view payload;
  bool operator==(const extended& o) const { return id == o.id && equal_bytes(payload, o.payload); }
};
// A message id we do not know: BEP 3 says to ignore it.
struct unknown_message {
  std::uint8_t id = 0;
  bytes_view payload;
  bool operator==(const unknown_message& o) const {
    return id == o.id && equal_bytes(payload, o.payload);
  }
};

using message = std::variant<keep_alive, choke, unchoke, interested, not_interested, have, bitfield,
                             request, piece, cancel, port, suggest_piece, have_all, have_none,
                             reject_request, allowed_fast, extended, unknown_message>;

// Encoders: each appends one framed message (length prefix included) to `out`.
void encode(const message& m, std::vector<std::uint8_t>& out);
void encode(const keep_alive&, std::vector<std::uint8_t>& out);
void encode(const choke&, std::vector<std::uint8_t>& out);
void encode(const unchoke&, std::vector<std::uint8_t>& out);
void encode(const interested&, std::vector<std::uint8_t>& out);
void encode(const not_interested&, std::vector<std::uint8_t>& out);
void encode(const have& m, std::vector<std::uint8_t>& out);
void encode(const bitfield& m, std::vector<std::uint8_t>& out);
void encode(const request& m, std::vector<std::uint8_t>& out);
void encode(const piece& m, std::vector<std::uint8_t>& out);
void encode(const cancel& m, std::vector<std::uint8_t>& out);
void encode(const port& m, std::vector<std::uint8_t>& out);
void encode(const suggest_piece& m, std::vector<std::uint8_t>& out);
void encode(const have_all&, std::vector<std::uint8_t>& out);
void encode(const have_none&, std::vector<std::uint8_t>& out);
void encode(const reject_request& m, std::vector<std::uint8_t>& out);
void encode(const allowed_fast& m, std::vector<std::uint8_t>& out);
void encode(const extended& m, std::vector<std::uint8_t>& out);
void encode(const unknown_message& m, std::vector<std::uint8_t>& out);
// Only the 13-byte header of a piece message carrying `length` bytes, so the block itself
// can be sent from the disk buffer without copying (scatter-gather write).
void encode_piece_header(std::uint32_t index, std::uint32_t offset, std::uint32_t length,
                         std::vector<std::uint8_t>& out);
// The same header as a value: a seeder queues one per block sent, without an allocation.
inline constexpr std::size_t piece_header_size = 13;
std::array<std::uint8_t, piece_header_size> piece_header(std::uint32_t index, std::uint32_t offset,
                                                         std::uint32_t length);

// Decoder ---------------------------------------------------------------------------------

// What the decoder knows about the torrent and the connection. Zero piece_count (magnet
// download before the metadata arrived) skips index and bitfield-size checks; zero
// piece_length or total_size skips block-bounds checks.
struct decoder_config {
  std::uint32_t piece_count = 0;
  std::uint32_t piece_length = 0;
  std::uint64_t total_size = 0;
  bool fast_enabled = false;        // both sides set the BEP 6 reserved bit
  bool extensions_enabled = false;  // both sides set the BEP 10 reserved bit
  // Largest request/cancel/reject length and piece block accepted (clamped to 128 KiB).
  std::uint32_t max_request_length = default_block_length;
  // Largest extended-message payload (after the extended id).
  std::uint32_t max_extended_length = 1024 * 1024;

  // piece_count derived from the sizes (both must be non-zero).
  static decoder_config for_torrent(std::uint32_t piece_length, std::uint64_t total_size);
};

// The largest length prefix accepted under `cfg`: the biggest of a piece message with a
// maximal block, the bitfield, and an extended message with the maximal payload.
std::uint32_t max_message_length(const decoder_config& cfg);
// Size of piece `index` (the last one may be short); 0 when unknown or out of range.
std::uint32_t piece_size(const decoder_config& cfg, std::uint32_t index);

enum class wire_error {
  message_too_long,           // length prefix above max_message_length()
  wrong_payload_size,         // fixed-size message with another length
  bad_bitfield_size,          // bitfield bytes != ceil(piece_count / 8)
  bitfield_spare_bits,        // bits set past the last piece
  index_out_of_range,         // piece index >= piece_count
  bad_block_length,           // request/cancel/reject length 0 or above max_request_length
  block_out_of_range,         // offset + length beyond the piece's size
  fast_not_negotiated,        // BEP 6 message without the fast extension
  extensions_not_negotiated,  // BEP 10 message without the extension protocol
  extended_too_long,          // extended payload above max_extended_length
};

struct decode_error {
  wire_error code{};
  std::string reason;        // one sentence for logs, e.g. "have #7000: index out of range ..."
  std::uint64_t offset = 0;  // stream offset of the bad message's length prefix
};

struct need_more {
  bool operator==(const need_more&) const = default;
};
using decode_result = std::variant<need_more, message, decode_error>;

// Streaming message decoder. feed() copies the bytes in; next() returns the next whole
// message, need_more, or an error. Length prefixes are checked as soon as they (and the
// message id) arrive, before the body is buffered, so after next() says need_more the
// buffer holds at most 4 + max_message_length() bytes. After an error every next() repeats
// it: the connection should be closed.
namespace detail {
// An allocator that leaves bytes uninitialised on resize: message_decoder::prepare() hands out
// space that a socket read fills, so zeroing it first would be wasted work.
template <class T>
struct uninit_allocator : std::allocator<T> {
  template <class U>
  struct rebind {
    using other = uninit_allocator<U>;
  };
  uninit_allocator() = default;
  template <class U>
  uninit_allocator(const uninit_allocator<U>&) noexcept {}  // NOLINT
  template <class U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... A>
  void construct(U* p, A&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<A>(args)...);
  }
};
}  // namespace detail

class message_decoder {
 public:
  explicit message_decoder(const decoder_config& cfg = {});

  // New limits (e.g. after the metadata arrived); they apply from the next message on.
  void configure(const decoder_config& cfg);
  const decoder_config& config() const { return cfg_; }

  void feed(std::span<const std::uint8_t> bytes);
  // Feeding without a copy: prepare(n) gives room for up to n bytes after the buffered input
  // (a socket reads straight into it), commit(k) then takes the k bytes that arrived. Any
  // other call in between invalidates the room.
  std::span<std::uint8_t> prepare(std::size_t n);
  void commit(std::size_t n);
  decode_result next();

  // Bytes held (unconsumed input), and the bound that holds after need_more.
  std::size_t buffered() const { return buf_.size() - pos_; }
  std::size_t buffer_bound() const { return 4 + std::size_t{limit_}; }
  // Bytes consumed as whole messages so far.
  std::uint64_t consumed() const { return stream_offset_; }

 private:
  decode_result fail(wire_error code, std::string reason);
  void compact();  // drops the consumed messages from the front of buf_
  std::optional<decode_error> check_header(std::uint32_t length, std::uint8_t id) const;
  decode_result parse(std::uint8_t id, bytes_view payload);
  std::optional<decode_error> check_index(const char* what, std::uint32_t index) const;
  std::optional<decode_error> check_block(const char* what, std::uint32_t index,
                                          std::uint32_t offset, std::uint32_t length,
                                          bool is_piece) const;
  decode_error make_error(wire_error code, std::string reason) const;

  decoder_config cfg_;
  std::uint32_t limit_ = 0;
  std::vector<std::uint8_t, detail::uninit_allocator<std::uint8_t>> buf_;
  std::size_t pos_ = 0;              // start of unconsumed bytes in buf_
  std::size_t prepared_at_ = 0;      // where prepare()'s room starts
  std::uint64_t stream_offset_ = 0;  // stream offset of buf_[pos_]
  bool header_checked_ = false;      // current message's length + id already validated
  std::optional<decode_error> error_;
};

// Descriptions --------------------------------------------------------------------------

const char* message_name(const message& m);
// One line for --trace: "piece #412 off 16384 len 16384", "request #3 off 0 len 16384",
// "bitfield 1234/2000 pieces" (piece_count 0: "bitfield 250 bytes, 1234 set"), "have #7",
// "extended id 0 (handshake) 187 bytes", "unknown id 42, 3 bytes".
std::string describe(const message& m, std::uint32_t piece_count = 0);
const char* describe(wire_error e);

// Bitfield helpers ------------------------------------------------------------------------

// Set bits among the first piece_count (0: all bits of the span).
std::size_t count_pieces(bytes_view bits, std::uint32_t piece_count = 0);
// 0..100; 0 when piece_count is 0.
double completion_percent(bytes_view bits, std::uint32_t piece_count);
// Whether piece `index` is set (false beyond the span).
bool has_piece(bytes_view bits, std::uint32_t index);

}  // namespace peerwire::wire
