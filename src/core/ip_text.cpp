// Written here to give the same text as glibc's inet_ntop/inet_pton, on string_views, so the pure
// modules format and parse addresses exactly as they did when they called them.
#include "peerwire/ip_text.hpp"

#include <algorithm>
#include <cstring>

namespace peerwire {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string ipv4_text(std::span<const std::uint8_t, 4> a) {
  return std::to_string(a[0]) + "." + std::to_string(a[1]) + "." + std::to_string(a[2]) + "." +
         std::to_string(a[3]);
}

std::string ipv6_text(std::span<const std::uint8_t, 16> a) {
  std::array<unsigned, 8> words{};
  for (int i = 0; i < 8; ++i) words[i] = (a[2 * i] << 8) | a[2 * i + 1];
  // The longest run of zero words; the first one wins a tie. A single zero is not compressed.
  int best_base = -1, best_len = 0, cur_base = -1, cur_len = 0;
  for (int i = 0; i <= 8; ++i) {
    if (i < 8 && words[i] == 0) {
      if (cur_base == -1) cur_base = i, cur_len = 0;
      ++cur_len;
    } else if (cur_base != -1) {
      if (best_base == -1 || cur_len > best_len) best_base = cur_base, best_len = cur_len;
      cur_base = -1;
    }
  }
  if (best_base != -1 && best_len < 2) best_base = -1;

  std::string out;
  static const char* digits = "0123456789abcdef";
  for (int i = 0; i < 8; ++i) {
    if (best_base != -1 && i >= best_base && i < best_base + best_len) {
      if (i == best_base) out += ':';
      continue;
    }
    if (i != 0) out += ':';
    // IPv4-compatible (::a.b.c.d) and IPv4-mapped (::ffff:a.b.c.d) addresses end dotted.
    if (i == 6 && best_base == 0 && (best_len == 6 || (best_len == 5 && words[5] == 0xffff))) {
      out += ipv4_text(a.subspan<12, 4>());
      break;
    }
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      unsigned d = (words[i] >> shift) & 0xf;
      if (d != 0 || started || shift == 0) {
        out += digits[d];
        started = true;
      }
    }
  }
  if (best_base != -1 && best_base + best_len == 8) out += ':';
  return out;
}

std::optional<std::array<std::uint8_t, 4>> parse_ipv4(std::string_view text) {
  std::array<std::uint8_t, 4> out{};
  std::size_t part = 0;  // index of the part being read
  unsigned value = 0;
  bool saw_digit = false;
  for (char c : text) {
    if (c >= '0' && c <= '9') {
      if (saw_digit && value == 0) return std::nullopt;  // a leading zero
      value = value * 10 + static_cast<unsigned>(c - '0');
      if (value > 255) return std::nullopt;
      saw_digit = true;
    } else if (c == '.' && saw_digit) {
      if (part == 3) return std::nullopt;
      out[part++] = static_cast<std::uint8_t>(value);
      value = 0;
      saw_digit = false;
    } else {
      return std::nullopt;
    }
  }
  if (part != 3 || !saw_digit) return std::nullopt;
  out[3] = static_cast<std::uint8_t>(value);
  return out;
}

std::optional<std::array<std::uint8_t, 16>> parse_ipv6(std::string_view text) {
  std::array<std::uint8_t, 16> tmp{};
  std::size_t tp = 0;              // next byte of tmp to fill
  std::optional<std::size_t> gap;  // where "::" stands
  std::size_t i = 0;
  if (text.empty()) return std::nullopt;
  if (text[0] == ':') {  // a leading ':' must be the start of "::"
    if (text.size() < 2 || text[1] != ':') return std::nullopt;
    i = 1;
  }
  std::size_t token = i;  // start of the current group (an IPv4 tail starts there)
  std::size_t digits = 0;
  unsigned value = 0;
  while (i < text.size()) {
    char c = text[i++];
    if (int d = hex_value(c); d >= 0) {
      if (digits == 4) return std::nullopt;
      value = (value << 4) | static_cast<unsigned>(d);
      ++digits;
      continue;
    }
    if (c == ':') {
      token = i;
      if (digits == 0) {
        if (gap) return std::nullopt;
        gap = tp;
        continue;
      }
      if (i == text.size()) return std::nullopt;  // a trailing single ':'
      if (tp + 2 > tmp.size()) return std::nullopt;
      tmp[tp++] = static_cast<std::uint8_t>(value >> 8);
      tmp[tp++] = static_cast<std::uint8_t>(value);
      digits = 0;
      value = 0;
      continue;
    }
    if (c == '.' && tp + 4 <= tmp.size()) {
      auto v4 = parse_ipv4(text.substr(token));
      if (!v4) return std::nullopt;
      std::copy(v4->begin(), v4->end(), tmp.begin() + static_cast<std::ptrdiff_t>(tp));
      tp += 4;
      digits = 0;
      break;
    }
    return std::nullopt;
  }
  if (digits > 0) {
    if (tp + 2 > tmp.size()) return std::nullopt;
    tmp[tp++] = static_cast<std::uint8_t>(value >> 8);
    tmp[tp++] = static_cast<std::uint8_t>(value);
  }
  if (gap) {
    if (tp == tmp.size()) return std::nullopt;  // "::" would stand for no group at all
    std::size_t n = tp - *gap;
    std::memmove(tmp.data() + tmp.size() - n, tmp.data() + *gap, n);
    std::memset(tmp.data() + *gap, 0, tmp.size() - n - *gap);
    tp = tmp.size();
  }
  if (tp != tmp.size()) return std::nullopt;
  return tmp;
}

}  // namespace peerwire
