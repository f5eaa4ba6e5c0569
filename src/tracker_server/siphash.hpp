// SipHash-2-4 (Aumasson and Bernstein, 2012): a keyed 64-bit PRF, fast on short inputs. Used
// for UDP connection ids (unforgeable without the key) and to key the registry's hash tables
// (an attacker choosing info-hashes cannot force bucket collisions). Written from the paper.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace peerwire::tracker_server::detail {

inline std::uint64_t rotl(std::uint64_t x, int b) {
  return (x << b) | (x >> (64 - b));
}

inline std::uint64_t load_le64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

struct sip_key {
  std::uint64_t k0 = 0, k1 = 0;
  static sip_key from(const std::uint8_t* bytes16) {
    return {load_le64(bytes16), load_le64(bytes16 + 8)};
  }
};

inline std::uint64_t siphash24(const sip_key& k, std::span<const std::uint8_t> in) {
  std::uint64_t v0 = 0x736f6d6570736575ULL ^ k.k0;
  std::uint64_t v1 = 0x646f72616e646f6dULL ^ k.k1;
  std::uint64_t v2 = 0x6c7967656e657261ULL ^ k.k0;
  std::uint64_t v3 = 0x7465646279746573ULL ^ k.k1;
  auto round = [&] {
    v0 += v1;
    v1 = rotl(v1, 13);
    v1 ^= v0;
    v0 = rotl(v0, 32);
    v2 += v3;
    v3 = rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = rotl(v1, 17);
    v1 ^= v2;
    v2 = rotl(v2, 32);
  };
  const std::size_t n = in.size();
  const std::size_t full = n & ~std::size_t{7};
  for (std::size_t i = 0; i < full; i += 8) {
    std::uint64_t m = load_le64(in.data() + i);
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
  std::uint64_t last = static_cast<std::uint64_t>(n & 0xff) << 56;
  for (std::size_t i = 0; i < (n & 7); ++i)
    last |= static_cast<std::uint64_t>(in[full + i]) << (8 * i);
  v3 ^= last;
  round();
  round();
  v0 ^= last;
  v2 ^= 0xff;
  round();
  round();
  round();
  round();
  return v0 ^ v1 ^ v2 ^ v3;
}

}  // namespace peerwire::tracker_server::detail
