// The plain-words explanation of a probe. This is what people who write "the peer does not
// answer my handshake" need: which step failed and the usual causes, most likely first.
#include <algorithm>

#include <fmt/format.h>

#include "peerwire/probe.hpp"

namespace peerwire {

std::optional<double> probe_report::completion_percent() const {
  if (pieces == pieces_kind::have_all) return 100.0;
  if (pieces == pieces_kind::have_none) return 0.0;
  std::size_t total = piece_count.value_or(0);
  if (total == 0) return std::nullopt;
  return 100.0 * static_cast<double>(std::min(pieces_have, total)) / static_cast<double>(total);
}

namespace {

double seconds(std::chrono::milliseconds ms) {
  return static_cast<double>(ms.count()) / 1000.0;
}

// A guess at what answered when the reply is not a BitTorrent handshake.
std::string what_answered(const std::vector<std::uint8_t>& received) {
  std::string head(
      received.begin(),
      received.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(received.size(), 8)));
  if (head.rfind("HTTP/", 0) == 0) return "an HTTP server answered";
  if (head.rfind("SSH-", 0) == 0) return "an SSH server answered";
  if (!received.empty() && received[0] == 0x16) return "a TLS server answered";
  return "this is not a BitTorrent peer, or the stream is encrypted (MSE/PE)";
}

}  // namespace

std::vector<std::string> probe_verdict(const probe_report& r, const probe_options& o) {
  std::vector<std::string> out;
  std::string target = fmt::format("{}:{}", r.host, r.port);
  double timeout = seconds(o.timeout);
  switch (r.connect) {
    case connect_outcome::ok:
      break;
    case connect_outcome::resolve_failed:
      out.push_back(fmt::format("could not resolve '{}': {}", r.host, r.connect_error));
      return out;
    case connect_outcome::refused:
      out.push_back(
          fmt::format("connection refused by {}: nothing is listening on port {}", target, r.port));
      out.push_back(
          "check that the client is running, that it listens on this port, and that no firewall "
          "rejects the connection");
      return out;
    case connect_outcome::timed_out:
      out.push_back(fmt::format("no answer to the TCP connection attempt within {:g} s", timeout));
      out.push_back(
          "the host is down, the address is wrong, or a firewall/NAT silently drops the port");
      return out;
    case connect_outcome::unreachable:
      out.push_back(fmt::format("{} is unreachable: {}", target, r.connect_error));
      return out;
    case connect_outcome::failed:
      out.push_back(fmt::format("could not connect to {}: {}", target, r.connect_error));
      return out;
  }

  switch (r.handshake) {
    case handshake_outcome::complete:
      break;
    case handshake_outcome::not_attempted:
      out.push_back("the handshake was not attempted");
      return out;
    case handshake_outcome::closed_silently:
      out.push_back(
          "peer closed the connection right after reading our handshake: it does not serve this "
          "info-hash");
      out.push_back(
          "other causes: it accepts only encrypted connections (MSE/PE), it is already "
          "connected to this address (many clients allow one connection per IP), it has banned "
          "this address, or it is at its connection limit");
      return out;
    case handshake_outcome::closed_partial:
      out.push_back(
          fmt::format("peer closed the connection after sending only {} of the 68 handshake bytes",
                      r.received.size()));
      return out;
    case handshake_outcome::timed_out:
      if (r.received.empty()) {
        out.push_back(fmt::format(
            "no reply within {:g} s: the peer accepted the TCP connection but sent nothing",
            timeout));
        out.push_back(
            "it may expect an encrypted (MSE/PE) handshake, be overloaded, or not be a BitTorrent "
            "client");
      } else {
        out.push_back(fmt::format(
            "the reply stopped after {} of the 68 handshake bytes (no more within {:g} s)",
            r.received.size(), timeout));
      }
      return out;
    case handshake_outcome::bad_protocol:
      out.push_back("reply protocol string is not 'BitTorrent protocol': " +
                    what_answered(r.received));
      if (!r.handshake_error.empty()) out.push_back("decoder: " + r.handshake_error);
      return out;
    case handshake_outcome::wrong_info_hash:
      out.push_back("peer answered with a different info-hash (" + r.their_info_hash.hex() +
                    "): it does not serve this torrent");
      return out;
    case handshake_outcome::reset:
      out.push_back("the connection was reset while waiting for the handshake reply: " +
                    r.connect_error);
      return out;
  }

  if (r.same_peer_id_as_ours) {
    out.push_back("connected to ourselves: the peer id in the reply is our own");
    return out;
  }
  std::string who = r.client.empty() ? "peer" : r.client;
  std::string have;
  if (auto pct = r.completion_percent()) {
    have = *pct >= 100.0 ? "it is a seeder (100%)"
                         : fmt::format("it has {:.1f}% of the torrent", *pct);
  } else if (r.pieces == pieces_kind::bitfield) {
    have = fmt::format("it has {} pieces (bitfield of {} bits; give the .torrent for a percentage)",
                       r.pieces_have, r.pieces_bits);
  } else {
    have = "it did not say which pieces it has (no bitfield: usually it has none yet)";
  }
  out.push_back(fmt::format("OK: {} speaks BitTorrent and serves this torrent; {}", who, have));
  if (r.protocol_error) out.push_back("but it then sent invalid data: " + r.closed_reason);
  if (!r.extension_error.empty())
    out.push_back("its extension handshake is malformed: " + r.extension_error);
  return out;
}

}  // namespace peerwire
