#include <algorithm>
#include <charconv>

#include "peerwire/bencode_value.hpp"

namespace peerwire::bencode {
namespace {

void put_int(std::string& out, std::int64_t i) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, i);
  out.append(buf, r.ptr);
}

void put_string(std::string& out, std::string_view s) {
  put_int(out, static_cast<std::int64_t>(s.size()));
  out.push_back(':');
  out.append(s);
}

void encode_node(std::string& out, node n) {
  switch (n.kind()) {
    case type::integer:
      out.push_back('i');
      put_int(out, n.as_int());
      out.push_back('e');
      break;
    case type::string:
      put_string(out, n.as_string());
      break;
    case type::list:
      out.push_back('l');
      for (node item : n.items()) encode_node(out, item);
      out.push_back('e');
      break;
    case type::dict: {
      std::vector<std::pair<std::string_view, node>> pairs;
      pairs.reserve(n.size());
      for (auto p : n.pairs()) pairs.push_back(p);
      std::stable_sort(pairs.begin(), pairs.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
      out.push_back('d');
      for (auto& [k, v] : pairs) {
        put_string(out, k);
        encode_node(out, v);
      }
      out.push_back('e');
      break;
    }
  }
}

}  // namespace

void encode_to(std::string& out, const value& v) {
  switch (v.kind()) {
    case type::integer:
      out.push_back('i');
      put_int(out, v.as_int());
      out.push_back('e');
      break;
    case type::string:
      put_string(out, v.as_string());
      break;
    case type::list:
      out.push_back('l');
      for (const value& item : v.as_list()) encode_to(out, item);
      out.push_back('e');
      break;
    case type::dict:
      out.push_back('d');
      for (const auto& [k, item] : v.as_dict()) {
        put_string(out, k);
        encode_to(out, item);
      }
      out.push_back('e');
      break;
  }
}

std::string encode(const value& v) {
  std::string out;
  encode_to(out, v);
  return out;
}

std::string encode(node n) {
  std::string out;
  out.reserve(n.raw().size());
  encode_node(out, n);
  return out;
}

value to_value(node n) {
  switch (n.kind()) {
    case type::integer:
      return value(n.as_int());
    case type::string:
      return value(n.as_string());
    case type::list: {
      list l;
      l.reserve(n.size());
      for (node item : n.items()) l.push_back(to_value(item));
      return value(std::move(l));
    }
    case type::dict: {
      dict d;
      for (auto [k, v] : n.pairs()) d.emplace(std::string(k), to_value(v));
      return value(std::move(d));
    }
  }
  return value();
}

}  // namespace peerwire::bencode
