// Announce URL building and the URL helpers of the HTTP client (pure).
//
// Boost.URL parses and resolves; we never iterate a URL's params(), which crashes on some
// untrusted URLs in Boost 1.81 (boostorg/url#864, an empty query followed by a fragment).
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <boost/url/url_view.hpp>
#include <cstdio>

#include "peerwire/tracker.hpp"

namespace peerwire::tracker {
namespace {

namespace urls = boost::urls;

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// Host names we are willing to resolve: LDH labels (plus '_', seen in the wild). Anything
// else (spaces, control bytes, percent-decoded oddities) is refused before it reaches DNS.
bool is_plain_host_name(std::string_view h) {
  if (h.empty() || h.size() > 253) return false;
  for (unsigned char c : h) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::string quoted(std::string_view s) {
  constexpr std::size_t max_shown = 200;  // error messages stay one readable line
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size() && i < max_shown; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  if (s.size() > max_shown) out += "...";
  return out + "\"";
}

}  // namespace

std::string_view event_name(event e) {
  switch (e) {
    case event::started:
      return "started";
    case event::completed:
      return "completed";
    case event::stopped:
      return "stopped";
    case event::none:
      break;
  }
  return "";
}

std::string percent_encode(std::string_view bytes) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(bytes.size() * 3);
  for (char ch : bytes) {
    auto c = static_cast<unsigned char>(ch);
    if (is_unreserved(c)) {
      out += ch;
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0xf];
    }
  }
  return out;
}

result<http_url> split_http_url(std::string_view url) {
  auto parsed = urls::parse_uri(url);
  if (!parsed) return make_error("not an absolute URL: " + quoted(url));
  const urls::url_view& u = *parsed;

  http_url out;
  if (u.scheme_id() == urls::scheme::https) {
    out.tls = true;
  } else if (u.scheme_id() != urls::scheme::http) {
    return make_error("unsupported tracker URL scheme \"" + std::string(u.scheme()) +
                      "\" (only http and https)");
  }
  if (u.has_userinfo()) return make_error("user info in tracker URLs is not supported");

  switch (u.host_type()) {
    case urls::host_type::name:
      out.host = u.host_name();
      if (!is_plain_host_name(out.host)) return make_error("bad host name in " + quoted(url));
      out.host_header = out.host;
      break;
    case urls::host_type::ipv4:
      out.host = u.host_ipv4_address().to_string();
      out.host_header = out.host;
      break;
    case urls::host_type::ipv6:
      out.host = u.host_ipv6_address().to_string();
      out.host_header = "[" + out.host + "]";
      break;
    default:
      return make_error("URL has no usable host: " + quoted(url));
  }

  std::uint16_t default_port = out.tls ? 443 : 80;
  out.port = default_port;
  if (u.has_port() && !u.port().empty()) {
    out.port = u.port_number();  // 0 when "0" or not representable in 16 bits
    if (out.port == 0) return make_error("bad port \"" + std::string(u.port()) + "\"");
  }
  if (out.port != default_port) out.host_header += ":" + std::to_string(out.port);

  out.target = u.encoded_target();
  if (out.target.empty() || out.target.front() != '/') out.target.insert(0, "/");
  return out;
}

result<std::string> resolve_redirect(std::string_view base, std::string_view location) {
  auto b = urls::parse_uri(base);
  if (!b) return make_error("bad base URL " + quoted(base));
  auto ref = urls::parse_uri_reference(location);
  if (!ref) return make_error("bad redirect location " + quoted(location));
  urls::url dest;
  if (!urls::resolve(*b, *ref, dest)) {
    return make_error("cannot resolve redirect location " + quoted(location));
  }
  dest.remove_fragment();
  std::string out(dest.buffer());
  auto check = split_http_url(out);
  if (!check) return make_error("redirect to " + check.error().message);
  return out;
}

result<std::string> announce_url(std::string_view announce, const announce_request& req) {
  auto parts = split_http_url(announce);
  if (!parts) return parts.error();
  if (req.uploaded < 0 || req.downloaded < 0 || req.left < 0) {
    return make_error("negative byte count in announce (uploaded, downloaded or left)");
  }

  // A valid URI has at most one '#', and it starts the fragment, which is never sent.
  std::string url(announce.substr(0, announce.find('#')));
  auto query_at = url.find('?');
  if (query_at == std::string::npos) {
    url += '?';
  } else if (query_at + 1 != url.size() && url.back() != '&') {
    url += '&';
  }

  auto view = [](const auto& bytes) {
    return std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  };
  char key_hex[9];
  std::snprintf(key_hex, sizeof key_hex, "%08X", static_cast<unsigned>(req.key));

  url += "info_hash=" + percent_encode(view(req.info_hash.bytes));
  url += "&peer_id=" + percent_encode(view(req.peer_id));
  url += "&port=" + std::to_string(req.port);
  url += "&uploaded=" + std::to_string(req.uploaded);
  url += "&downloaded=" + std::to_string(req.downloaded);
  url += "&left=" + std::to_string(req.left);
  url += "&compact=1";
  if (req.numwant >= 0) url += "&numwant=" + std::to_string(req.numwant);
  url += "&key=";
  url += key_hex;
  if (req.ev != event::none) url += "&event=" + std::string(event_name(req.ev));
  if (req.tracker_id) url += "&trackerid=" + percent_encode(*req.tracker_id);
  return url;
}

}  // namespace peerwire::tracker
