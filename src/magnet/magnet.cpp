#include "peerwire/magnet.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <optional>
#include <unordered_set>

#include <boost/url/encode.hpp>
#include <boost/url/ipv4_address.hpp>
#include <boost/url/ipv6_address.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/pct_string_view.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <boost/url/url_view.hpp>

#include "peerwire/encoding.hpp"

namespace peerwire {
namespace {

namespace urls = boost::urls;

constexpr std::string_view btih_prefix = "urn:btih:";
constexpr std::string_view btmh_prefix = "urn:btmh:";
// Multihash header for SHA2-256 (code 0x12) with a 32-byte (0x20) digest, as hex.
constexpr std::string_view sha256_multihash = "1220";

char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), ascii_lower);
  return out;
}

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), s.begin(),
                    [](char a, char b) { return ascii_lower(a) == ascii_lower(b); });
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_hex(char c) {
  return is_digit(c) || (ascii_lower(c) >= 'a' && ascii_lower(c) <= 'f');
}
bool is_base32(char c) {
  return is_alpha(c) || (c >= '2' && c <= '7');
}
bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_digit);
}

// Plain digits only (std::stoul would also take signs and spaces); nullopt above `max`.
std::optional<std::uint64_t> decimal(std::string_view s, std::uint64_t max) {
  std::uint64_t v = 0;
  if (!all_digits(s)) return std::nullopt;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || v > max) return std::nullopt;
  return v;
}

// Error messages quote attacker-controlled text, so keep it short and printable.
std::string quoted(std::string_view s) {
  constexpr std::size_t max_shown = 64;
  std::string out = "'";
  for (char c : s.substr(0, max_shown)) {
    auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b >= 0x7f) {
      constexpr char digits[] = "0123456789abcdef";
      out += "\\x";
      out += digits[b >> 4];
      out += digits[b & 0x0f];
    } else {
      out += c;
    }
  }
  out += '\'';
  if (s.size() > max_shown) out += "...";
  return out;
}

std::string char_at(std::string_view s, std::string_view::const_iterator at) {
  auto i = static_cast<std::size_t>(at - s.begin());
  return quoted(s.substr(i, 1)) + " at position " + std::to_string(i);
}

// Clients in the wild write IPv6 peers as x.pe=[::1]:6881 without escaping the brackets,
// which RFC 3986 forbids in a query; escape them so Boost.URL accepts such links.
std::string escape_query_brackets(std::string_view uri) {
  std::string out;
  out.reserve(uri.size());
  std::size_t query = uri.find('?');
  for (std::size_t i = 0; i < uri.size(); ++i) {
    if (query != std::string_view::npos && i > query && (uri[i] == '[' || uri[i] == ']')) {
      out += uri[i] == '[' ? "%5B" : "%5D";
    } else {
      out += uri[i];
    }
  }
  return out;
}

// Boost.URL says only what kind of error it found ("leftover", ...), so locate the byte
// that most likely caused it to give the user a position.
std::optional<std::pair<std::size_t, std::string>> find_bad_uri_byte(std::string_view uri) {
  constexpr std::string_view allowed_punct = "-._~:/?#[]@!$&'()*+,;=";
  bool in_fragment = false;
  for (std::size_t i = 0; i < uri.size(); ++i) {
    char c = uri[i];
    if (c == '%') {
      if (i + 2 >= uri.size() || !is_hex(uri[i + 1]) || !is_hex(uri[i + 2]))
        return std::pair{i, std::string("'%' is not followed by two hex digits")};
      i += 2;
    } else if (c == '#' && in_fragment) {
      return std::pair{i, std::string("a second '#' must be percent-encoded")};
    } else if (!is_alpha(c) && !is_digit(c) && allowed_punct.find(c) == std::string_view::npos) {
      return std::pair{i, "character " + quoted(uri.substr(i, 1)) +
                              " is not allowed in a URI and must be percent-encoded"};
    }
    in_fragment = in_fragment || c == '#';
  }
  return std::nullopt;
}

