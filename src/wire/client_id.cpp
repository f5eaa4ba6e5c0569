// Naming the client behind a peer id. The encodings are conventions, not a standard
// (BEP 20 lists the common ones); each decoder below is one convention.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <optional>
#include <string_view>

#include "peerwire/wire_peer_id.hpp"

namespace peerwire::wire {

namespace {

enum class version_style {
  dotted3,       // -LT2080- → 2.0.8 (0-9, then A=10...); a non-'0' fourth char is a build tag
  dotted4,       // -AZ5770- → 5.7.7.0
  transmission,  // -TR3000- → 3.00, -TR400Z- → 4.0.0-dev
  webtorrent,    // -WW0109- → 1.9 (two two-digit numbers)
};

struct azureus_client {
  std::string_view code;
  const char* name;
  version_style style;
};

constexpr azureus_client azureus_clients[] = {
    {"AZ", "Vuze (Azureus)", version_style::dotted4},
    {"BI", "BiglyBT", version_style::dotted4},
    {"BT", "BitTorrent", version_style::dotted3},
    {"DE", "Deluge", version_style::dotted3},
    {"FW", "FrostWire", version_style::dotted3},
    {"KT", "KTorrent", version_style::dotted3},
    {"LT", "libtorrent (rasterbar)", version_style::dotted3},
    {"lt", "rTorrent (libtorrent rakshasa)", version_style::dotted3},
    {"PW", "peerwire", version_style::dotted3},
    {"qB", "qBittorrent", version_style::dotted3},
    {"SD", "Thunder (XunLei)", version_style::dotted3},
    {"TR", "Transmission", version_style::transmission},
    {"UM", "µTorrent Mac", version_style::dotted3},
    {"UT", "µTorrent", version_style::dotted3},
    {"UW", "µTorrent Web", version_style::dotted3},
    {"WD", "WebTorrent Desktop", version_style::webtorrent},
    {"WW", "WebTorrent", version_style::webtorrent},
    {"XL", "Xunlei", version_style::dotted3},
};

// Shadow-style first letters (client, then up to five version characters).
struct shadow_client {
  char letter;
  const char* name;
};
constexpr shadow_client shadow_clients[] = {
    {'A', "ABC"},
    {'O', "Osprey Permaseed"},
    {'Q', "BTQueue"},
    {'R', "Tribler"},
    {'S', "Shadow"},
    {'T', "BitTornado"},
    {'U', "UPnP NAT Bit Torrent"},
};

char at(const peer_id& id, std::size_t i) {
  return static_cast<char>(id[i]);
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alnum(char c) {
  return is_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

// Version digit: 0-9, then A (or a) = 10 ... Z = 35.
int digit_value(char c) {
  if (is_digit(c)) return c - '0';
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  if (c >= 'a' && c <= 'z') return c - 'a' + 10;
  return 0;
}

// Shadow's 64-character alphabet: 0-9, A-Z, a-z, '.', '-'.
std::optional<int> shadow_value(char c) {
  if (is_digit(c)) return c - '0';
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  if (c >= 'a' && c <= 'z') return c - 'a' + 36;
  if (c == '.') return 62;
  return std::nullopt;
}

std::string num(int v) {
  return std::to_string(v);
}

std::string dotted3(const peer_id& id) {
  std::string v = num(digit_value(at(id, 3))) + "." + num(digit_value(at(id, 4))) + "." +
                  num(digit_value(at(id, 5)));
  const char build = at(id, 6);
  if (is_digit(build)) {
    if (build != '0') v += "." + std::string(1, build);
  } else {
    v += "-" + std::string(1, build);  // a letter tag (e.g. a release channel)
  }
  return v;
}

std::string dotted4(const peer_id& id) {
  return num(digit_value(at(id, 3))) + "." + num(digit_value(at(id, 4))) + "." +
         num(digit_value(at(id, 5))) + "." + num(digit_value(at(id, 6)));
}

// Transmission has used three schemes: -TR0006- (0.6), -TR0072- (0.72), -TR294Z- (2.94, with
// Z/X marking a development build), and since 4.0 semantic versions -TR4050- (4.0.5) with a
// tag in the last place (Z/X development, B beta).
std::string transmission(const peer_id& id) {
  const char a = at(id, 3), b = at(id, 4), c = at(id, 5), d = at(id, 6);
  const bool dev = d == 'Z' || d == 'X';
  if (a == '0' && b == '0' && c == '0') return "0." + std::string(1, d);
  if (a == '0' && b == '0') return "0." + std::string{c, d};
  if (is_digit(a) && a <= '3') return std::string{a, '.', b, c} + (dev ? "+" : "");
  std::string v = num(digit_value(a)) + "." + num(digit_value(b)) + "." + num(digit_value(c));
  if (dev)
    v += "-dev";
  else if (d == 'B' || d == 'b')
    v += "-beta";
  else if (d != '0')
    v += "-" + std::string(1, d);
  return v;
}

std::string webtorrent(const peer_id& id) {
  return num(digit_value(at(id, 3)) * 10 + digit_value(at(id, 4))) + "." +
         num(digit_value(at(id, 5)) * 10 + digit_value(at(id, 6)));
}

std::optional<client_info> azureus_style(const peer_id& id) {
  if (at(id, 0) != '-' || at(id, 7) != '-') return std::nullopt;
  for (std::size_t i = 1; i < 7; ++i)
    if (!is_alnum(at(id, i))) return std::nullopt;
  const std::string_view code(reinterpret_cast<const char*>(id.data()) + 1, 2);
  for (const auto& c : azureus_clients) {
    if (c.code != code) continue;
    switch (c.style) {
      case version_style::dotted3:
        return client_info{c.name, dotted3(id)};
      case version_style::dotted4:
        return client_info{c.name, dotted4(id)};
      case version_style::transmission:
        return client_info{c.name, transmission(id)};
      case version_style::webtorrent:
        return client_info{c.name, webtorrent(id)};
    }
  }
  return client_info{"unknown client '" + std::string(code) + "'", dotted3(id)};
}

// Reads "<digits>-" groups from `pos`, at most `max_groups`; returns them joined by dots.
std::optional<std::string> dash_groups(const peer_id& id, std::size_t pos, int groups) {
  std::string v;
  for (int g = 0; g < groups; ++g) {
    const std::size_t start = pos;
    while (pos < id.size() && is_digit(at(id, pos))) ++pos;
    if (pos == start || pos >= id.size() || at(id, pos) != '-') return std::nullopt;
    if (!v.empty()) v += '.';
    v.append(reinterpret_cast<const char*>(id.data()) + start, pos - start);
    ++pos;
  }
  return v;
}

// aria2: "A2-1-36-0-" is 1.36.0.
std::optional<client_info> aria2_style(const peer_id& id) {
  if (at(id, 0) != 'A' || at(id, 1) != '2' || at(id, 2) != '-') return std::nullopt;
  auto v = dash_groups(id, 3, 3);
  if (!v) return std::nullopt;
  return client_info{"aria2", *v};
}

// Mainline (the original BitTorrent client) and Queen Bee: "M4-3-6--" is 4.3.6.
std::optional<client_info> mainline_style(const peer_id& id) {
  const char c = at(id, 0);
  if (c != 'M' && c != 'Q') return std::nullopt;
  auto v = dash_groups(id, 1, 3);
  if (!v) return std::nullopt;
  return client_info{c == 'M' ? "BitTorrent (mainline)" : "Queen Bee", *v};
}

// Shadow style: a letter, up to five version characters padded with '-', then "---":
// "S58B-----" is Shadow 5.8.11.
std::optional<client_info> shadow_style(const peer_id& id) {
  const auto* client = std::find_if(std::begin(shadow_clients), std::end(shadow_clients),
                                    [&](const auto& s) { return s.letter == at(id, 0); });
  if (client == std::end(shadow_clients)) return std::nullopt;
  if (at(id, 6) != '-' || at(id, 7) != '-' || at(id, 8) != '-') return std::nullopt;
  std::string v;
  std::size_t i = 1;
  for (; i < 6 && at(id, i) != '-'; ++i) {
    auto d = shadow_value(at(id, i));
    if (!d) return std::nullopt;
    if (!v.empty()) v += '.';
    v += num(*d);
  }
  if (v.empty()) return std::nullopt;
  for (; i < 6; ++i)
    if (at(id, i) != '-') return std::nullopt;  // padding only at the end
  return client_info{client->name, v};
}

// BitComet and BitLord: "exbc", then major and minor as raw bytes (0.60 is 0x00 0x3c).
std::optional<client_info> bitcomet_style(const peer_id& id) {
  if (std::string_view(reinterpret_cast<const char*>(id.data()), 4) != "exbc") return std::nullopt;
  const bool bitlord = std::string_view(reinterpret_cast<const char*>(id.data()) + 6, 4) == "LORD";
  char v[16];
  std::snprintf(v, sizeof v, "%u.%02u", unsigned{id[4]}, unsigned{id[5]});
  return client_info{bitlord ? "BitLord" : "BitComet", v};
}

}  // namespace

client_info identify_client(const peer_id& id) {
  for (auto decode : {azureus_style, aria2_style, mainline_style, shadow_style, bitcomet_style})
    if (auto c = decode(id)) return *c;
  return {};
}

std::string describe_peer_id(const peer_id& id) {
  const client_info c = identify_client(id);
  if (!c.name.empty()) return c.version.empty() ? c.name : c.name + " " + c.version;
  std::string text = "unknown \"";
  std::string hex;
  for (std::uint8_t b : id) {
    text += std::isprint(b) != 0 ? static_cast<char>(b) : '.';
    char two[3];
    std::snprintf(two, sizeof two, "%02x", b);
    hex += two;
  }
  return text + "\" (" + hex + ")";
}

}  // namespace peerwire::wire
