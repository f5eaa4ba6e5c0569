// The BitTorrent handshake (BEP 3): 68 bytes — length byte 19, "BitTorrent protocol",
// 8 reserved bytes, the 20-byte info-hash and the sender's 20-byte peer id.
//
// Pure (sans-IO): the decoder is fed bytes as they arrive, in any split, and reports stages.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "peerwire/sha1.hpp"
#include "peerwire/wire_peer_id.hpp"

namespace peerwire::wire {

inline constexpr std::size_t handshake_size = 68;
inline constexpr std::string_view protocol_name = "BitTorrent protocol";
// Offsets of the fields within the handshake.
inline constexpr std::size_t reserved_offset = 20;
inline constexpr std::size_t info_hash_offset = 28;
inline constexpr std::size_t peer_id_offset = 48;

// Reserved bytes -------------------------------------------------------------------------

using reserved_bytes = std::array<std::uint8_t, 8>;

// The capability bits we know about.
struct reserved_flags {
  bool extension_protocol = false;  // BEP 10: reserved[5] & 0x10
  bool fast = false;                // BEP 6:  reserved[7] & 0x04
  bool dht = false;                 // BEP 5:  reserved[7] & 0x01
  bool v2_upgrade = false;          // BEP 52: reserved[7] & 0x10
  bool operator==(const reserved_flags&) const = default;
};

reserved_bytes make_reserved(const reserved_flags& flags);
reserved_flags decode_reserved(const reserved_bytes& bytes);
// The reserved bytes with every known bit cleared: what is left is unknown to us.
reserved_bytes unknown_reserved_bits(const reserved_bytes& bytes);
// For probe/trace: "extension protocol (BEP 10), fast extension (BEP 6), DHT (BEP 5),
// unknown bits: 0x8000000000000000"; "none" when every bit is clear.
std::string describe_reserved(const reserved_bytes& bytes);

// Handshake ------------------------------------------------------------------------------

struct handshake {
  reserved_bytes reserved{};
  sha1_digest info_hash{};  // for a v2 torrent: the SHA-256 info-hash truncated to 20 bytes
  peer_id id{};
  bool operator==(const handshake&) const = default;
};

std::array<std::uint8_t, handshake_size> encode_handshake(const handshake& h);
// Appends the 68 bytes to `out`.
void encode_handshake(const handshake& h, std::vector<std::uint8_t>& out);

// Why the first 20 bytes were not a plaintext BitTorrent handshake header.
enum class handshake_error_kind {
  // Byte 0 was not 19: the peer does not speak BitTorrent, or the stream is encrypted (MSE/PE
  // starts with a random-looking Diffie-Hellman key, so its first byte is arbitrary).
  not_bittorrent_or_encrypted,
  // Byte 0 was 19 but the protocol string differs: some other protocol, not BitTorrent.
  wrong_protocol_string,
};

struct handshake_error {
  handshake_error_kind kind{};
  std::size_t offset = 0;          // first mismatching byte (0..19)
  std::uint8_t expected = 0;       // what belonged there
  std::uint8_t received = 0;       // what arrived
  std::vector<std::uint8_t> seen;  // every byte received up to and including the mismatch

  // "first byte is 0x16, expected 0x13 (19): not a BitTorrent peer, or the stream is
  // encrypted (MSE)", "byte 5 of the protocol string is 'x' (0x78), expected 'o' ...".
  std::string describe() const;
};

enum class handshake_stage {
  need_more,  // feed more bytes
  info_hash,  // 48 bytes seen: info_hash() and reserved() are valid; answer now if receiving
  complete,   // 68 bytes seen: get() is valid; remaining() holds what followed
  error,      // error() says why; the connection should be closed
};

// Incremental handshake decoder. feed() bytes (any split), then call next() until it says
// need_more. Each of info_hash and complete is reported once, in that order; after complete
// (or error) next() keeps returning it.
class handshake_decoder {
 public:
  void feed(std::span<const std::uint8_t> bytes);
  handshake_stage next();

  // Valid from the info_hash stage on.
  const reserved_bytes& reserved() const { return result_.reserved; }
  const sha1_digest& info_hash() const { return result_.info_hash; }
  // Valid at complete.
  const handshake& get() const { return result_; }
  // Valid at error.
  const handshake_error& error() const { return error_; }
  // Bytes fed after the 68th (the start of the message stream); hand them to the
  // message_decoder. Stays valid until the next feed().
  std::span<const std::uint8_t> remaining() const { return rest_; }
  // How many of the 68 handshake bytes have arrived.
  std::size_t received() const { return filled_; }

 private:
  std::array<std::uint8_t, handshake_size> bytes_{};
  std::size_t filled_ = 0;
  std::size_t checked_ = 0;  // header bytes (of the first 20) already verified
  bool info_hash_reported_ = false;
  handshake_stage stage_ = handshake_stage::need_more;
  handshake result_{};
  handshake_error error_{};
  std::vector<std::uint8_t> rest_;
};

// Initiator side: having sent our handshake for `info_hash`, is the reply acceptable?
enum class handshake_check {
  ok,
  info_hash_mismatch,  // the peer answered for another torrent
  peer_id_mismatch,    // the tracker gave another peer id for this address
  self_connection,     // the peer id is ours: we connected to ourselves
};

// `expected_id` is the peer id the tracker announced for this address, if it gave one
// (compact tracker replies do not).
handshake_check check_reply(const handshake& reply, const sha1_digest& info_hash,
                            const peer_id& our_id, const std::optional<peer_id>& expected_id);
const char* describe(handshake_check c);

}  // namespace peerwire::wire