failure wrong_scheme(std::string_view uri) {
  std::size_t colon = uri.find(':');
  std::string_view scheme = uri.substr(0, colon);
  bool scheme_like = colon != std::string_view::npos && colon > 0 && colon <= 32 &&
                     is_alpha(scheme[0]) && std::all_of(scheme.begin(), scheme.end(), [](char c) {
                       return is_alpha(c) || is_digit(c) || c == '+' || c == '-' || c == '.';
                     });
  if (scheme_like)
    return make_error("not a magnet URI: the scheme is " + quoted(scheme) + ", not 'magnet'");
  return make_error("not a magnet URI: it must start with 'magnet:'");
}

result<sha1_hash> parse_btih(std::string_view text) {
  const std::string what = "the btih info-hash " + quoted(text);
  if (text.size() == 40) {
    auto bad = std::find_if_not(text.begin(), text.end(), is_hex);
    if (bad != text.end())
      return make_error(what + " has " + char_at(text, bad) + ", which is not a hex digit");
  } else if (text.size() == 32) {
    auto bad = std::find_if_not(text.begin(), text.end(), is_base32);
    if (bad != text.end())
      return make_error(what + " has " + char_at(text, bad) +
                        ", which is not a base32 character (A-Z, 2-7)");
  } else {
    return make_error(what + " is " + std::to_string(text.size()) +
                      " characters long; it must be 40 hex digits or 32 base32 characters");
  }
  auto hash = sha1_hash::parse(text);
  if (!hash) return make_error(what + " could not be decoded");
  return *hash;
}

result<sha256_digest> parse_btmh(std::string_view text) {
  const std::string what = "the btmh multihash " + quoted(text);
  if (text.substr(0, sha256_multihash.size()) != sha256_multihash)
    return make_error(what + " does not start with 1220; only SHA2-256 multihashes are supported");
  std::string_view digest_hex = text.substr(sha256_multihash.size());
  if (digest_hex.size() != 64)
    return make_error(what + " has " + std::to_string(digest_hex.size()) +
                      " hex digits after the 1220 prefix; a SHA-256 hash has 64");
  // Search all of `text` (the prefix is known hex) so the position counts from its start.
  auto bad = std::find_if_not(text.begin(), text.end(), is_hex);
  if (bad != text.end())
    return make_error(what + " has " + char_at(text, bad) + ", which is not a hex digit");
  auto raw = from_hex(digest_hex);
  sha256_digest digest{};
  std::copy(raw->begin(), raw->end(), digest.begin());
  return digest;
}

// Returns why `peer` is not host:port / [v6]:port, or nullopt if it is.
std::optional<std::string> check_peer(std::string_view peer) {
  if (peer.empty()) return "it is empty";
  std::string_view port;
  if (peer.front() == '[') {
    std::size_t close = peer.find(']');
    if (close == std::string_view::npos) return "'[' has no matching ']'";
    if (!urls::parse_ipv6_address(peer.substr(1, close - 1)))
      return quoted(peer.substr(1, close - 1)) + " is not an IPv6 address";
    if (close + 1 >= peer.size() || peer[close + 1] != ':') return "there is no :port after ']'";
    port = peer.substr(close + 2);
  } else {
    std::size_t colon = peer.rfind(':');
    if (colon == std::string_view::npos) return "there is no port (expected host:port)";
    std::string_view host = peer.substr(0, colon);
    port = peer.substr(colon + 1);
    if (host.empty()) return "the host is empty";
    if (host.find(':') != std::string_view::npos)
      return "an IPv6 address must be in brackets, as [address]:port";
    bool numeric =
        std::all_of(host.begin(), host.end(), [](char c) { return is_digit(c) || c == '.'; });
    if (numeric) {
      if (!urls::parse_ipv4_address(host)) return quoted(host) + " is not an IPv4 address";
    } else {
      auto bad = std::find_if_not(host.begin(), host.end(), [](char c) {
        return is_alpha(c) || is_digit(c) || c == '-' || c == '.';
      });
      if (bad != host.end())
        return "the host name has " + char_at(host, bad) + ", which is not allowed";
      if (host.size() > 253) return "the host name is longer than 253 characters";
    }
  }
  if (!all_digits(port)) return "the port " + quoted(port) + " is not a decimal number";
  auto number = decimal(port, 65535);
  if (!number || *number == 0) return "the port " + quoted(port) + " is not between 1 and 65535";
  return std::nullopt;
}

