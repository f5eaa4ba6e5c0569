// BEP 11 ut_pex codec and the per-connection sender state (see ext_pex.hpp).
#include <algorithm>
#include <string_view>

#include "peerwire/bencode.hpp"
#include "peerwire/bencode_value.hpp"
#include "peerwire/ext_handshake.hpp"
#include "peerwire/ext_pex.hpp"

namespace peerwire::ext {

namespace {

// One compact list ("added", "dropped6"...) and its optional flags.
struct list_spec {
  std::string_view key;
  std::size_t entry_size;  // 6 (IPv4 + port) or 18 (IPv6 + port)
};

constexpr list_spec added4{"added", 6};
constexpr list_spec added6{"added6", 18};
constexpr list_spec dropped4{"dropped", 6};
constexpr list_spec dropped6{"dropped6", 18};

// Reads `key` as a compact list (empty when absent); an error when present but malformed.
result<std::string_view> compact_list(bencode::node root, const list_spec& spec) {
  auto v = root.find(spec.key);
  if (!v) return std::string_view{};
  if (!v->is_string())
    return make_error("ut_pex '" + std::string(spec.key) + "' is not a string", v->offset());
  auto s = v->as_string();
  if (s.size() % spec.entry_size != 0)
    return make_error("ut_pex '" + std::string(spec.key) + "' length " + std::to_string(s.size()) +
                          " is not a multiple of " + std::to_string(spec.entry_size),
                      v->offset());
  return s;
}

// Decodes entries of a compact list; calls `emit(endpoint, index)` for each kept one.
template <class Emit>
void for_each_entry(std::string_view list, const list_spec& spec, const pex_limits& lim,
                    std::vector<std::string>& notes, Emit emit) {
  const std::size_t count = list.size() / spec.entry_size;
  const std::size_t kept = std::min(count, lim.max_entries);
  if (kept < count)
    notes.push_back("ut_pex '" + std::string(spec.key) + "': " + std::to_string(count - kept) +
                    " entries beyond " + std::to_string(lim.max_entries) + " ignored");
  std::size_t port_zero = 0;
  for (std::size_t i = 0; i < kept; ++i) {
    auto entry = list.substr(i * spec.entry_size, spec.entry_size);
    const std::size_t addr_len = spec.entry_size - 2;
    const auto hi = static_cast<std::uint8_t>(entry[addr_len]);
    const auto lo = static_cast<std::uint8_t>(entry[addr_len + 1]);
    const auto port = static_cast<std::uint16_t>((hi << 8) | lo);
    if (port == 0) {
      ++port_zero;
      continue;
    }
    // address_text() cannot fail for 4/16 bytes.
    emit(pex_endpoint{address_text(entry.substr(0, addr_len)).value_or(""), port}, i);
  }
  if (port_zero > 0)
    notes.push_back("ut_pex '" + std::string(spec.key) + "': " + std::to_string(port_zero) +
                    " entries with port 0 skipped");
}

result<bool> read_added(bencode::node root, const list_spec& spec, std::string_view flags_key,
                        const pex_limits& lim, pex_message& out) {
  auto list = compact_list(root, spec);
  if (!list) return list.error();
  std::string_view flags;
  if (auto f = root.find(flags_key)) {
    if (f->is_string()) {
      flags = f->as_string();
    } else {
      out.notes.push_back("ut_pex '" + std::string(flags_key) + "' is not a string; ignored");
    }
  }
  const std::size_t count = list->size() / spec.entry_size;
  if (!flags.empty() && flags.size() != count)
    out.notes.push_back("ut_pex '" + std::string(flags_key) + "' has " +
                        std::to_string(flags.size()) + " flags for " + std::to_string(count) +
                        " peers");
  for_each_entry(*list, spec, lim, out.notes, [&](pex_endpoint ep, std::size_t i) {
    const std::uint8_t f = i < flags.size() ? static_cast<std::uint8_t>(flags[i]) : 0;
    out.added.push_back(pex_peer{std::move(ep), f});
  });
  return true;
}

result<bool> read_dropped(bencode::node root, const list_spec& spec, const pex_limits& lim,
                          pex_message& out) {
  auto list = compact_list(root, spec);
  if (!list) return list.error();
  for_each_entry(*list, spec, lim, out.notes,
                 [&](pex_endpoint ep, std::size_t) { out.dropped.push_back(std::move(ep)); });
  return true;
}

void append_entry(std::string& list, const std::string& raw, std::uint16_t port) {
  list += raw;
  list.push_back(static_cast<char>(port >> 8));
  list.push_back(static_cast<char>(port & 0xFF));
}

}  // namespace

result<pex_message> parse_pex(std::span<const std::uint8_t> payload, const pex_limits& lim) {
  std::string_view bytes(reinterpret_cast<const char*>(payload.data()), payload.size());
  // Depth and token caps: a PEX dictionary is flat; anything deep or wide is not PEX.
  const bencode::limits blim{.max_input_size = lim.max_payload, .max_depth = 8, .max_tokens = 1024};
  auto doc = bencode::decode(bytes, blim);
  if (!doc) return make_error("ut_pex: " + doc.error().message, doc.error().offset);
  const auto root = doc->root();
  if (!root.is_dict()) return make_error("ut_pex message is not a dictionary", 0);

  pex_message m;
  if (auto r = read_added(root, added4, "added.f", lim, m); !r) return r.error();
  if (auto r = read_added(root, added6, "added6.f", lim, m); !r) return r.error();
  if (auto r = read_dropped(root, dropped4, lim, m); !r) return r.error();
  if (auto r = read_dropped(root, dropped6, lim, m); !r) return r.error();
  return m;
}

std::string encode_pex(const pex_message& m) {
  std::string a4, f4, a6, f6, d4, d6;
  for (const auto& p : m.added) {
    auto raw = address_bytes(p.endpoint.address);
    if (!raw) continue;
    if (raw->size() == 4) {
      append_entry(a4, *raw, p.endpoint.port);
      f4.push_back(static_cast<char>(p.flags));
    } else {
      append_entry(a6, *raw, p.endpoint.port);
      f6.push_back(static_cast<char>(p.flags));
    }
  }
  for (const auto& ep : m.dropped) {
    auto raw = address_bytes(ep.address);
    if (!raw) continue;
    append_entry(raw->size() == 4 ? d4 : d6, *raw, ep.port);
  }
  // Keys always present (possibly empty), like other clients: some receivers expect "added"
  // and "dropped" to exist. The IPv6 keys only when used, to keep IPv4-only messages short.
  bencode::dict d{{"added", std::move(a4)}, {"added.f", std::move(f4)}, {"dropped", std::move(d4)}};
  if (!a6.empty()) {
    d["added6"] = std::move(a6);
    d["added6.f"] = std::move(f6);
  }
  if (!d6.empty()) d["dropped6"] = std::move(d6);
  return bencode::encode(bencode::value(std::move(d)));
}

// pex_tracker ---------------------------------------------------------------------------------

pex_tracker::pex_tracker(clock::time_point start, std::chrono::seconds first_delay)
    : next_due_(start + first_delay) {}

std::optional<pex_message> pex_tracker::make_message(std::span<const pex_peer> connected,
                                                     clock::time_point now) {
  next_due_ = now + interval;

  // Sorted, first occurrence wins: the diff and the cap are then deterministic.
  std::map<pex_endpoint, std::uint8_t> current;
  for (const auto& p : connected) current.emplace(p.endpoint, p.flags);

  pex_message m;
  for (const auto& [ep, flags] : current) {
    if (m.added.size() == max_per_list) break;
    if (!told_.contains(ep)) m.added.push_back(pex_peer{ep, flags});
  }
  for (const auto& [ep, flags] : told_) {
    if (m.dropped.size() == max_per_list) break;
    if (!current.contains(ep)) m.dropped.push_back(ep);
  }
  if (m.added.empty() && m.dropped.empty()) return std::nullopt;

  for (const auto& p : m.added) told_.emplace(p.endpoint, p.flags);
  for (const auto& ep : m.dropped) told_.erase(ep);
  return m;
}

}  // namespace peerwire::ext
