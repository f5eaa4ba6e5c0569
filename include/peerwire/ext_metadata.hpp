// BEP 9 ut_metadata: fetching the info dictionary from peers (magnet links), and serving ours.
//
// The metadata (the bencoded info dictionary) is split into 16 KiB pieces, the last one
// shorter. A message is one bencoded dictionary {msg_type, piece[, total_size]}; a data
// message carries the raw piece bytes right after that dictionary.
//
// Everything here is pure: payloads in, payloads out. All payloads are what follows the
// extended-message id byte (BEP 10), in both directions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "peerwire/info_hash.hpp"
#include "peerwire/result.hpp"

namespace peerwire::ext {

inline constexpr std::size_t metadata_piece_size = 16 * 1024;
// The largest metadata we accept from a peer's "metadata_size" or "total_size". Real info
// dictionaries are well under this (a 64 MiB one lists ~3 million pieces).
inline constexpr std::int64_t default_max_metadata_size = 64 * 1024 * 1024;

// Number of 16 KiB pieces for metadata of `size` bytes (size > 0).
std::uint32_t metadata_piece_count(std::int64_t size);

enum class metadata_msg_type : std::uint8_t {
  request = 0,
  data = 1,
  reject = 2,
  // A msg_type this version does not know. BEP 9 says to ignore such messages (not to drop
  // the peer): it keeps the protocol extensible.
  unknown = 255,
};

struct metadata_message {
  metadata_msg_type type = metadata_msg_type::request;
  std::int64_t raw_type = 0;  // the msg_type as sent (meaningful for `unknown`)
  std::uint32_t piece = 0;
  std::int64_t total_size = 0;  // data only: size of the whole metadata (> 0)
  // data only: the piece bytes following the dictionary. A view into the parsed payload.
  std::span<const std::uint8_t> data;
};

// Parses a ut_metadata payload. Strict, since a peer that gets this wrong cannot be
// trusted with the metadata either:
//  - a bencoded dictionary first, with "msg_type" and "piece" non-negative integers;
//  - request/reject: nothing after the dictionary; piece < pieces of `max_metadata_size`;
//  - data: "total_size" in 1..max_metadata_size, piece < its piece count, and exactly 16 KiB
//    of piece bytes (the last piece: the remainder) after the dictionary.
// Other keys are ignored. An unknown non-negative msg_type parses as `unknown`: only the
// dictionary is checked, "piece" is reported when it is a non-negative integer (else 0), and
// trailing bytes are allowed.
result<metadata_message> parse_metadata_message(
    std::span<const std::uint8_t> payload,
    std::int64_t max_metadata_size = default_max_metadata_size);

// Encoders (canonical bencode). The data encoder appends `bytes` after the dictionary.
std::string encode_metadata_request(std::uint32_t piece);
std::string encode_metadata_reject(std::uint32_t piece);
std::string encode_metadata_data(std::uint32_t piece, std::int64_t total_size,
                                 std::span<const std::uint8_t> bytes);

// Server side: the reply to a peer's request for `piece` of our metadata `info_dict` (the
// exact bencoded info dictionary whose SHA-1 is the info-hash). A data message when the piece
// exists, a reject when it does not or when we have no metadata yet (empty info_dict).
std::string metadata_reply(std::string_view info_dict, std::uint32_t piece);

// Identifies the peer that sent a piece, for blame. Opaque to the assembler: the caller
// picks (a connection id, an address hash...).
using metadata_peer_key = std::uint64_t;

// Collects metadata pieces from any number of peers and verifies the result against the
// info-hash. Memory grows only as pieces arrive, so a peer announcing a large metadata_size
// costs nothing until it sends data.
//
// Typical use: for each peer that supports ut_metadata, call next_request() while it returns
// a piece and send encode_metadata_request(); on a data message call add_piece(); on a reject,
// a timeout or a disconnect call release() / release_peer() so another peer gets the piece.
class metadata_assembler {
 public:
  enum class status {
    accepted,          // stored; more pieces needed
    duplicate,         // already had this piece; ignored
    complete,          // all pieces in, SHA-1 matches, decodes as a dictionary: `metadata`
    hash_mismatch,     // all pieces in but SHA-1 differs: state reset, `contributors` to blame
    invalid_metadata,  // SHA-1 matches but the bytes are not a bencoded dictionary: the
                       // info-hash itself names garbage; retrying cannot help
  };

  struct outcome {
    status state = status::accepted;
    std::string metadata;                         // complete: the verified info dictionary
    std::vector<metadata_peer_key> contributors;  // hash_mismatch: sorted, unique
    std::string reason;                           // invalid_metadata: why it failed to decode
  };

  // Fails when metadata_size <= 0 or > max_metadata_size.
  static result<metadata_assembler> create(
      const sha1_hash& info_hash, std::int64_t metadata_size,
      std::int64_t max_metadata_size = default_max_metadata_size);

  const sha1_hash& info_hash() const { return info_hash_; }
  std::int64_t metadata_size() const { return size_; }
  std::uint32_t piece_count() const { return static_cast<std::uint32_t>(pieces_.size()); }
  std::uint32_t pieces_received() const { return received_; }
  std::uint32_t pieces_in_flight() const;
  // Expected byte length of `piece` (16 KiB, the last one shorter); 0 when out of range.
  std::size_t piece_length(std::uint32_t piece) const;

  // The lowest piece neither received nor in flight, now marked in flight to `peer`;
  // nullopt when every missing piece is already in flight (or all are in).
  std::optional<std::uint32_t> next_request(metadata_peer_key peer);
  // Makes an in-flight piece requestable again (the peer rejected it or timed out). No effect
  // on received pieces.
  void release(std::uint32_t piece);
  // release() for every piece in flight to `peer` (it disconnected).
  void release_peer(metadata_peer_key peer);

  // Stores piece bytes from `peer` (requested or not: any peer's correct piece is welcome).
  // Errors (the sender's fault, nothing changes): piece out of range, wrong length.
  result<outcome> add_piece(std::uint32_t piece, std::span<const std::uint8_t> bytes,
                            metadata_peer_key peer);
  // The same for a parsed message: also checks it is a data message whose total_size is the
  // metadata_size this assembler was created with.
  result<outcome> add_piece(const metadata_message& msg, metadata_peer_key peer);

 private:
  enum class piece_state : std::uint8_t { needed, in_flight, received };
  struct piece_slot {
    piece_state state = piece_state::needed;
    metadata_peer_key peer = 0;  // in_flight: requested from; received: sent by
    std::string bytes;
  };

  metadata_assembler(const sha1_hash& ih, std::int64_t size);
  outcome finish();

  sha1_hash info_hash_;
  std::int64_t size_ = 0;
  std::vector<piece_slot> pieces_;
  std::uint32_t received_ = 0;
};

}  // namespace peerwire::ext
