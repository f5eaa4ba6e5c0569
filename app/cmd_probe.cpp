// `peerwire probe HOST:PORT (TORRENT|MAGNET|--info-hash HEX)`: the handshake made visible.
#include <cstdio>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "commands.hpp"
#include "exit_codes.hpp"
#include "peer_address.hpp"
#include "peerwire/probe.hpp"
#include "peerwire/wire.hpp"
#include "text.hpp"
#include "torrent_source.hpp"

namespace peerwire::app {
namespace {

namespace json = boost::json;

const char* connect_name(connect_outcome c) {
  switch (c) {
    case connect_outcome::ok:
      return "connected";
    case connect_outcome::resolve_failed:
      return "resolve_failed";
    case connect_outcome::refused:
      return "refused";
    case connect_outcome::timed_out:
      return "timed_out";
    case connect_outcome::unreachable:
      return "unreachable";
    case connect_outcome::failed:
      return "failed";
  }
  return "?";
}

const char* handshake_name(handshake_outcome h) {
  switch (h) {
    case handshake_outcome::not_attempted:
      return "not_attempted";
    case handshake_outcome::complete:
      return "complete";
    case handshake_outcome::closed_silently:
      return "closed_silently";
    case handshake_outcome::closed_partial:
      return "closed_partial";
    case handshake_outcome::timed_out:
      return "timed_out";
    case handshake_outcome::bad_protocol:
      return "bad_protocol";
    case handshake_outcome::wrong_info_hash:
      return "wrong_info_hash";
    case handshake_outcome::reset:
      return "reset";
  }
  return "?";
}

const char* pieces_name(pieces_kind p) {
  switch (p) {
    case pieces_kind::unknown:
      return "unknown";
    case pieces_kind::bitfield:
      return "bitfield";
    case pieces_kind::have_all:
      return "have_all";
    case pieces_kind::have_none:
      return "have_none";
  }
  return "?";
}

std::string hex_bytes(const std::uint8_t* p, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += fmt::format("{}{:02x}", i ? " " : "", p[i]);
  return out;
}

std::string ascii(const std::uint8_t* p, std::size_t n) {
  std::string out = "\"";
  for (std::size_t i = 0; i < n; ++i)
    out += (p[i] >= 0x20 && p[i] < 0x7f) ? static_cast<char>(p[i]) : '.';
  return out + "\"";
}

template <typename... Args>
void put(fmt::memory_buffer& out, fmt::format_string<Args...> f, Args&&... args) {
  fmt::format_to(std::back_inserter(out), f, std::forward<Args>(args)...);
}

// One labelled field of a handshake dump: hex ten bytes a line, the meaning on the right.
void dump_field(fmt::memory_buffer& out, std::size_t offset, std::string_view label,
                const std::uint8_t* p, std::size_t n, std::string_view meaning) {
  for (std::size_t line = 0; line * 10 < n || (n == 0 && line == 0); ++line) {
    std::size_t len = std::min<std::size_t>(10, n - line * 10);
    fmt::format_to(std::back_inserter(out), "    {:<6} {:<10} {:<30}  {}\n",
                   line == 0 ? fmt::format("[{}]", offset) : "", line == 0 ? label : "",
                   hex_bytes(p + line * 10, len), line == 0 ? meaning : "");
    if (n == 0) break;
  }
}

// Annotated dump of (possibly partial) handshake bytes.
void dump_handshake(fmt::memory_buffer& out, const std::vector<std::uint8_t>& b) {
  const std::uint8_t* p = b.data();
  std::size_t n = b.size();
  if (n == 0) {
    fmt::format_to(std::back_inserter(out), "    (nothing)\n");
    return;
  }
  if (p[0] != 19 || n < 20 ||
      std::string_view(reinterpret_cast<const char*>(p + 1), 19) != "BitTorrent protocol") {
    // Not a BitTorrent handshake: show the bytes as they are.
    std::size_t shown = std::min<std::size_t>(n, 64);
    for (std::size_t i = 0; i < shown; i += 16) {
      std::size_t len = std::min<std::size_t>(16, shown - i);
      fmt::format_to(std::back_inserter(out), "    [{:>2}]  {:<47}  {}\n", i, hex_bytes(p + i, len),
                     ascii(p + i, len));
    }
    if (n > shown) fmt::format_to(std::back_inserter(out), "    ... {} more bytes\n", n - shown);
    return;
  }
  dump_field(out, 0, "pstrlen", p, 1, "19");
  dump_field(out, 1, "protocol", p + 1, 19, "\"BitTorrent protocol\"");
  if (n >= 28) {
    std::array<std::uint8_t, 8> reserved{};
    std::copy_n(p + 20, 8, reserved.begin());
    std::string bits = wire::describe_reserved(reserved);
    dump_field(out, 20, "reserved", p + 20, 8, bits.empty() ? "no extensions" : bits);
  }
  if (n >= 48) {
    sha1_hash h;
    std::copy_n(p + 28, 20, h.bytes.begin());
    dump_field(out, 28, "info-hash", p + 28, 20, h.hex());
  }
  if (n >= 68) {
    std::array<std::uint8_t, 20> id{};
    std::copy_n(p + 48, 20, id.begin());
    dump_field(out, 48, "peer id", p + 48, 20,
               ascii(p + 48, 20) + " = " + wire::describe_peer_id(id));
  }
  if (n < 68) fmt::format_to(std::back_inserter(out), "    (only {} of 68 bytes)\n", n);
}

void print_text(const probe_report& r, const probe_options& o,
                const std::vector<std::string>& verdict) {
  fmt::memory_buffer out;
  put(out, "Probing {}:{} for info-hash {}\n\n", r.host, r.port, o.info_hash.hex());
  put(out, "1. TCP connect to {}: ", r.address.empty() ? r.host : r.address);
  if (r.connect == connect_outcome::ok) {
    put(out, "connected in {} ms\n", r.connect_time.count());
  } else {
    put(out, "{} ({})\n", connect_name(r.connect), r.connect_error);
  }
  if (!r.sent_handshake.empty()) {
    put(out, "\n2. Handshake sent ({} bytes):\n", r.sent_handshake.size());
    dump_handshake(out, r.sent_handshake);
    put(out, "\n3. Reply ({} bytes, {}):\n", r.received.size(), handshake_name(r.handshake));
    dump_handshake(out, r.received);
  }
  if (r.handshake == handshake_outcome::complete) {
    put(out, "\n4. The peer\n");
    put(out, "    client      {}\n", printable(r.client));
    std::string bits = wire::describe_reserved(r.reserved);
    put(out, "    supports    {}\n", bits.empty() ? "no extensions (plain BEP 3)" : bits);
    if (r.extension_handshake) {
      const auto& e = *r.extension_handshake;
      put(out, "    extension handshake (BEP 10):\n");
      if (e.client) put(out, "      v              {}\n", printable(*e.client));
      std::string m;
      for (const auto& [name, id] : e.extensions)
        m += fmt::format("{}{}={}", m.empty() ? "" : ", ", printable(name), id);
      put(out, "      m              {}\n", m.empty() ? "(none)" : m);
      if (e.metadata_size) put(out, "      metadata_size  {} bytes\n", *e.metadata_size);
      if (e.reqq) put(out, "      reqq           {}\n", *e.reqq);
      if (e.listen_port) put(out, "      p              {}\n", *e.listen_port);
      if (e.your_ip) put(out, "      yourip         {}\n", *e.your_ip);
      if (e.upload_only) put(out, "      upload_only    yes\n");
      if (!e.other_keys.empty()) {
        std::string keys;
        for (const auto& k : e.other_keys) keys += (keys.empty() ? "" : ", ") + printable(k);
        put(out, "      other keys     {}\n", keys);
      }
    } else if (!r.extension_error.empty()) {
      put(out, "    extension handshake: malformed: {}\n", printable(r.extension_error));
    }
    std::string pieces;
    if (auto pct = r.completion_percent()) {
      pieces = fmt::format("{:.1f}% ({})", *pct, pieces_name(r.pieces));
    } else if (r.pieces == pieces_kind::bitfield) {
      pieces = fmt::format("{} of {} bitfield bits set", r.pieces_have, r.pieces_bits);
    } else {
      pieces = "no bitfield received";
    }
    put(out, "    pieces      {}\n", pieces);
    if (!r.events.empty()) {
      put(out, "\n5. Messages ({}):\n", r.closed_reason);
      for (const auto& e : r.events)
        put(out, "    {:>6} ms  {} {}\n", e.at.count(), e.outgoing ? "->" : "<-",
            printable(e.text));
    }
  }
  put(out, "\nVerdict: {}\n", verdict.empty() ? "" : verdict.front());
  for (std::size_t i = 1; i < verdict.size(); ++i) put(out, "         {}\n", verdict[i]);
  std::fwrite(out.data(), 1, out.size(), stdout);
}

void print_json(const probe_report& r, const probe_options& o,
                const std::vector<std::string>& verdict) {
  json::object j;
  j["host"] = r.host;
  j["port"] = r.port;
  j["address"] = r.address;
  j["info_hash"] = o.info_hash.hex();
  j["connect"] = connect_name(r.connect);
  j["connect_error"] = r.connect_error;
  j["connect_ms"] = r.connect_time.count();
  j["handshake"] = handshake_name(r.handshake);
  j["handshake_error"] = valid_utf8(r.handshake_error);
  j["reply_ms"] = r.reply_time.count();
  j["sent_hex"] = hex_bytes(r.sent_handshake.data(), r.sent_handshake.size());
  j["received_hex"] = hex_bytes(r.received.data(), r.received.size());
  if (r.handshake == handshake_outcome::complete) {
    j["reserved_hex"] = hex_bytes(r.reserved.data(), 8);
    j["reserved"] = wire::describe_reserved(r.reserved);
    j["dht"] = (r.reserved[7] & 0x01) != 0;
    j["fast"] = (r.reserved[7] & 0x04) != 0;
    j["extension_protocol"] = (r.reserved[5] & 0x10) != 0;
    j["v2_upgrade"] = (r.reserved[7] & 0x10) != 0;
    j["peer_id_hex"] = hex_bytes(r.their_peer_id.data(), 20);
    j["client"] = valid_utf8(r.client);
  }
  if (r.extension_handshake) {
    const auto& e = *r.extension_handshake;
    json::object x;
    json::object m;
    for (const auto& [name, id] : e.extensions) m[valid_utf8(name)] = id;
    x["m"] = std::move(m);
    x["v"] = e.client ? json::value(valid_utf8(*e.client)) : json::value(nullptr);
    x["metadata_size"] = e.metadata_size ? json::value(*e.metadata_size) : json::value(nullptr);
    x["reqq"] = e.reqq ? json::value(*e.reqq) : json::value(nullptr);
    x["p"] = e.listen_port ? json::value(*e.listen_port) : json::value(nullptr);
    x["yourip"] = e.your_ip ? json::value(*e.your_ip) : json::value(nullptr);
    x["upload_only"] = e.upload_only;
    json::array other;
    for (const auto& k : e.other_keys) other.push_back(json::string(valid_utf8(k)));
    x["other_keys"] = std::move(other);
    j["extension_handshake"] = std::move(x);
  } else {
    j["extension_handshake"] = nullptr;
  }
  j["pieces"] = pieces_name(r.pieces);
  j["pieces_have"] = r.pieces_have;
  j["pieces_bits"] = r.pieces_bits;
  auto pct = r.completion_percent();
  j["completion_percent"] = pct ? json::value(*pct) : json::value(nullptr);
  json::array events;
  for (const auto& e : r.events) {
    events.push_back(json::object{
        {"ms", e.at.count()}, {"dir", e.outgoing ? "out" : "in"}, {"text", valid_utf8(e.text)}});
  }
  j["messages"] = std::move(events);
  j["ended"] = r.closed_reason;
  json::array v;
  for (const auto& line : verdict) v.push_back(json::string(valid_utf8(line)));
  j["verdict"] = std::move(v);
  j["ok"] = r.handshake == handshake_outcome::complete && !r.same_peer_id_as_ours;
  std::string text = json_text(j);
  std::fwrite(text.data(), 1, text.size(), stdout);
}

}  // namespace

int run_probe(const probe_cli_options& opt) {
  probe_options o;
  if (!split_host_port(opt.target, o.host, o.port)) {
    std::fprintf(stderr, "peerwire: '%s' is not HOST:PORT (use [ADDR]:PORT for IPv6)\n",
                 printable(opt.target).c_str());
    return exit_usage;
  }
  if (!exactly_one_source(opt.torrent, opt.info_hash)) return exit_usage;
  torrent_source_options so;
  so.no_v1_message = "the magnet link has no v1 (btih) info-hash; v2-only is not supported yet";
  int code = exit_ok;
  auto loaded = load_torrent(opt.torrent, opt.info_hash, so, code);
  if (!loaded) return code;
  o.info_hash = *loaded->info_hash;
  if (loaded->torrent) o.piece_count = loaded->torrent->piece_count();
  if (opt.timeout <= 0 || opt.timeout > 600) {
    std::fprintf(stderr, "peerwire: --timeout must be between 0 and 600 seconds\n");
    return exit_usage;
  }
  o.timeout = std::chrono::milliseconds(static_cast<long>(opt.timeout * 1000));
  o.watch_time = std::chrono::milliseconds(static_cast<long>(opt.watch * 1000));
  o.peer_id = wire::make_peer_id();

  probe_report r = run_probe(o);
  auto verdict = probe_verdict(r, o);
  if (opt.json) {
    print_json(r, o, verdict);
  } else {
    print_text(r, o, verdict);
  }
  bool ok = r.handshake == handshake_outcome::complete && !r.same_peer_id_as_ours;
  return ok ? exit_ok : exit_peer_failed;
}

}  // namespace peerwire::app
