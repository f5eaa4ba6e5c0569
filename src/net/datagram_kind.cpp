// classify_datagram(): the content rules of net_datagram.hpp. Called for every datagram the
// session receives, so it only looks at a few bytes and never allocates.
#include "peerwire/net_datagram.hpp"

namespace peerwire::net {

namespace {

constexpr std::uint8_t utp_version = 1;
constexpr std::uint8_t utp_max_type = 4;       // ST_DATA, ST_FIN, ST_STATE, ST_RESET, ST_SYN
constexpr std::uint8_t utp_max_extension = 3;  // none, SACK, extension bits, close reason

// A KRPC message is a bencoded dictionary: 'd', then a key (a string, so a length digit) or
// the 'e' of an empty dictionary, and the dictionary's 'e' last. Checking both ends keeps
// stray text starting with 'd' out of the DHT without parsing it here.
bool plausible_krpc(std::span<const std::uint8_t> d) {
  if (d.size() < 2 || d.front() != 'd' || d.back() != 'e') return false;
  return (d[1] >= '0' && d[1] <= '9') || (d.size() == 2 && d[1] == 'e');
}

bool plausible_utp(std::span<const std::uint8_t> d) {
  if (d.size() < utp_header_size) return false;
  const std::uint8_t type = d[0] >> 4;
  const std::uint8_t version = d[0] & 0x0f;
  return version == utp_version && type <= utp_max_type && d[1] <= utp_max_extension;
}

bool plausible_tracker_reply(std::span<const std::uint8_t> d) {
  // Only byte 0 of the action is checked: an action the codec does not know (4, 5, ...) still
  // reaches the tracker client, which reports it as a bad reply rather than a silent timeout.
  return d.size() >= tracker_reply_min_size && d[0] == 0x00;
}

}  // namespace

datagram_kind classify_datagram(std::span<const std::uint8_t> datagram) {
  if (datagram.empty()) return datagram_kind::unknown;
  if (plausible_tracker_reply(datagram)) return datagram_kind::tracker;
  if (plausible_utp(datagram)) return datagram_kind::utp;
  if (plausible_krpc(datagram)) return datagram_kind::krpc;
  return datagram_kind::unknown;
}

std::string_view to_string(datagram_kind k) {
  switch (k) {
    case datagram_kind::tracker:
      return "tracker";
    case datagram_kind::utp:
      return "utp";
    case datagram_kind::krpc:
      return "krpc";
    case datagram_kind::unknown:
      break;
  }
  return "unknown";
}

}  // namespace peerwire::net
