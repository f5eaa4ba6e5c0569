// BEP 9 ut_metadata codec and the metadata assembler (see ext_metadata.hpp).
#include <algorithm>
#include <cstring>

#include "peerwire/bencode.hpp"
#include "peerwire/bencode_value.hpp"
#include "peerwire/ext_metadata.hpp"
#include "peerwire/sha1.hpp"

namespace peerwire::ext {

namespace {

// The dictionary in front of the piece bytes is a handful of keys; anything near this size is
// not a ut_metadata header, and bounding it keeps scanning and decoding cheap.
constexpr std::size_t max_header_size = 8 * 1024;
constexpr std::size_t max_header_depth = 8;

// Length of the single bencoded value at the start of `in` (which must be a dictionary), or
// nullopt if it does not end within `in`. Only finds the extent: the strict decoder validates
// the prefix afterwards. Needed because bencode::decode() wants exactly one value, while a
// data message continues with raw bytes.
std::optional<std::size_t> dict_prefix_length(std::string_view in) {
  if (in.empty() || in[0] != 'd') return std::nullopt;
  const std::size_t n = in.size();
  std::size_t pos = 0;
  std::size_t depth = 0;
  do {
    if (pos >= n) return std::nullopt;
    const char c = in[pos];
    if (c == 'd' || c == 'l') {
      if (++depth > max_header_depth) return std::nullopt;
      ++pos;
    } else if (c == 'e') {
      --depth;  // depth > 0 here: the loop stops as soon as it returns to 0
      ++pos;
    } else if (c == 'i') {
      auto end = in.find('e', pos + 1);
      if (end == std::string_view::npos) return std::nullopt;
      pos = end + 1;
    } else if (c >= '0' && c <= '9') {
      std::size_t len = 0;
      while (pos < n && in[pos] >= '0' && in[pos] <= '9') {
        len = len * 10 + static_cast<std::size_t>(in[pos] - '0');
        if (len > n) return std::nullopt;  // also stops overflow
        ++pos;
      }
      if (pos >= n || in[pos] != ':') return std::nullopt;
      ++pos;
      if (len > n - pos) return std::nullopt;
      pos += len;
    } else {
      return std::nullopt;
    }
  } while (depth > 0);
  return pos;
}

std::string header(std::int64_t type, std::uint32_t piece,
                   std::optional<std::int64_t> total_size = std::nullopt) {
  bencode::dict d{{"msg_type", type}, {"piece", static_cast<std::int64_t>(piece)}};
  if (total_size) d["total_size"] = *total_size;
  return bencode::encode(bencode::value(std::move(d)));
}

std::string_view as_chars(std::span<const std::uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

}  // namespace

std::uint32_t metadata_piece_count(std::int64_t size) {
  if (size <= 0) return 0;
  // Written without size + piece - 1, which would overflow for sizes near INT64_MAX.
  const auto piece = static_cast<std::int64_t>(metadata_piece_size);
  const std::int64_t count = size / piece + (size % piece != 0 ? 1 : 0);
  return static_cast<std::uint32_t>(std::min<std::int64_t>(count, UINT32_MAX));
}

result<metadata_message> parse_metadata_message(std::span<const std::uint8_t> payload,
                                                std::int64_t max_metadata_size) {
  const std::string_view in = as_chars(payload);
  auto header_len = dict_prefix_length(in.substr(0, std::min(in.size(), max_header_size)));
  if (!header_len) {
    // Decode the same bytes for a precise message when they are malformed rather than long.
    auto doc = bencode::decode(in.substr(0, std::min(in.size(), max_header_size)));
    if (!doc) return make_error("ut_metadata: " + doc.error().message, doc.error().offset);
    return make_error(
        "ut_metadata message does not start with a dictionary of at most 8 KiB "
        "and depth 8",
        0);
  }
  const bencode::limits lim{
      .max_input_size = max_header_size, .max_depth = max_header_depth, .max_tokens = 256};
  auto doc = bencode::decode(in.substr(0, *header_len), lim);
  if (!doc) return make_error("ut_metadata: " + doc.error().message, doc.error().offset);
  const auto root = doc->root();

  metadata_message msg;
  auto type = root.find("msg_type");
  if (!type || !type->is_int() || type->as_int() < 0)
    return make_error("ut_metadata 'msg_type' is missing or not a non-negative integer");
  msg.raw_type = type->as_int();
  if (msg.raw_type > 2) {
    msg.type = metadata_msg_type::unknown;
  } else {
    msg.type = static_cast<metadata_msg_type>(msg.raw_type);
  }

  auto piece = root.find("piece");
  const bool piece_ok = piece && piece->is_int() && piece->as_int() >= 0;
  if (msg.type == metadata_msg_type::unknown) {
    // A future message may define "piece" differently or not at all: report what is there.
    if (piece_ok)
      msg.piece = static_cast<std::uint32_t>(std::min<std::int64_t>(piece->as_int(), UINT32_MAX));
    return msg;
  }
  if (!piece_ok) return make_error("ut_metadata 'piece' is missing or not a non-negative integer");
  const std::int64_t piece_index = piece->as_int();

  const auto rest = payload.subspan(*header_len);
  if (msg.type != metadata_msg_type::data) {
    if (piece_index >= metadata_piece_count(max_metadata_size))
      return make_error("ut_metadata piece " + std::to_string(piece_index) + " is out of range");
    if (!rest.empty()) return make_error("ut_metadata request/reject has trailing bytes");
    msg.piece = static_cast<std::uint32_t>(piece_index);
    return msg;
  }

  auto total = root.find("total_size");
  if (!total || !total->is_int())
    return make_error("ut_metadata data message without an integer 'total_size'");
  msg.total_size = total->as_int();
  if (msg.total_size <= 0 || msg.total_size > max_metadata_size)
    return make_error("ut_metadata total_size " + std::to_string(msg.total_size) +
                      " is outside 1.." + std::to_string(max_metadata_size));
  const std::uint32_t count = metadata_piece_count(msg.total_size);
  if (piece_index >= count)
    return make_error("ut_metadata data piece " + std::to_string(piece_index) + " of " +
                      std::to_string(count) + " pieces");
  msg.piece = static_cast<std::uint32_t>(piece_index);
  const auto expected = static_cast<std::size_t>(std::min<std::int64_t>(
      static_cast<std::int64_t>(metadata_piece_size),
      msg.total_size - piece_index * static_cast<std::int64_t>(metadata_piece_size)));
  if (rest.size() != expected)
    return make_error("ut_metadata data piece " + std::to_string(piece_index) + " has " +
                      std::to_string(rest.size()) + " bytes, expected " + std::to_string(expected));
  msg.data = rest;
  return msg;
}

std::string encode_metadata_request(std::uint32_t piece) {
  return header(0, piece);
}

std::string encode_metadata_reject(std::uint32_t piece) {
  return header(2, piece);
}

std::string encode_metadata_data(std::uint32_t piece, std::int64_t total_size,
                                 std::span<const std::uint8_t> bytes) {
  std::string out = header(1, piece, total_size);
  out.append(as_chars(bytes));
  return out;
}

std::string metadata_reply(std::string_view info_dict, std::uint32_t piece) {
  const auto size = static_cast<std::int64_t>(info_dict.size());
  if (piece >= metadata_piece_count(size)) return encode_metadata_reject(piece);
  auto chunk = info_dict.substr(std::size_t{piece} * metadata_piece_size, metadata_piece_size);
  return encode_metadata_data(
      piece, size, std::span(reinterpret_cast<const std::uint8_t*>(chunk.data()), chunk.size()));
}

// metadata_assembler ------------------------------------------------------------------------

metadata_assembler::metadata_assembler(const sha1_hash& ih, std::int64_t size)
    : info_hash_(ih), size_(size), pieces_(metadata_piece_count(size)) {}

result<metadata_assembler> metadata_assembler::create(const sha1_hash& info_hash,
                                                      std::int64_t metadata_size,
                                                      std::int64_t max_metadata_size) {
  if (metadata_size <= 0 || metadata_size > max_metadata_size)
    return make_error("metadata_size " + std::to_string(metadata_size) + " is outside 1.." +
                      std::to_string(max_metadata_size));
  return metadata_assembler(info_hash, metadata_size);
}

std::uint32_t metadata_assembler::pieces_in_flight() const {
  return static_cast<std::uint32_t>(std::count_if(
      pieces_.begin(), pieces_.end(), [](auto& p) { return p.state == piece_state::in_flight; }));
}

std::size_t metadata_assembler::piece_length(std::uint32_t piece) const {
  if (piece >= pieces_.size()) return 0;
  const std::int64_t start = std::int64_t{piece} * static_cast<std::int64_t>(metadata_piece_size);
  return static_cast<std::size_t>(
      std::min<std::int64_t>(static_cast<std::int64_t>(metadata_piece_size), size_ - start));
}

std::optional<std::uint32_t> metadata_assembler::next_request(metadata_peer_key peer) {
  for (std::uint32_t i = 0; i < pieces_.size(); ++i) {
    if (pieces_[i].state == piece_state::needed) {
      pieces_[i].state = piece_state::in_flight;
      pieces_[i].peer = peer;
      return i;
    }
  }
  return std::nullopt;
}

void metadata_assembler::release(std::uint32_t piece) {
  if (piece < pieces_.size() && pieces_[piece].state == piece_state::in_flight)
    pieces_[piece].state = piece_state::needed;
}

void metadata_assembler::release_peer(metadata_peer_key peer) {
  for (auto& p : pieces_)
    if (p.state == piece_state::in_flight && p.peer == peer) p.state = piece_state::needed;
}

result<metadata_assembler::outcome> metadata_assembler::add_piece(const metadata_message& msg,
                                                                  metadata_peer_key peer) {
  if (msg.type != metadata_msg_type::data) return make_error("ut_metadata: not a data message");
  if (msg.total_size != size_)
    return make_error("ut_metadata total_size " + std::to_string(msg.total_size) +
                      " differs from the announced metadata_size " + std::to_string(size_));
  return add_piece(msg.piece, msg.data, peer);
}

result<metadata_assembler::outcome> metadata_assembler::add_piece(
    std::uint32_t piece, std::span<const std::uint8_t> bytes, metadata_peer_key peer) {
  if (piece >= pieces_.size())
    return make_error("ut_metadata piece " + std::to_string(piece) + " is out of range (" +
                      std::to_string(pieces_.size()) + " pieces)");
  if (bytes.size() != piece_length(piece))
    return make_error("ut_metadata piece " + std::to_string(piece) + " has " +
                      std::to_string(bytes.size()) + " bytes, expected " +
                      std::to_string(piece_length(piece)));
  auto& slot = pieces_[piece];
  if (slot.state == piece_state::received) return outcome{.state = status::duplicate};
  slot.state = piece_state::received;
  slot.peer = peer;
  slot.bytes.assign(as_chars(bytes));
  if (++received_ < pieces_.size()) return outcome{.state = status::accepted};
  return finish();
}

metadata_assembler::outcome metadata_assembler::finish() {
  std::string all;
  all.reserve(static_cast<std::size_t>(size_));
  for (const auto& p : pieces_) all += p.bytes;

  if (sha1(all) != info_hash_.bytes) {
    // SHA-1 cannot say which piece is wrong, so everyone who contributed is suspect; start
    // over so the caller can fetch from the peers it keeps.
    outcome out{.state = status::hash_mismatch};
    for (auto& p : pieces_) {
      out.contributors.push_back(p.peer);
      p = piece_slot{};
    }
    received_ = 0;
    std::sort(out.contributors.begin(), out.contributors.end());
    out.contributors.erase(std::unique(out.contributors.begin(), out.contributors.end()),
                           out.contributors.end());
    return out;
  }

  const bencode::limits lim{.max_input_size = static_cast<std::size_t>(size_)};
  auto doc = bencode::decode(all, lim);
  if (!doc) return outcome{.state = status::invalid_metadata, .reason = doc.error().describe()};
  if (!doc->root().is_dict())
    return outcome{.state = status::invalid_metadata, .reason = "not a dictionary"};
  // Pieces are kept (all received) so later duplicates are answered as such; the bytes are
  // handed out once.
  for (auto& p : pieces_) std::string().swap(p.bytes);
  return outcome{.state = status::complete, .metadata = std::move(all)};
}

}  // namespace peerwire::ext