// BEP 53: comma-separated file indices and inclusive ranges, e.g. "0,2,4-6".
std::optional<std::string> check_select_only(std::string_view text) {
  if (text.empty()) return "it is empty";
  // No torrent has 2^32 files, so larger numbers are typos or attacks.
  auto index = [](std::string_view s) { return decimal(s, UINT32_MAX); };
  while (true) {
    std::size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    if (item.empty()) return "it has an empty entry between commas";
    std::size_t dash = item.find('-');
    auto first = index(item.substr(0, dash));
    auto last = dash == std::string_view::npos ? first : index(item.substr(dash + 1));
    if (!first || !last)
      return "entry " + quoted(item) + " is not a file index or a range like 4-6";
    if (*first > *last) return "range " + quoted(item) + " runs backwards";
    if (comma == std::string_view::npos) return std::nullopt;
    text.remove_prefix(comma + 1);
  }
}

// "tr", or the numbered "tr.1", "tr.2", ... that some sites emit (likewise for xt).
bool is_key(std::string_view key, std::string_view base) {
  if (key == base) return true;
  return key.size() > base.size() + 1 && key.substr(0, base.size()) == base &&
         key[base.size()] == '.' && all_digits(key.substr(base.size() + 1));
}

void add_unique(std::vector<std::string>& list, std::unordered_set<std::string>& seen,
                std::string value) {
  // Empty tr= / ws= carry no information; dropping them keeps format/parse symmetric.
  if (value.empty() || !seen.insert(value).second) return;
  list.push_back(std::move(value));
}

}  // namespace

bool looks_like_magnet(std::string_view s) {
  return starts_with_nocase(s, "magnet:");
}

