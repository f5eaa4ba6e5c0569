// HTTP announce and scrape query strings. Everything here is untrusted: each parameter is
// checked for presence, length and range, and each error names the parameter.
#include <charconv>
#include <cstring>
#include <limits>

#include "peerwire/tracker_server_proto.hpp"

namespace peerwire::tracker_server {
namespace {

constexpr std::size_t max_params = 64;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Calls f(name, raw_value) for each '&'-separated parameter (empty ones skipped). Returns an
// error when there are too many.
template <class F>
std::optional<failure> for_each_param(std::string_view query, std::size_t limit, F&& f) {
  std::size_t count = 0;
  while (!query.empty()) {
    std::size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (part.empty()) continue;
    if (++count > limit) return make_error("too many query parameters");
    std::size_t eq = part.find('=');
    std::string_view name = part.substr(0, eq);
    std::string_view value =
        eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1);
    if (auto err = f(name, value)) return err;
  }
  return std::nullopt;
}

result<std::array<std::uint8_t, 20>> twenty_bytes(std::string_view name, std::string_view raw) {
  auto decoded = percent_decode(raw);
  if (!decoded) return make_error(std::string(name) + ": " + decoded.error().message);
  if (decoded->size() != 20) {
    return make_error(std::string(name) + " must be 20 bytes, got " +
                      std::to_string(decoded->size()));
  }
  std::array<std::uint8_t, 20> out;
  std::memcpy(out.data(), decoded->data(), 20);
  return out;
}

// A decimal number in [0, max]; no sign, no spaces.
std::optional<std::int64_t> parse_count(std::string_view s, std::int64_t max) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || v < 0 || v > max) return std::nullopt;
  return v;
}

}  // namespace

result<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return make_error("truncated %-escape");
    int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0) return make_error("bad %-escape");
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

result<http_announce> parse_announce_query(std::string_view query) {
  http_announce a;
  enum : unsigned {
    f_hash = 1,
    f_id = 2,
    f_port = 4,
    f_up = 8,
    f_down = 16,
    f_left = 32,
    f_event = 64,
    f_numwant = 128,
    f_compact = 256,
    f_nopid = 512
  };
  unsigned seen = 0;
  auto once = [&seen](unsigned bit, std::string_view name) -> std::optional<failure> {
    if (seen & bit) return make_error("repeated parameter " + std::string(name));
    seen |= bit;
    return std::nullopt;
  };
  constexpr auto max_bytes = std::numeric_limits<std::int64_t>::max();
  auto err = for_each_param(
      query, max_params, [&](std::string_view name, std::string_view v) -> std::optional<failure> {
        if (name == "info_hash" || name == "peer_id") {
          bool hash = name == "info_hash";
          if (auto e = once(hash ? f_hash : f_id, name)) return e;
          auto bytes = twenty_bytes(name, v);
          if (!bytes) return bytes.error();
          if (hash) {
            a.info_hash.bytes = *bytes;
          } else {
            a.id = *bytes;
          }
        } else if (name == "port") {
          if (auto e = once(f_port, name)) return e;
          auto p = parse_count(v, 65535);
          if (!p || *p == 0) return make_error("port must be a number from 1 to 65535");
          a.port = static_cast<std::uint16_t>(*p);
        } else if (name == "uploaded" || name == "downloaded" || name == "left") {
          unsigned bit = name == "uploaded" ? f_up : name == "downloaded" ? f_down : f_left;
          if (auto e = once(bit, name)) return e;
          auto n = parse_count(v, max_bytes);
          if (!n) return make_error(std::string(name) + " must be a non-negative number");
          (bit == f_up ? a.uploaded : bit == f_down ? a.downloaded : a.left) = *n;
        } else if (name == "event") {
          if (auto e = once(f_event, name)) return e;
          if (v == "started") {
            a.ev = event::started;
          } else if (v == "completed") {
            a.ev = event::completed;
          } else if (v == "stopped") {
            a.ev = event::stopped;
          } else if (v.empty() || v == "empty" || v == "paused") {
            a.ev = event::none;
          } else {
            return make_error("unknown event");
          }
        } else if (name == "numwant") {
          if (auto e = once(f_numwant, name)) return e;
          // Negative means "tracker default" for some clients; huge values are clamped later.
          std::int64_t n = 0;
          auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
          if (v.empty() || ec != std::errc{} || p != v.data() + v.size()) {
            return make_error("numwant must be a number");
          }
          a.numwant = n < 0 ? -1 : static_cast<int>(std::min<std::int64_t>(n, 1 << 20));
        } else if (name == "compact") {
          if (auto e = once(f_compact, name)) return e;
          a.compact = v != "0";
        } else if (name == "no_peer_id") {
          if (auto e = once(f_nopid, name)) return e;
          a.no_peer_id = v != "0";
        }
        return std::nullopt;
      });
  if (err) return *err;
  if (!(seen & f_hash)) return make_error("missing info_hash");
  if (!(seen & f_id)) return make_error("missing peer_id");
  if (!(seen & f_port)) return make_error("missing port");
  return a;
}

result<std::vector<sha1_hash>> parse_scrape_query(std::string_view query, std::size_t max_hashes) {
  std::vector<sha1_hash> out;
  auto err = for_each_param(
      query, max_hashes + 16,
      [&](std::string_view name, std::string_view v) -> std::optional<failure> {
        if (name != "info_hash") return std::nullopt;
        if (out.size() >= max_hashes) {
          return make_error("more than " + std::to_string(max_hashes) + " info_hash parameters");
        }
        auto bytes = twenty_bytes(name, v);
        if (!bytes) return bytes.error();
        out.push_back(sha1_hash{*bytes});
        return std::nullopt;
      });
  if (err) return *err;
  return out;
}

}  // namespace peerwire::tracker_server
