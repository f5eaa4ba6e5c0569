#include <algorithm>

#include "peerwire/bencode.hpp"
#include "peerwire/bencode_value.hpp"
#include "peerwire/ext_handshake.hpp"
#include "peerwire/ip_text.hpp"

namespace peerwire::ext {

std::optional<std::string> address_text(std::string_view raw) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(raw.data());
  if (raw.size() == 4) return ipv4_text(std::span<const std::uint8_t, 4>(p, 4));
  if (raw.size() == 16) return ipv6_text(std::span<const std::uint8_t, 16>(p, 16));
  return std::nullopt;
}

std::optional<std::string> address_bytes(std::string_view text) {
  if (text.find(':') == std::string_view::npos) {
    auto v4 = parse_ipv4(text);
    if (!v4) return std::nullopt;
    return std::string(v4->begin(), v4->end());
  }
  auto v6 = parse_ipv6(text);
  if (!v6) return std::nullopt;
  return std::string(v6->begin(), v6->end());
}

result<handshake> parse_handshake(std::span<const std::uint8_t> payload) {
  std::string_view bytes(reinterpret_cast<const char*>(payload.data()), payload.size());
  // An extension handshake is small; the cap keeps a hostile one from costing much.
  bencode::limits lim{.max_input_size = 1 << 20, .max_depth = 20, .max_tokens = 100'000};
  auto doc = bencode::decode(bytes, lim);
  if (!doc) return make_error("extension handshake: " + doc.error().message, doc.error().offset);
  auto root = doc->root();
  if (!root.is_dict()) return make_error("extension handshake is not a dictionary", 0);

  handshake h;
  for (auto [key, value] : root.pairs()) {
    if (key == "m") {
      if (!value.is_dict())
        return make_error("extension handshake 'm' is not a dictionary", value.offset());
      for (auto [name, id] : value.pairs()) {
        if (id.is_int() && id.as_int() >= 0 && id.as_int() <= 255) {
          h.extensions[std::string(name)] = static_cast<std::uint8_t>(id.as_int());
        }
      }
    } else if (key == "v") {
      if (value.is_string()) h.client = std::string(value.as_string());
    } else if (key == "p") {
      if (value.is_int() && value.as_int() > 0 && value.as_int() <= 65535) {
        h.listen_port = static_cast<std::uint16_t>(value.as_int());
      }
    } else if (key == "reqq") {
      if (value.is_int() && value.as_int() > 0) {
        h.reqq = static_cast<std::uint32_t>(std::min<std::int64_t>(value.as_int(), UINT32_MAX));
      }
    } else if (key == "metadata_size") {
      if (value.is_int() && value.as_int() >= 0) h.metadata_size = value.as_int();
    } else if (key == "yourip") {
      if (value.is_string()) h.your_ip = address_text(value.as_string());
    } else if (key == "ipv4") {
      if (value.is_string()) h.ipv4 = address_text(value.as_string());
    } else if (key == "ipv6") {
      if (value.is_string()) h.ipv6 = address_text(value.as_string());
    } else if (key == "upload_only") {
      h.upload_only = value.is_int() && value.as_int() != 0;
    } else if (key == "e") {
      h.prefers_encryption = value.is_int() && value.as_int() != 0;
    } else {
      h.other_keys.emplace_back(key);
    }
  }
  return h;
}

std::string encode_handshake(const handshake& h) {
  bencode::dict m;
  for (const auto& [name, id] : h.extensions) m[name] = static_cast<std::int64_t>(id);
  bencode::dict d{{"m", std::move(m)}};
  if (h.client) d["v"] = *h.client;
  if (h.listen_port) d["p"] = static_cast<std::int64_t>(*h.listen_port);
  if (h.reqq) d["reqq"] = static_cast<std::int64_t>(*h.reqq);
  if (h.metadata_size) d["metadata_size"] = *h.metadata_size;
  if (h.upload_only) d["upload_only"] = 1;
  if (h.prefers_encryption) d["e"] = 1;
  // Raw bytes on the wire; the struct keeps text so parse and encode agree on one form.
  // `size` 0 accepts either family ("yourip"); "ipv4"/"ipv6" only carry their own.
  auto put_address = [&d](const char* key, const std::optional<std::string>& text,
                          std::size_t size) {
    if (!text) return;
    auto raw = address_bytes(*text);
    if (raw && (size == 0 || raw->size() == size)) d[key] = std::move(*raw);
  };
  put_address("yourip", h.your_ip, 0);
  put_address("ipv4", h.ipv4, 4);
  put_address("ipv6", h.ipv6, 16);
  return bencode::encode(bencode::value(std::move(d)));
}

}  // namespace peerwire::ext
