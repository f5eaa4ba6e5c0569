// Endpoint helpers and the allow-list file format.
#include <algorithm>

#include "peerwire/ip_text.hpp"
#include "peerwire/tracker_server.hpp"

namespace peerwire::tracker_server {

endpoint endpoint::v4_from(std::array<std::uint8_t, 4> a, std::uint16_t port) {
  endpoint e;
  std::copy(a.begin(), a.end(), e.ip.begin());
  e.port = port;
  return e;
}

endpoint endpoint::v6_from(const std::array<std::uint8_t, 16>& a, std::uint16_t port) {
  endpoint e;
  e.ip = a;
  e.port = port;
  e.v6 = true;
  return e;
}

std::string ip_text(const endpoint& e) {
  if (e.v6) return ipv6_text(e.ip);
  return ipv4_text(std::span<const std::uint8_t, 4>(e.ip.data(), 4));
}

std::string to_string(const endpoint& e) {
  std::string ip = ip_text(e);
  return (e.v6 ? "[" + ip + "]" : ip) + ":" + std::to_string(e.port);
}

result<std::vector<sha1_hash>> parse_allow_list(std::string_view text) {
  std::vector<sha1_hash> out;
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r'))
      line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    auto h = sha1_hash::parse(line);
    if (!h) {
      return make_error("line " + std::to_string(line_no) +
                        ": not an info-hash (40 hex digits or 32 base32 characters)");
    }
    out.push_back(*h);
  }
  return out;
}

}  // namespace peerwire::tracker_server
