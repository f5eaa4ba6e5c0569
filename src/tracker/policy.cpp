// Tracker URL policy: allowed schemes, UDP URL splitting, address classes for the redirect
// rule (pure).
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <cstring>

#include "peerwire/ip_text.hpp"
#include "peerwire/tracker_policy.hpp"

namespace peerwire::tracker {
namespace {

namespace urls = boost::urls;

std::string shown(std::string_view s) {
  constexpr std::size_t max_shown = 200;
  std::string out;
  for (std::size_t i = 0; i < s.size() && i < max_shown; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  if (s.size() > max_shown) out += "...";
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool plain_host_name(std::string_view h) {
  if (h.empty() || h.size() > 253) return false;
  for (unsigned char c : h) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_';
    if (!ok) return false;
  }
  return true;
}

address_class classify_v4(const std::uint8_t* a) {
  if (a[0] == 127) return address_class::loopback;
  if (a[0] == 0) return address_class::unspecified;
  if (a[0] == 10 || (a[0] == 172 && (a[1] & 0xf0) == 16) || (a[0] == 192 && a[1] == 168) ||
      (a[0] == 100 && (a[1] & 0xc0) == 64)) {
    return address_class::private_net;
  }
  if (a[0] == 169 && a[1] == 254) return address_class::link_local;
  if ((a[0] & 0xf0) == 224 || (a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255)) {
    return address_class::multicast;
  }
  return address_class::public_net;
}

}  // namespace

result<url_kind> tracker_url_kind(std::string_view url) {
  auto parsed = urls::parse_uri(url);
  if (!parsed) return make_error("tracker URL \"" + shown(url) + "\" is not an absolute URL");
  std::string scheme = lower(parsed->scheme());
  if (scheme == "http") return url_kind::http;
  if (scheme == "https") return url_kind::https;
  if (scheme == "udp") return url_kind::udp;
  return make_error("tracker URL scheme \"" + shown(scheme) +
                    "\" refused: only http, https and udp trackers are contacted");
}

result<udp_url> split_udp_url(std::string_view url) {
  auto parsed = urls::parse_uri(url);
  if (!parsed) return make_error("tracker URL \"" + shown(url) + "\" is not an absolute URL");
  const urls::url_view& u = *parsed;
  if (lower(u.scheme()) != "udp") {
    return make_error("not a udp:// URL: \"" + shown(url) + "\"");
  }
  if (u.has_userinfo()) return make_error("user info in tracker URLs is not supported");
  udp_url out;
  switch (u.host_type()) {
    case urls::host_type::name:
      out.host = u.host_name();
      if (!plain_host_name(out.host)) return make_error("bad host name in \"" + shown(url) + "\"");
      break;
    case urls::host_type::ipv4:
      out.host = u.host_ipv4_address().to_string();
      break;
    case urls::host_type::ipv6:
      out.host = u.host_ipv6_address().to_string();
      break;
    default:
      return make_error("URL has no usable host: \"" + shown(url) + "\"");
  }
  if (!u.has_port() || u.port().empty()) {
    return make_error("udp tracker URL \"" + shown(url) + "\" has no port");
  }
  out.port = u.port_number();
  if (out.port == 0) return make_error("bad port \"" + shown(u.port()) + "\"");
  return out;
}

const char* address_class_name(address_class c) {
  switch (c) {
    case address_class::public_net:
      return "public";
    case address_class::loopback:
      return "loopback";
    case address_class::private_net:
      return "private";
    case address_class::link_local:
      return "link-local";
    case address_class::unspecified:
      return "unspecified";
    case address_class::multicast:
      return "multicast";
  }
  return "?";
}

address_class classify_address(std::span<const std::uint8_t> a) {
  if (a.size() == 4) return classify_v4(a.data());
  if (a.size() != 16) return address_class::unspecified;
  static constexpr std::uint8_t mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(a.data(), mapped_prefix, 12) == 0) return classify_v4(a.data() + 12);
  bool zero_head = std::all_of(a.begin(), a.begin() + 15, [](std::uint8_t b) { return b == 0; });
  if (zero_head && a[15] == 1) return address_class::loopback;
  if (zero_head && a[15] == 0) return address_class::unspecified;
  if ((a[0] & 0xfe) == 0xfc) return address_class::private_net;  // fc00::/7 unique local
  if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) {
    return address_class::private_net;  // fec0::/10, the deprecated site-local range
  }
  if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) return address_class::link_local;
  if (a[0] == 0xff) return address_class::multicast;
  return address_class::public_net;
}

std::optional<address_class> classify_address(std::string_view literal) {
  if (auto v4 = parse_ipv4(literal)) return classify_address(std::span(v4->data(), 4));
  if (auto v6 = parse_ipv6(literal)) return classify_address(std::span(v6->data(), 16));
  return {};
}

std::optional<std::string> redirect_refusal(address_class from, address_class to,
                                            std::string_view target) {
  if (from != address_class::public_net || to == address_class::public_net) return std::nullopt;
  return "redirect from a public address to " + shown(target) + " (" + address_class_name(to) +
         ") refused: a tracker on the Internet may not send us to local addresses";
}

}  // namespace peerwire::tracker
