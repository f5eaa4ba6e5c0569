#include "text.hpp"

#include <ctime>

#include <fmt/compile.h>
#include <fmt/format.h>
#include <boost/json/serialize.hpp>

namespace peerwire::app {

std::string human_size(std::int64_t bytes) {
  static constexpr const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024) return fmt::format(FMT_COMPILE("{} B"), bytes);
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 6) {
    v /= 1024;
    ++u;
  }
  if (v < 10) return fmt::format(FMT_COMPILE("{:.2f} {}"), v, units[u]);
  if (v < 100) return fmt::format(FMT_COMPILE("{:.1f} {}"), v, units[u]);
  return fmt::format(FMT_COMPILE("{:.0f} {}"), v, units[u]);
}

std::string grouped(std::int64_t n) {
  // Magnitude as unsigned so INT64_MIN does not overflow.
  unsigned long long magnitude =
      n < 0 ? 0ull - static_cast<unsigned long long>(n) : static_cast<unsigned long long>(n);
  std::string digits = std::to_string(magnitude);
  std::string out;
  int count = 0;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (count > 0 && count % 3 == 0) out.insert(out.begin(), ',');
    out.insert(out.begin(), *it);
    ++count;
  }
  return n < 0 ? "-" + out : out;
}

std::string utc_time(std::int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return std::to_string(unix_seconds);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is invalid.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  if (c < 0x80) return 1;
  std::size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
  if (len == 0 || c > 0xf4 || i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    if ((b(i + k) & 0xc0) != 0x80) return 0;
  }
  // Overlong 3/4-byte forms, UTF-16 surrogates and code points above U+10FFFF.
  if (c == 0xe0 && b(i + 1) < 0xa0) return 0;
  if (c == 0xed && b(i + 1) >= 0xa0) return 0;
  if (c == 0xf0 && b(i + 1) < 0x90) return 0;
  if (c == 0xf4 && b(i + 1) >= 0x90) return 0;
  return len;
}

}  // namespace

std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    std::size_t n = utf8_sequence(s, i);
    if (n == 0) {
      out += "\xef\xbf\xbd";
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string printable(std::string_view s) {
  // Fast path: plain printable ASCII, the common case for file names.
  bool plain = true;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) {
      plain = false;
      break;
    }
  }
  if (plain) return std::string(s);
  std::string in = valid_utf8(s);
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    auto u = static_cast<unsigned char>(in[i]);
    if (u < 0x20 || u == 0x7f) {
      out += '?';
    } else if (u == 0xc2 && i + 1 < in.size() && static_cast<unsigned char>(in[i + 1]) < 0xa0) {
      out += '?';  // C1 controls U+0080..U+009F (0x9b is a CSI escape on many terminals)
      ++i;
    } else {
      out += in[i];
    }
  }
  return out;
}

std::string json_text(const boost::json::value& v) {
  std::string raw = boost::json::serialize(v);
  std::string out;
  out.reserve(raw.size() + 1);
  // Outside strings JSON is plain ASCII, so these bytes can only occur inside strings, where
  // a \u escape means the same character.
  for (std::size_t i = 0; i < raw.size(); ++i) {
    auto u = static_cast<unsigned char>(raw[i]);
    if (u == 0x7f) {
      out += "\\u007f";
    } else if (u == 0xc2 && i + 1 < raw.size() && static_cast<unsigned char>(raw[i + 1]) < 0xa0) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned char>(raw[i + 1]));
      ++i;
    } else {
      out += raw[i];
    }
  }
  out += '\n';
  return out;
}

}  // namespace peerwire::app
