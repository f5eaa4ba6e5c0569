// What tracker URLs we are willing to contact (pure). Tracker URLs come from untrusted
// torrents and magnet links, so they are a request-forgery vector: a torrent could make the
// client talk to file://, gopher:// or an internal admin page. Only http, https and udp are
// used, and an HTTP redirect may not lead from a public address to a loopback, private or
// link-local one (checked on the resolved address of the redirect target, so a public name
// that resolves to 127.0.0.1 is caught too).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "peerwire/result.hpp"

namespace peerwire::tracker {

enum class url_kind { http, https, udp };

// The protocol of a tracker URL. Every other scheme (and anything that is not an absolute
// URL) is refused with a sentence naming the scheme and what is allowed.
result<url_kind> tracker_url_kind(std::string_view url);

struct udp_url {
  std::string host;  // name, IPv4 dotted quad or IPv6 text without brackets
  std::uint16_t port = 0;
};

// udp://host:port[/anything]: the port is required (BEP 15 has no default port); user info
// and odd host names are refused.
result<udp_url> split_udp_url(std::string_view url);

enum class address_class {
  public_net,
  loopback,     // 127.0.0.0/8, ::1
  private_net,  // 10/8, 172.16/12, 192.168/16, 100.64/10 (CGNAT), fc00::/7
  link_local,   // 169.254/16, fe80::/10
  unspecified,  // 0.0.0.0/8, ::
  multicast,    // 224/4, 255.255.255.255, ff00::/8
};

// "public", "loopback", "private", "link-local", "unspecified", "multicast".
const char* address_class_name(address_class c);

// 4 or 16 bytes in network order (any other size: unspecified). An IPv4-mapped IPv6 address
// (::ffff:a.b.c.d) is classified as the IPv4 address it carries.
address_class classify_address(std::span<const std::uint8_t> bytes);

// The same for an address literal ("10.1.2.3", "::1"); nullopt when it is not one.
std::optional<address_class> classify_address(std::string_view literal);

// nullopt when a redirect from an address of class `from` to one of class `to` is allowed;
// otherwise the reason, naming `target` ("redirect from a public address to 10.0.0.1
// (private) refused"). Only public -> non-public is refused: a tracker on the local network
// may send us anywhere a local tracker can reach anyway.
std::optional<std::string> redirect_refusal(address_class from, address_class to,
                                            std::string_view target);

}  // namespace peerwire::tracker
