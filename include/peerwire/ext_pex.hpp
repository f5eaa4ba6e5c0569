// BEP 11 ut_pex: peer exchange. Peers tell each other, about once a minute, which peers they
// connected to ("added", with flags) and disconnected from ("dropped") since the last message.
//
// Pure: parse_pex()/encode_pex() are codecs for the payload after the extended-message id
// byte; pex_tracker is the per-connection "what have we told this peer" state, with the
// clock passed in.
#pragma once

#include <chrono>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "peerwire/result.hpp"

namespace peerwire::ext {

// Bits of "added.f" / "added6.f" (one byte per added peer).
namespace pex_flag {
inline constexpr std::uint8_t prefers_encryption = 0x01;
inline constexpr std::uint8_t seed = 0x02;  // seed / upload-only
inline constexpr std::uint8_t supports_utp = 0x04;
inline constexpr std::uint8_t supports_holepunch = 0x08;  // ut_holepunch
inline constexpr std::uint8_t reachable = 0x10;  // we connected out to it: it accepts connections
}  // namespace pex_flag

// An address in the same text form as the tracker's peer_endpoint: an IPv4 dotted quad or
// canonical IPv6 text (as inet_ntop writes it, no brackets). Compared as text, so callers
// feeding pex_tracker should use that canonical form (address_text() in ext_handshake.hpp).
struct pex_endpoint {
  std::string address;
  std::uint16_t port = 0;

  auto operator<=>(const pex_endpoint&) const = default;
};

struct pex_peer {
  pex_endpoint endpoint;
  std::uint8_t flags = 0;  // pex_flag bits

  bool operator==(const pex_peer&) const = default;
};

struct pex_message {
  std::vector<pex_peer> added;        // "added" (IPv4) entries first, then "added6"
  std::vector<pex_endpoint> dropped;  // "dropped" then "dropped6"
  // What the parser skipped or capped, one sentence each. Empty from the encoder's view.
  std::vector<std::string> notes;
};

struct pex_limits {
  std::size_t max_payload = 64 * 1024;  // bytes of bencoded payload
  // Entries kept per list (added, added6, dropped, dropped6); the rest are dropped with a
  // note. BEP 11 senders put at most 50 per list; this leaves room for lax clients.
  std::size_t max_entries = 200;
};

// Parses a ut_pex payload. Lists absent are empty. Errors for the whole message (the caller
// should ignore the message; it need not drop the peer): not a bencoded dictionary, a list
// key that is not a string, or a compact list whose length is not a multiple of 6 ("added",
// "dropped") or 18 ("added6", "dropped6") — a sender that gets the framing wrong cannot be
// trusted for any entry in it. Skipped with a note: port-0 entries, entries beyond
// max_entries, a flags string whose length does not match its list (flags then default to 0
// for the entries it does not cover). Unknown keys are ignored.
result<pex_message> parse_pex(std::span<const std::uint8_t> payload, const pex_limits& lim = {});

// Encodes a message (canonical bencode). Endpoints are sorted into the IPv4/IPv6 lists by
// their address text; addresses that are not valid IP text are skipped. IPv4-mapped IPv6
// text ("::ffff:1.2.3.4") goes to the IPv6 lists, as written. "added.f"/"added6.f" are
// emitted whenever the matching list is.
std::string encode_pex(const pex_message& m);

// Per-connection sender state: which peers the remote has been told about, and when the
// next message is due. The caller passes our current connected peers (excluding the remote
// itself) each time it asks for a message.
class pex_tracker {
 public:
  using clock = std::chrono::steady_clock;
  // BEP 11: at most 50 added and 50 dropped entries per message.
  static constexpr std::size_t max_per_list = 50;
  // BEP 11: do not send more often than once a minute.
  static constexpr std::chrono::seconds interval{60};

  // `start` is when the extension handshake completed; the first message is due
  // `first_delay` later (soon: the remote has no view of our peers yet).
  explicit pex_tracker(clock::time_point start,
                       std::chrono::seconds first_delay = std::chrono::seconds{0});

  bool due(clock::time_point now) const { return now >= next_due_; }
  clock::time_point next_due() const { return next_due_; }

  // The diff between what the remote was told and `connected`: peers not told yet (added,
  // with their flags) and peers told but no longer connected (dropped), at most max_per_list
  // of each in endpoint order; the rest wait for a later message. Records the entries
  // returned as told and schedules the next message `interval` after `now` (also when there
  // is nothing to send, returning nullopt, so an idle connection is not re-checked every
  // tick). Duplicate endpoints in `connected` count once (the first one's flags). Call when
  // due(now); calling earlier is allowed and simply sends early.
  std::optional<pex_message> make_message(std::span<const pex_peer> connected,
                                          clock::time_point now);

  // Peers the remote currently believes we are connected to (for tests and display).
  std::size_t told_count() const { return told_.size(); }

 private:
  clock::time_point next_due_;
  std::map<pex_endpoint, std::uint8_t> told_;  // endpoint -> flags sent
};

}  // namespace peerwire::ext
