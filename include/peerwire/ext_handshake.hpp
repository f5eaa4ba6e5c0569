// BEP 10 extension-protocol handshake (extended message id 0): the dictionary peers exchange
// to announce which extensions they speak and under which message ids, plus facts about
// themselves (client name, request queue depth, listen port, our address as they see it).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "peerwire/result.hpp"

namespace peerwire::ext {

struct handshake {
  // Extension name -> the message id the sender wants to receive it as (0 = disabled).
  std::map<std::string, std::uint8_t, std::less<>> extensions;
  std::optional<std::string> client;          // "v"
  std::optional<std::uint16_t> listen_port;   // "p"
  std::optional<std::uint32_t> reqq;          // "reqq": requests it keeps without dropping
  std::optional<std::int64_t> metadata_size;  // "metadata_size" (BEP 9)
  std::optional<std::string> your_ip;         // "yourip" as text: 4 bytes IPv4 or 16 bytes IPv6
  std::optional<std::string> ipv4, ipv6;      // "ipv4" / "ipv6": the sender's own addresses
  bool upload_only = false;                   // "upload_only" (BEP 21)
  bool prefers_encryption = false;            // "e": 1 when the sender prefers MSE encryption
  // Keys present that are none of the above, for display.
  std::vector<std::string> other_keys;
};

// Decodes the payload of an extended message with id 0. Lenient about optional fields of the
// wrong type (they are ignored, as other clients do); strict about the payload being one
// bencoded dictionary with an "m" dictionary if present.
result<handshake> parse_handshake(std::span<const std::uint8_t> payload);

// Encodes our handshake (canonical bencode). Emits "m" always, the optional fields when set,
// "upload_only" and "e" when true. Address fields are given as text in the struct and sent
// as the raw 4 or 16 bytes BEP 10 specifies; text that is not an IP address is left out.
std::string encode_handshake(const handshake& h);

// "127.0.0.1" / "::1" text for a 4- or 16-byte address; nullopt for other sizes.
std::optional<std::string> address_text(std::string_view raw);

// The inverse: the raw 4 bytes of IPv4 dotted-quad text or 16 bytes of IPv6 text (network
// order), as "yourip", "ipv4", "ipv6" and PEX compact entries carry them; nullopt when the
// text is neither. Used to fill "yourip" from the address we see the peer connecting from.
std::optional<std::string> address_bytes(std::string_view text);

}  // namespace peerwire::ext
