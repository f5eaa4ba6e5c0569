// Handshake encoding and the incremental handshake decoder.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>

#include "peerwire/wire_handshake.hpp"

namespace peerwire::wire {

namespace {

constexpr std::uint8_t protocol_length = 19;
static_assert(protocol_name.size() == protocol_length);

// The byte that belongs at offset i (< 20) of every handshake.
std::uint8_t expected_header_byte(std::size_t i) {
  return i == 0 ? protocol_length : static_cast<std::uint8_t>(protocol_name[i - 1]);
}

// "'G' (0x47)" for printable bytes, "0x16" otherwise.
std::string show_byte(std::uint8_t b) {
  char text[16];
  if (std::isprint(b) != 0)
    std::snprintf(text, sizeof text, "'%c' (0x%02x)", static_cast<char>(b), b);
  else
    std::snprintf(text, sizeof text, "0x%02x", b);
  return text;
}

}  // namespace

std::array<std::uint8_t, handshake_size> encode_handshake(const handshake& h) {
  std::array<std::uint8_t, handshake_size> out{};
  out[0] = protocol_length;
  std::memcpy(out.data() + 1, protocol_name.data(), protocol_name.size());
  std::copy(h.reserved.begin(), h.reserved.end(), out.begin() + reserved_offset);
  std::copy(h.info_hash.begin(), h.info_hash.end(), out.begin() + info_hash_offset);
  std::copy(h.id.begin(), h.id.end(), out.begin() + peer_id_offset);
  return out;
}

void encode_handshake(const handshake& h, std::vector<std::uint8_t>& out) {
  const auto bytes = encode_handshake(h);
  out.insert(out.end(), bytes.begin(), bytes.end());
}

std::string handshake_error::describe() const {
  std::string text;
  if (kind == handshake_error_kind::not_bittorrent_or_encrypted) {
    text = "first byte is " + show_byte(received) +
           ", expected 0x13 (19, the length of \"BitTorrent protocol\"): not a BitTorrent peer, "
           "or the stream is encrypted (MSE)";
  } else {
    text = "byte " + std::to_string(offset) + " of the handshake is " + show_byte(received) +
           " where \"BitTorrent protocol\" has " + show_byte(expected) +
           ": not a BitTorrent peer (another protocol)";
  }
  text += "; received";
  for (std::uint8_t b : seen) {
    char hex[4];
    std::snprintf(hex, sizeof hex, " %02x", b);
    text += hex;
  }
  return text;
}

void handshake_decoder::feed(std::span<const std::uint8_t> bytes) {
  if (stage_ == handshake_stage::error) return;
  const std::size_t take = std::min(bytes.size(), handshake_size - filled_);
  std::copy_n(bytes.begin(), take, bytes_.begin() + static_cast<std::ptrdiff_t>(filled_));
  filled_ += take;
  rest_.insert(rest_.end(), bytes.begin() + static_cast<std::ptrdiff_t>(take), bytes.end());
}

handshake_stage handshake_decoder::next() {
  if (stage_ == handshake_stage::error || stage_ == handshake_stage::complete) return stage_;

  // Check each header byte as soon as it is in, so a non-BitTorrent peer is recognised
  // without waiting for 20 bytes that may never come.
  const std::size_t header_end = std::min<std::size_t>(filled_, reserved_offset);
  for (; checked_ < header_end; ++checked_) {
    const std::uint8_t want = expected_header_byte(checked_);
    const std::uint8_t got = bytes_[checked_];
    if (got == want) continue;
    error_.kind = checked_ == 0 ? handshake_error_kind::not_bittorrent_or_encrypted
                                : handshake_error_kind::wrong_protocol_string;
    error_.offset = checked_;
    error_.expected = want;
    error_.received = got;
    error_.seen.assign(bytes_.begin(), bytes_.begin() + static_cast<std::ptrdiff_t>(checked_ + 1));
    rest_.clear();
    return stage_ = handshake_stage::error;
  }

  if (filled_ >= peer_id_offset && !info_hash_reported_) {
    std::copy_n(bytes_.begin() + reserved_offset, result_.reserved.size(),
                result_.reserved.begin());
    std::copy_n(bytes_.begin() + info_hash_offset, result_.info_hash.size(),
                result_.info_hash.begin());
    info_hash_reported_ = true;
    return stage_ = handshake_stage::info_hash;
  }
  if (filled_ == handshake_size) {
    std::copy_n(bytes_.begin() + peer_id_offset, result_.id.size(), result_.id.begin());
    return stage_ = handshake_stage::complete;
  }
  return stage_ = handshake_stage::need_more;
}

handshake_check check_reply(const handshake& reply, const sha1_digest& info_hash,
                            const peer_id& our_id, const std::optional<peer_id>& expected_id) {
  if (reply.info_hash != info_hash) return handshake_check::info_hash_mismatch;
  if (reply.id == our_id) return handshake_check::self_connection;
  if (expected_id && reply.id != *expected_id) return handshake_check::peer_id_mismatch;
  return handshake_check::ok;
}

const char* describe(handshake_check c) {
  switch (c) {
    case handshake_check::ok:
      return "ok";
    case handshake_check::info_hash_mismatch:
      return "the peer answered with another info-hash";
    case handshake_check::peer_id_mismatch:
      return "the peer id differs from the one the tracker announced";
    case handshake_check::self_connection:
      return "the peer id is ours: connected to ourselves";
  }
  return "?";
}

}  // namespace peerwire::wire