result<magnet_link> parse_magnet(std::string_view uri) {
  if (uri.size() > max_magnet_uri_length)
    return make_error("magnet URI is " + std::to_string(uri.size()) + " bytes long; the limit is " +
                      std::to_string(max_magnet_uri_length));
  if (!looks_like_magnet(uri)) return wrong_scheme(uri);

  std::string escaped = escape_query_brackets(uri);
  auto parsed = urls::parse_uri(escaped);
  if (!parsed) {
    std::string msg = "malformed magnet URI (Boost.URL: " + parsed.error().message() + ")";
    if (auto bad = find_bad_uri_byte(uri)) return make_error(msg + ": " + bad->second, bad->first);
    return make_error(msg);
  }

  magnet_link link;
  std::unordered_set<std::string> seen_trackers, seen_web_seeds;
  bool seen_xt = false, seen_dn = false;
  std::string foreign_xt;
  // Boost.URL 1.81's params iterator overruns on an empty query followed by a fragment
  // ("magnet:?#ab", boostorg/url#864, found by our fuzzer), so split the query it validated
  // ourselves. '&' and '=' cannot occur inside a %XX escape, so each piece is valid too.
  std::string_view query = parsed->encoded_query();
  while (!query.empty()) {
    std::string_view piece = query.substr(0, query.find('&'));
    query.remove_prefix(std::min(query.size(), piece.size() + 1));
    if (piece.empty()) continue;
    std::size_t eq = piece.find('=');
    auto raw_key = urls::make_pct_string_view(piece.substr(0, eq));
    auto raw_value = urls::make_pct_string_view(
        eq == std::string_view::npos ? std::string_view() : piece.substr(eq + 1));
    if (!raw_key || !raw_value) return make_error("malformed magnet URI: bad percent-encoding");
    std::string key = lowercase(raw_key->decode());
    // Only dn gets form-style '+'-as-space: in URLs a '+' is a literal plus sign.
    std::string value = raw_value->decode(urls::encoding_opts(key == "dn"));

    if (is_key(key, "xt")) {
      seen_xt = true;
      if (starts_with_nocase(value, btih_prefix)) {
        auto h = parse_btih(std::string_view(value).substr(btih_prefix.size()));
        if (!h) return h.error();
        if (link.hash.v1 && *link.hash.v1 != *h)
          return make_error("magnet link has two different btih info-hashes: " +
                            link.hash.v1->hex() + " and " + h->hex());
        link.hash.v1 = *h;
      } else if (starts_with_nocase(value, btmh_prefix)) {
        auto h = parse_btmh(std::string_view(value).substr(btmh_prefix.size()));
        if (!h) return h.error();
        if (link.hash.v2 && *link.hash.v2 != *h)
          return make_error("magnet link has two different btmh info-hashes: " +
                            to_hex(*link.hash.v2) + " and " + to_hex(*h));
        link.hash.v2 = *h;
      } else if (foreign_xt.empty()) {
        // Multi-network links also carry urn:ed2k, urn:sha1, ...; fine next to a btih.
        foreign_xt = quoted(value);
      }
    } else if (key == "dn") {
      if (!seen_dn) link.display_name = std::move(value);
      seen_dn = true;
    } else if (is_key(key, "tr")) {
      add_unique(link.trackers, seen_trackers, std::move(value));
    } else if (key == "ws") {
      add_unique(link.web_seeds, seen_web_seeds, std::move(value));
    } else if (key == "x.pe") {
      if (auto why = check_peer(value))
        return make_error("malformed x.pe peer " + quoted(value) + ": " + *why);
      link.peers.push_back(std::move(value));
    } else if (key == "so") {
      if (auto why = check_select_only(value))
        return make_error("bad so (select-only) value " + quoted(value) + ": " + *why +
                          "; expected file indices and ranges such as 0,2,4-6");
      link.select_only.push_back(std::move(value));
    }
  }

  if (!seen_xt)
    return make_error("magnet link has no xt (exact topic) parameter, so it names no torrent");
  if (!link.hash.v1 && !link.hash.v2)
    return make_error("magnet link's xt is not urn:btih or urn:btmh (got " + foreign_xt + ")");
  return link;
}

std::string format_magnet(const magnet_link& link) {
  // Query characters left readable (so tracker URLs stay legible). '&', '=', '#', '+' and
  // '%' must be escaped for the value to survive a re-parse; ';' because some parsers
  // still treat it as a separator; '[' and ']' because RFC 3986 forbids them here.
  static constexpr urls::grammar::lut_chars value_chars = urls::unreserved_chars + ":/@!$'()*,?";

  std::string out = "magnet:?";
  // A flag, not a look at out.back(): a value may itself end in '?'.
  bool first = true;
  auto add = [&](std::string_view key, std::string_view value, bool space_as_plus = false) {
    if (!first) out += '&';
    first = false;
    out += key;
    out += '=';
    out += urls::encode(value, value_chars, urls::encoding_opts(space_as_plus));
  };
  if (link.hash.v1) add("xt", std::string(btih_prefix) + link.hash.v1->hex());
  if (link.hash.v2)
    add("xt", std::string(btmh_prefix) + std::string(sha256_multihash) + to_hex(*link.hash.v2));
  if (!link.display_name.empty()) add("dn", link.display_name, true);
  for (const auto& t : link.trackers) add("tr", t);
  for (const auto& w : link.web_seeds) add("ws", w);
  for (const auto& p : link.peers) add("x.pe", p);
  for (const auto& s : link.select_only) add("so", s);
  return out;
}

}  // namespace peerwire
