// Peer wire fuzz target: arbitrary bytes, split at fuzzer-chosen points, go through the
// handshake decoder (optionally) and then the message decoder under a fuzzer-chosen config.
// Checks: no crash; every decoded message re-encodes to exactly the bytes it came from and
// decodes again to the same message; the buffer stays within its bound.
//
// Input layout (29-byte header, then the stream):
//   [0]      flags: 1 known sizes, 2 fast, 4 extensions, 8 starts with a handshake
//   [1..4]   piece length       [5..8] piece count       [9..12] last piece size
//   [13..16] max request length [17..20] max extended length
//   [21..28] chunk sizes, used in turn (n + 1 bytes each)
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "peerwire/wire.hpp"

using namespace peerwire::wire;

namespace {

constexpr std::size_t header_size = 29;

std::uint32_t u32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         p[3];
}

decoder_config make_config(const std::uint8_t* h) {
  decoder_config cfg;
  if ((h[0] & 1) != 0) {
    const std::uint32_t piece_length = 1 + u32(h + 1) % (4u << 20);
    const std::uint64_t count = 1 + u32(h + 5) % 100'000;
    const std::uint64_t last = 1 + u32(h + 9) % piece_length;
    cfg = decoder_config::for_torrent(piece_length, (count - 1) * piece_length + last);
  }
  cfg.fast_enabled = (h[0] & 2) != 0;
  cfg.extensions_enabled = (h[0] & 4) != 0;
  cfg.max_request_length = u32(h + 13) % (140 * 1024);  // the decoder clamps to 1..128 KiB
  cfg.max_extended_length = u32(h + 17) % 70'000;
  return cfg;
}

void check(bool ok) {
  if (!ok) std::abort();
}

// Re-encodes `m`; the bytes must be the original ones and decode to the same message.
void check_round_trip(const message& m, std::span<const std::uint8_t> original,
                      const decoder_config& cfg) {
  std::vector<std::uint8_t> again;
  encode(m, again);
  check(std::ranges::equal(again, original));
  message_decoder dec(cfg);
  dec.feed(again);
  auto r = dec.next();
  check(std::holds_alternative<message>(r) && std::get<message>(r) == m);
  check(dec.consumed() == again.size() && dec.buffered() == 0);
  (void)describe(m, cfg.piece_count);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < header_size) return 0;
  const decoder_config cfg = make_config(data);
  const bool handshake_first = (data[0] & 8) != 0;
  const std::uint8_t* chunks = data + 21;
  const std::span<const std::uint8_t> stream(data + header_size, size - header_size);

  std::size_t pos = 0, turn = 0;
  auto next_chunk = [&] {
    const std::size_t n = std::min<std::size_t>(chunks[turn++ % 8] + 1, stream.size() - pos);
    auto c = stream.subspan(pos, n);
    pos += n;
    return c;
  };

  // Where the message stream starts within `stream`.
  std::size_t messages_start = 0;
  message_decoder dec(cfg);
  if (handshake_first) {
    handshake_decoder hs;
    handshake_stage stage = handshake_stage::need_more;
    while (pos < stream.size()) {
      hs.feed(next_chunk());
      stage = hs.next();
      if (stage == handshake_stage::info_hash) stage = hs.next();
      if (stage == handshake_stage::error || stage == handshake_stage::complete) break;
    }
    if (stage == handshake_stage::error) {
      const auto& e = hs.error();
      check(e.offset < 20 && e.seen.size() == e.offset + 1 && e.received != e.expected);
      (void)e.describe();
      return 0;
    }
    if (stage != handshake_stage::complete) return 0;
    const auto encoded = encode_handshake(hs.get());
    check(std::ranges::equal(encoded, stream.first(handshake_size)));
    check(hs.remaining().size() == pos - handshake_size);
    (void)describe_reserved(hs.get().reserved);
    (void)describe_peer_id(hs.get().id);
    messages_start = handshake_size;
    dec.feed(hs.remaining());
  }

  const auto messages = stream.subspan(messages_start);
  bool fed_remaining = handshake_first;
  while (fed_remaining || pos < stream.size()) {
    if (!fed_remaining) dec.feed(next_chunk());
    fed_remaining = false;
    for (;;) {
      const std::uint64_t before = dec.consumed();
      auto r = dec.next();
      if (auto* m = std::get_if<message>(&r)) {
        check_round_trip(*m, messages.subspan(before, dec.consumed() - before), dec.config());
        continue;
      }
      if (std::holds_alternative<decode_error>(r)) {
        check(std::get<decode_error>(r).offset == dec.consumed());
        return 0;
      }
      check(dec.buffered() <= dec.buffer_bound());
      break;
    }
  }
  return 0;
}
