// The streaming message decoder: framing, limits, and per-message validation.
#include <algorithm>
#include <stdexcept>

#include "peerwire/wire.hpp"

namespace peerwire::wire {

namespace {

std::uint32_t read_u32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

bool is_fast_id(std::uint8_t id) {
  return id >= static_cast<std::uint8_t>(message_id::suggest_piece) &&
         id <= static_cast<std::uint8_t>(message_id::allowed_fast);
}

// The length prefix (id included) of messages that have only one legal size; 0 otherwise.
std::uint32_t fixed_length(std::uint8_t id) {
  switch (static_cast<message_id>(id)) {
    case message_id::choke:
    case message_id::unchoke:
    case message_id::interested:
    case message_id::not_interested:
    case message_id::have_all:
    case message_id::have_none:
      return 1;
    case message_id::have:
    case message_id::suggest_piece:
    case message_id::allowed_fast:
      return 5;
    case message_id::request:
    case message_id::cancel:
    case message_id::reject_request:
      return 13;
    case message_id::port:
      return 3;
    default:
      return 0;
  }
}

const char* id_name(std::uint8_t id) {
  switch (static_cast<message_id>(id)) {
    case message_id::choke:
      return "choke";
    case message_id::unchoke:
      return "unchoke";
    case message_id::interested:
      return "interested";
    case message_id::not_interested:
      return "not interested";
    case message_id::have:
      return "have";
    case message_id::bitfield:
      return "bitfield";
    case message_id::request:
      return "request";
    case message_id::piece:
      return "piece";
    case message_id::cancel:
      return "cancel";
    case message_id::port:
      return "port";
    case message_id::suggest_piece:
      return "suggest piece";
    case message_id::have_all:
      return "have all";
    case message_id::have_none:
      return "have none";
    case message_id::reject_request:
      return "reject request";
    case message_id::allowed_fast:
      return "allowed fast";
    case message_id::extended:
      return "extended";
  }
  return "unknown";
}

std::string str(std::uint64_t v) {
  return std::to_string(v);
}

}  // namespace

message_decoder::message_decoder(const decoder_config& cfg) {
  configure(cfg);
}

void message_decoder::configure(const decoder_config& cfg) {
  decoder_config c = cfg;
  c.max_request_length = std::clamp<std::uint32_t>(c.max_request_length, 1, max_block_length_cap);
  if (c.piece_length != 0 && c.total_size != 0) {
    const auto derived = decoder_config::for_torrent(c.piece_length, c.total_size).piece_count;
    // Inconsistent sizes are a bug in the caller, not the peer's fault.
    if (c.piece_count != 0 && c.piece_count != derived)
      throw std::invalid_argument("decoder_config: piece_count disagrees with the sizes");
    c.piece_count = derived;
  }
  cfg_ = c;
  limit_ = max_message_length(cfg_);
  // Re-check the message being received (if any) under the new rules.
  header_checked_ = false;
}

void message_decoder::feed(std::span<const std::uint8_t> bytes) {
  if (error_) return;
  compact();
  buf_.insert(buf_.end(), bytes.begin(), bytes.end());
}

void message_decoder::compact() {
  // Drop consumed messages. pos_ only moves when whole messages are consumed, so each byte
  // is moved at most once per message boundary: feeding stays linear.
  if (pos_ != 0) {
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(pos_));
    pos_ = 0;
  }
}

std::span<std::uint8_t> message_decoder::prepare(std::size_t n) {
  compact();
  prepared_at_ = buf_.size();
  buf_.resize(prepared_at_ + n);  // not zeroed (uninit_allocator)
  return {buf_.data() + prepared_at_, n};
}

void message_decoder::commit(std::size_t n) {
  if (prepared_at_ > buf_.size()) return;  // no prepare() (or the buffer was dropped)
  buf_.resize(prepared_at_ + std::min(n, buf_.size() - prepared_at_));
  prepared_at_ = buf_.size();
  if (error_) {
    buf_.clear();
    pos_ = prepared_at_ = 0;
  }
}

