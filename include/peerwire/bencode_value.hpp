// Bencode encoding: an owning value tree (for building torrents and messages) and an
// encoder that always produces canonical bencode (dictionary keys sorted as raw bytes).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "peerwire/bencode.hpp"

namespace peerwire::bencode {

class value;
using list = std::vector<value>;
// std::string compares as unsigned bytes, which is exactly bencode's key order.
using dict = std::map<std::string, value, std::less<>>;

class value {
 public:
  value() : v_(std::int64_t{0}) {}
  value(std::int64_t i) : v_(i) {}                   // NOLINT: implicit for literal trees
  value(int i) : v_(std::int64_t{i}) {}              // NOLINT
  value(std::string s) : v_(std::move(s)) {}         // NOLINT
  value(std::string_view s) : v_(std::string(s)) {}  // NOLINT
  value(const char* s) : v_(std::string(s)) {}       // NOLINT
  value(list l) : v_(std::move(l)) {}                // NOLINT
  value(dict d) : v_(std::move(d)) {}                // NOLINT

  type kind() const { return static_cast<type>(v_.index()); }
  std::int64_t as_int() const { return std::get<std::int64_t>(v_); }
  const std::string& as_string() const { return std::get<std::string>(v_); }
  const list& as_list() const { return std::get<list>(v_); }
  list& as_list() { return std::get<list>(v_); }
  const dict& as_dict() const { return std::get<dict>(v_); }
  dict& as_dict() { return std::get<dict>(v_); }

  bool operator==(const value&) const = default;

 private:
  // Order matches enum type.
  std::variant<std::int64_t, std::string, list, dict> v_;
};

// Appends the canonical encoding of v to out.
void encode_to(std::string& out, const value& v);
std::string encode(const value& v);

// Re-encodes a decoded node canonically (keys sorted). For canonical input this returns
// exactly node.raw().
std::string encode(node n);

// Deep copy of a decoded node into an owning value.
value to_value(node n);

}  // namespace peerwire::bencode
