// Peer ids (BEP 20): making ours, and naming the client behind someone else's.
//
// Pure: the random part of our id is taken as a parameter; random_peer_id() is the one
// convenience that draws it from OpenSSL's CSPRNG.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace peerwire::wire {

using peer_id = std::array<std::uint8_t, 20>;

// Azureus-style prefix of our ids: '-', client code "PW", four version characters, '-'.
inline constexpr std::string_view our_peer_id_prefix = "-PW0001-";

// Our prefix followed by the 12 caller-supplied random bytes.
peer_id make_peer_id(std::span<const std::uint8_t, 12> random_bytes);
// Our prefix followed by 12 bytes from OpenSSL's RAND_bytes (throws if it fails).
peer_id random_peer_id();
// Same as random_peer_id(): the convenience for callers that do not inject randomness.
inline peer_id make_peer_id() {
  return random_peer_id();
}

// Which client a peer id names, as far as its encoding tells. The version is empty when the
// encoding carries none we can read; the name is empty when the id is not recognised.
struct client_info {
  std::string name;     // "qBittorrent", "Transmission", "" if unknown
  std::string version;  // "4.2.5", "3.00", "4.0.0-dev", ""
  bool operator==(const client_info&) const = default;
};

client_info identify_client(const peer_id& id);

// One line for logs and `peerwire probe`: "qBittorrent 4.2.5", or for unrecognised ids the
// printable text (other bytes as '.') and the full hex: `unknown "XYZ........." (58595a...)`.
std::string describe_peer_id(const peer_id& id);

}  // namespace peerwire::wire