decode_error message_decoder::make_error(wire_error code, std::string reason) const {
  return decode_error{code, std::move(reason), stream_offset_};
}

decode_result message_decoder::fail(wire_error code, std::string reason) {
  error_ = make_error(code, std::move(reason));
  // The connection is over: free the buffer.
  buf_.clear();
  buf_.shrink_to_fit();
  pos_ = 0;
  return *error_;
}

decode_result message_decoder::next() {
  if (error_) return *error_;
  const std::size_t avail = buf_.size() - pos_;
  if (avail < 4) return need_more{};
  const std::uint8_t* start = buf_.data() + pos_;
  const std::uint32_t length = read_u32(start);
  if (length > limit_)
    return fail(wire_error::message_too_long,
                "message length " + str(length) + " is above the limit of " + str(limit_));
  if (length == 0) {
    pos_ += 4;
    stream_offset_ += 4;
    return message{keep_alive{}};
  }
  if (avail < 5) return need_more{};
  const std::uint8_t id = start[4];
  if (!header_checked_) {
    if (auto e = check_header(length, id)) return fail(e->code, std::move(e->reason));
    header_checked_ = true;
  }
  if (avail - 4 < length) return need_more{};

  decode_result r = parse(id, bytes_view(start + 5, length - 1));
  if (std::holds_alternative<decode_error>(r)) {
    auto& e = std::get<decode_error>(r);
    return fail(e.code, std::move(e.reason));
  }
  pos_ += 4 + std::size_t{length};
  stream_offset_ += 4 + std::uint64_t{length};
  header_checked_ = false;
  return r;
}

// Everything that can be judged from the length prefix and id alone, so a bad message is
// refused before its body is buffered.
std::optional<decode_error> message_decoder::check_header(std::uint32_t length,
                                                          std::uint8_t id) const {
  const std::string name = id_name(id);
  if (is_fast_id(id) && !cfg_.fast_enabled)
    return make_error(wire_error::fast_not_negotiated, name + " message (id " + str(id) +
                                                           ") but the fast extension (BEP 6) " +
                                                           "was not negotiated");
  if (id == static_cast<std::uint8_t>(message_id::extended)) {
    if (!cfg_.extensions_enabled)
      return make_error(wire_error::extensions_not_negotiated,
                        "extended message (id 20) but the extension protocol (BEP 10) was not "
                        "negotiated");
    if (length < 2)
      return make_error(wire_error::wrong_payload_size,
                        "extended message without its extended id (length 1)");
    if (length - 2 > cfg_.max_extended_length)
      return make_error(wire_error::extended_too_long,
                        "extended message payload of " + str(length - 2) +
                            " bytes is above the limit of " + str(cfg_.max_extended_length));
  }
  if (const std::uint32_t fixed = fixed_length(id); fixed != 0 && length != fixed)
    return make_error(wire_error::wrong_payload_size,
                      name + " message with length " + str(length) + ", expected " + str(fixed));
  if (id == static_cast<std::uint8_t>(message_id::bitfield) && cfg_.piece_count != 0) {
    const std::uint64_t want = (std::uint64_t{cfg_.piece_count} + 7) / 8;
    if (length - 1 != want)
      return make_error(wire_error::bad_bitfield_size,
                        "bitfield of " + str(length - 1) + " bytes, expected " + str(want) +
                            " for " + str(cfg_.piece_count) + " pieces");
  }
  if (id == static_cast<std::uint8_t>(message_id::piece)) {
    if (length < 9)
      return make_error(wire_error::wrong_payload_size,
                        "piece message with length " + str(length) + ", at least 9 expected");
    if (length == 9 || length - 9 > cfg_.max_request_length)
      return make_error(wire_error::bad_block_length,
                        "piece message with a block of " + str(length - 9) +
                            " bytes (allowed: 1 to " + str(cfg_.max_request_length) + ")");
  }
  return std::nullopt;
}

