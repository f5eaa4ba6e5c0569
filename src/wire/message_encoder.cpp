// Message encoders: each appends one length-prefixed message to the caller's buffer.
#include <algorithm>
#include <stdexcept>

#include "peerwire/wire.hpp"

namespace peerwire::wire {

namespace {

using buffer = std::vector<std::uint8_t>;

void put_u32(buffer& out, std::uint32_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 24));
  out.push_back(static_cast<std::uint8_t>(v >> 16));
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}

// Length prefix (id + payload) and id.
void put_header(buffer& out, message_id id, std::size_t payload_size) {
  // A payload this large cannot be framed; callers build messages, so it is a bug.
  if (payload_size > 0xfffffffeu) throw std::length_error("wire message too long");
  put_u32(out, static_cast<std::uint32_t>(1 + payload_size));
  out.push_back(static_cast<std::uint8_t>(id));
}

void put_bytes(buffer& out, bytes_view bytes) {
  out.insert(out.end(), bytes.begin(), bytes.end());
}

void put_empty(buffer& out, message_id id) {
  put_header(out, id, 0);
}

void put_index(buffer& out, message_id id, std::uint32_t index) {
  put_header(out, id, 4);
  put_u32(out, index);
}

void put_block(buffer& out, message_id id, std::uint32_t index, std::uint32_t offset,
               std::uint32_t length) {
  put_header(out, id, 12);
  put_u32(out, index);
  put_u32(out, offset);
  put_u32(out, length);
}

}  // namespace

bool equal_bytes(bytes_view a, bytes_view b) {
  return std::ranges::equal(a, b);
}

void encode(const keep_alive&, buffer& out) {
  put_u32(out, 0);
}
void encode(const choke&, buffer& out) {
  put_empty(out, message_id::choke);
}
void encode(const unchoke&, buffer& out) {
  put_empty(out, message_id::unchoke);
}
void encode(const interested&, buffer& out) {
  put_empty(out, message_id::interested);
}
void encode(const not_interested&, buffer& out) {
  put_empty(out, message_id::not_interested);
}
void encode(const have& m, buffer& out) {
  put_index(out, message_id::have, m.index);
}

void encode(const bitfield& m, buffer& out) {
  put_header(out, message_id::bitfield, m.bits.size());
  put_bytes(out, m.bits);
}

void encode(const request& m, buffer& out) {
  put_block(out, message_id::request, m.index, m.offset, m.length);
}

std::array<std::uint8_t, piece_header_size> piece_header(std::uint32_t index, std::uint32_t offset,
                                                         std::uint32_t length) {
  // The same bound as put_header's: 8 bytes of index and offset, then the block.
  if (length > 0xfffffffeu - 8) throw std::length_error("wire message too long");
  std::array<std::uint8_t, piece_header_size> h{};
  auto put = [&h](std::size_t at, std::uint32_t v) {
    h[at] = static_cast<std::uint8_t>(v >> 24);
    h[at + 1] = static_cast<std::uint8_t>(v >> 16);
    h[at + 2] = static_cast<std::uint8_t>(v >> 8);
    h[at + 3] = static_cast<std::uint8_t>(v);
  };
  put(0, 9 + length);
  h[4] = static_cast<std::uint8_t>(message_id::piece);
  put(5, index);
  put(9, offset);
  return h;
}

void encode_piece_header(std::uint32_t index, std::uint32_t offset, std::uint32_t length,
                         buffer& out) {
  auto h = piece_header(index, offset, length);
  out.insert(out.end(), h.begin(), h.end());
}

void encode(const piece& m, buffer& out) {
  if (m.data.size() > 0xffffffffu) throw std::length_error("wire block too long");
  encode_piece_header(m.index, m.offset, static_cast<std::uint32_t>(m.data.size()), out);
  put_bytes(out, m.data);
}

void encode(const cancel& m, buffer& out) {
  put_block(out, message_id::cancel, m.index, m.offset, m.length);
}

void encode(const port& m, buffer& out) {
  put_header(out, message_id::port, 2);
  out.push_back(static_cast<std::uint8_t>(m.number >> 8));
  out.push_back(static_cast<std::uint8_t>(m.number));
}

void encode(const suggest_piece& m, buffer& out) {
  put_index(out, message_id::suggest_piece, m.index);
}
void encode(const have_all&, buffer& out) {
  put_empty(out, message_id::have_all);
}
void encode(const have_none&, buffer& out) {
  put_empty(out, message_id::have_none);
}

void encode(const reject_request& m, buffer& out) {
  put_block(out, message_id::reject_request, m.index, m.offset, m.length);
}

void encode(const allowed_fast& m, buffer& out) {
  put_index(out, message_id::allowed_fast, m.index);
}

void encode(const extended& m, buffer& out) {
  put_header(out, message_id::extended, std::size_t{1} + m.payload.size());
  out.push_back(m.id);
  put_bytes(out, m.payload);
}

void encode(const unknown_message& m, buffer& out) {
  put_header(out, static_cast<message_id>(m.id), m.payload.size());
  put_bytes(out, m.payload);
}

void encode(const message& m, buffer& out) {
  std::visit([&out](const auto& msg) { encode(msg, out); }, m);
}

}  // namespace peerwire::wire
