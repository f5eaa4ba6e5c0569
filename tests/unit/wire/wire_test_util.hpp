// Helpers shared by the wire tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "peerwire/wire.hpp"

namespace wire_test {

using bytes = std::vector<std::uint8_t>;

inline bytes b(std::initializer_list<int> values) {
  bytes out;
  for (int v : values) out.push_back(static_cast<std::uint8_t>(v));
  return out;
}

inline bytes text(std::string_view s) {
  return bytes(s.begin(), s.end());
}

inline bytes cat(bytes a, const bytes& more) {
  a.insert(a.end(), more.begin(), more.end());
  return a;
}

inline bytes encoded(const peerwire::wire::message& m) {
  bytes out;
  peerwire::wire::encode(m, out);
  return out;
}

// A message with its views copied out, so it outlives the decoder call that produced it.
struct owned_message {
  peerwire::wire::message m;
  bytes storage;
};

inline owned_message own(const peerwire::wire::message& m) {
  owned_message o{m, {}};
  auto rebind = [&o](peerwire::wire::bytes_view& v) {
    o.storage.assign(v.begin(), v.end());
    v = o.storage;
  };
  std::visit(
      [&](auto& msg) {
        using T = std::decay_t<decltype(msg)>;
        if constexpr (std::is_same_v<T, peerwire::wire::bitfield>) rebind(msg.bits);
        if constexpr (std::is_same_v<T, peerwire::wire::piece>) rebind(msg.data);
        if constexpr (std::is_same_v<T, peerwire::wire::extended> ||
                      std::is_same_v<T, peerwire::wire::unknown_message>)
          rebind(msg.payload);
      },
      o.m);
  return o;
}

// Feeds `input` in chunks of `chunk` bytes (0: all at once) and collects every message until
// need_more; stops at the first error, which is returned through `error`.
inline std::vector<std::string> decode_described(const bytes& input,
                                                 const peerwire::wire::decoder_config& cfg,
                                                 std::size_t chunk = 0,
                                                 peerwire::wire::decode_error* error = nullptr) {
  using namespace peerwire::wire;
  message_decoder dec(cfg);
  std::vector<std::string> out;
  std::size_t pos = 0;
  do {
    const std::size_t n = chunk == 0 ? input.size() : std::min(chunk, input.size() - pos);
    dec.feed(std::span(input).subspan(pos, n));
    pos += n;
    for (;;) {
      auto r = dec.next();
      if (auto* m = std::get_if<message>(&r)) {
        out.push_back(describe(*m, cfg.piece_count));
        continue;
      }
      if (auto* e = std::get_if<decode_error>(&r)) {
        if (error) *error = *e;
        return out;
      }
      EXPECT_LE(dec.buffered(), dec.buffer_bound());
      break;
    }
  } while (pos < input.size());
  return out;
}

}  // namespace wire_test