std::optional<decode_error> message_decoder::check_index(const char* what,
                                                         std::uint32_t index) const {
  if (cfg_.piece_count == 0 || index < cfg_.piece_count) return std::nullopt;
  return make_error(wire_error::index_out_of_range, std::string(what) + " #" + str(index) +
                                                        ": piece index out of range (" +
                                                        str(cfg_.piece_count) + " pieces)");
}

std::optional<decode_error> message_decoder::check_block(const char* what, std::uint32_t index,
                                                         std::uint32_t offset, std::uint32_t length,
                                                         bool is_piece) const {
  if (auto e = check_index(what, index)) return e;
  const std::string where =
      std::string(what) + " #" + str(index) + " off " + str(offset) + " len " + str(length);
  // Piece lengths were checked with the header.
  if (!is_piece && (length == 0 || length > cfg_.max_request_length))
    return make_error(wire_error::bad_block_length,
                      where + ": block length must be 1 to " + str(cfg_.max_request_length));
  const std::uint32_t size = piece_size(cfg_, index);
  if (size != 0 && std::uint64_t{offset} + length > size)
    return make_error(wire_error::block_out_of_range,
                      where + ": block ends past the piece's " + str(size) + " bytes");
  return std::nullopt;
}

decode_result message_decoder::parse(std::uint8_t id, bytes_view p) {
  auto u32_at = [&p](std::size_t at) { return read_u32(p.data() + at); };
  auto or_error = [](std::optional<decode_error> e, message m) -> decode_result {
    if (e) return std::move(*e);
    return m;
  };
  switch (static_cast<message_id>(id)) {
    case message_id::choke:
      return message{choke{}};
    case message_id::unchoke:
      return message{unchoke{}};
    case message_id::interested:
      return message{interested{}};
    case message_id::not_interested:
      return message{not_interested{}};
    case message_id::have_all:
      return message{have_all{}};
    case message_id::have_none:
      return message{have_none{}};
    case message_id::have:
      return or_error(check_index("have", u32_at(0)), have{u32_at(0)});
    case message_id::suggest_piece:
      return or_error(check_index("suggest piece", u32_at(0)), suggest_piece{u32_at(0)});
    case message_id::allowed_fast:
      return or_error(check_index("allowed fast", u32_at(0)), allowed_fast{u32_at(0)});
    case message_id::request: {
      request m{u32_at(0), u32_at(4), u32_at(8)};
      return or_error(check_block("request", m.index, m.offset, m.length, false), m);
    }
    case message_id::cancel: {
      cancel m{u32_at(0), u32_at(4), u32_at(8)};
      return or_error(check_block("cancel", m.index, m.offset, m.length, false), m);
    }
    case message_id::reject_request: {
      reject_request m{u32_at(0), u32_at(4), u32_at(8)};
      return or_error(check_block("reject request", m.index, m.offset, m.length, false), m);
    }
    case message_id::piece: {
      piece m{u32_at(0), u32_at(4), p.subspan(8)};
      const auto length = static_cast<std::uint32_t>(m.data.size());
      return or_error(check_block("piece", m.index, m.offset, length, true), m);
    }
    case message_id::port:
      return message{port{static_cast<std::uint16_t>((p[0] << 8) | p[1])}};
    case message_id::bitfield: {
      // Bits past the last piece must be zero (BEP 3); the size was checked with the header.
      const std::uint32_t spare = cfg_.piece_count == 0 ? 0 : (8 - cfg_.piece_count % 8) % 8;
      if (spare != 0 && !p.empty() && (p.back() & ((1u << spare) - 1)) != 0)
        return make_error(
            wire_error::bitfield_spare_bits,
            "bitfield has bits set past the last of " + str(cfg_.piece_count) + " pieces");
      return message{bitfield{p}};
    }
    case message_id::extended:
      return message{extended{p[0], p.subspan(1)}};
  }
  return message{unknown_message{id, p}};
}

}  // namespace peerwire::wire
