// Magnet links (BEP 9 URI form, with BEP 53 `so` and v2 `urn:btmh` exact topics).
// Pure text processing: nothing here touches the network.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "peerwire/info_hash.hpp"
#include "peerwire/result.hpp"

namespace peerwire {

// Longer inputs are rejected before any parsing; real links are a few hundred bytes, and
// the cap keeps hostile input from costing unbounded time or memory.
inline constexpr std::size_t max_magnet_uri_length = 64 * 1024;

struct magnet_link {
  // v1 from xt=urn:btih:(40 hex | 32 base32), v2 from xt=urn:btmh:1220<64 hex>. A hybrid
  // link carries both; at least one is set in a parsed link.
  info_hash hash;
  std::string display_name;              // dn ('+' decodes to a space here only)
  std::vector<std::string> trackers;     // tr, tr.1, tr.2, ... in order, duplicates removed
  std::vector<std::string> web_seeds;    // ws, in order, duplicates removed
  std::vector<std::string> peers;        // x.pe: host:port or [v6]:port, validated
  std::vector<std::string> select_only;  // so (BEP 53), e.g. "0,2,4-6", one entry per so=

  bool operator==(const magnet_link&) const = default;
};

// Values are percent-decoded. Parameter names are matched case-insensitively; unknown
// ones (xl, kt, as, ...) are ignored, and so are xt values of other URN namespaces as long
// as one btih or btmh is present. As a concession to what real clients emit, raw '[' and
// ']' (IPv6 x.pe peers) are accepted in the query.
result<magnet_link> parse_magnet(std::string_view uri);

// Canonical form: xt (btih as lowercase hex, then btmh), dn, tr..., ws..., x.pe..., so...
// Values are percent-encoded so that parse_magnet(format_magnet(l)) == l for any l that
// parse_magnet produced (and whose formatted form stays under max_magnet_uri_length).
std::string format_magnet(const magnet_link& link);

// True if `s` starts with "magnet:" in any letter case.
bool looks_like_magnet(std::string_view s);

}  // namespace peerwire
