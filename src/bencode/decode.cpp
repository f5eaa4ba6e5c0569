#include <algorithm>
#include <cstring>
#include <limits>
#include <string>

#include "peerwire/bencode.hpp"

namespace peerwire::bencode {

const char* type_name(type t) {
  switch (t) {
    case type::integer:
      return "integer";
    case type::string:
      return "string";
    case type::list:
      return "list";
    case type::dict:
      return "dictionary";
  }
  return "?";
}

namespace {

using detail::token;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Printable description of the byte at `pos` for error messages.
std::string describe_byte(char c) {
  auto u = static_cast<unsigned char>(c);
  if (u >= 0x21 && u < 0x7f) return std::string("'") + c + "'";
  static constexpr char hex[] = "0123456789abcdef";
  return std::string("byte 0x") + hex[u >> 4] + hex[u & 15];
}

// Parses the digits of an integer body in [pos, end) where end is the 'e' or ':' terminator.
// Returns the value or an error for empty, leading-zero, negative-zero and overflowing input.
struct int_parse {
  std::int64_t value = 0;
  const char* problem = nullptr;  // non-null on error
  std::size_t problem_at = 0;
};

int_parse parse_integer(std::string_view in, std::size_t pos, std::size_t stop, bool allow_sign) {
  int_parse r;
  bool negative = false;
  std::size_t p = pos;
  if (allow_sign && p < stop && in[p] == '-') {
    negative = true;
    ++p;
  }
  if (p == stop) {
    r.problem = "empty integer";
    r.problem_at = pos;
    return r;
  }
  if (in[p] == '0' && p + 1 < stop) {
    r.problem = "integer has a leading zero";
    r.problem_at = p;
    return r;
  }
  if (negative && in[p] == '0') {
    r.problem = "negative zero is not a valid integer";
    r.problem_at = pos;
    return r;
  }
  // Accumulate as a negative number so INT64_MIN is representable.
  std::int64_t acc = 0;
  constexpr std::int64_t min = std::numeric_limits<std::int64_t>::min();
  for (; p < stop; ++p) {
    if (!is_digit(in[p])) {
      r.problem = "invalid character in integer";
      r.problem_at = p;
      return r;
    }
    int digit = in[p] - '0';
    if (acc < (min + digit) / 10) {
      r.problem = "integer does not fit in 64 bits";
      r.problem_at = pos;
      return r;
    }
    acc = acc * 10 - digit;
  }
  if (!negative) {
    if (acc == min) {
      r.problem = "integer does not fit in 64 bits";
      r.problem_at = pos;
      return r;
    }
    acc = -acc;
  }
  r.value = acc;
  return r;
}

struct frame {
  std::uint32_t token;      // container token index
  std::uint32_t items = 0;  // list items, or dict keys+values seen
  bool dict = false;
  bool sorted = true;  // dict keys seen so far are strictly increasing
  std::string_view last_key;
};

class decoder {
 public:
  decoder(std::string_view in, const limits& lim, std::vector<token>& out)
      : in_(in), lim_(lim), tokens_(out) {}

  std::optional<failure> run() {
    if (in_.empty()) return make_error("empty input: expected a bencoded value", 0);
    std::size_t hard_cap = std::numeric_limits<std::uint32_t>::max() - 1;
    if (in_.size() > std::min(lim_.max_input_size, hard_cap)) {
      return make_error("input is " + std::to_string(in_.size()) +
                        " bytes, larger than the limit of " +
                        std::to_string(std::min(lim_.max_input_size, hard_cap)) + " bytes");
    }
    tokens_.reserve(std::min<std::size_t>(in_.size() / 4 + 1, lim_.max_tokens));
    std::vector<frame> stack;
    std::size_t pos = 0;
    bool root_done = false;
    while (!root_done) {
      if (pos >= in_.size()) {
        return make_error(stack.empty() ? "unexpected end of input"
                                        : std::string("unexpected end of input inside a ") +
                                              type_name(tokens_[stack.back().token].kind) +
                                              " opened at byte " +
                                              std::to_string(tokens_[stack.back().token].start),
                          pos);
      }
      char c = in_[pos];
      if (c == 'e') {
        if (stack.empty()) return make_error("unexpected 'e' where a value was expected", pos);
        frame& f = stack.back();
        if (f.dict && f.items % 2 == 1) {
          return make_error("dictionary key without a value", pos);
        }
        if (f.dict && !f.sorted) {
          if (auto e = check_unique_keys(f)) return e;
        }
        token& t = tokens_[f.token];
        t.end = static_cast<std::uint32_t>(pos + 1);
        t.next = static_cast<std::uint32_t>(tokens_.size());
        t.extra = f.dict ? f.items / 2 : f.items;
        stack.pop_back();
        ++pos;
        if (stack.empty()) root_done = true;
        continue;
      }

      // A value starts here. Inside a dict at key position it must be a string.
      bool is_key = !stack.empty() && stack.back().dict && stack.back().items % 2 == 0;
      if (is_key && !is_digit(c)) {
        return make_error("dictionary key must be a string, found " + describe_byte(c), pos);
      }
      if (tokens_.size() >= lim_.max_tokens) {
        return make_error("more than " + std::to_string(lim_.max_tokens) + " values", pos);
      }
      auto index = static_cast<std::uint32_t>(tokens_.size());
      std::size_t start = pos;
      if (c == 'i') {
        std::size_t stop = in_.find('e', pos + 1);
        if (stop == std::string_view::npos) return make_error("unterminated integer", pos);
        int_parse p = parse_integer(in_, pos + 1, stop, true);
        if (p.problem) return make_error(p.problem, p.problem_at);
        pos = stop + 1;
        tokens_.push_back(token{u32(start), u32(pos), index + 1, 0, type::integer});
      } else if (is_digit(c)) {
        std::size_t colon = pos;
        while (colon < in_.size() && colon - pos <= 10 && is_digit(in_[colon])) ++colon;
        if (colon >= in_.size()) return make_error("unterminated string length", pos);
        if (in_[colon] != ':') {
          if (colon - pos > 10) return make_error("string length is too long", pos);
          return make_error("expected ':' after string length, found " + describe_byte(in_[colon]),
                            colon);
        }
        int_parse p = parse_integer(in_, pos, colon, false);
        if (p.problem) return make_error(std::string("string length: ") + p.problem, p.problem_at);
        std::size_t remaining = in_.size() - (colon + 1);
        if (static_cast<std::uint64_t>(p.value) > remaining) {
          return make_error("string of " + std::to_string(p.value) + " bytes but only " +
                                std::to_string(remaining) + " bytes remain",
                            pos);
        }
        std::size_t header = colon + 1 - pos;
        pos = colon + 1 + static_cast<std::size_t>(p.value);
        tokens_.push_back(token{u32(start), u32(pos), index + 1, u32(header), type::string});
        if (is_key) {
          frame& f = stack.back();
          std::string_view key = in_.substr(colon + 1, static_cast<std::size_t>(p.value));
          if (f.items > 0 && f.sorted) {
            if (key == f.last_key)
              return make_error("duplicate dictionary key " + quote(key), start);
            if (key < f.last_key) f.sorted = false;
          }
          f.last_key = key;
        }
      } else if (c == 'l' || c == 'd') {
        if (stack.size() >= lim_.max_depth) {
          return make_error("nesting deeper than " + std::to_string(lim_.max_depth) + " levels",
                            pos);
        }
        tokens_.push_back(token{u32(start), 0, 0, 0, c == 'l' ? type::list : type::dict});
        if (!stack.empty()) ++stack.back().items;
        stack.push_back(frame{index, 0, c == 'd', true, {}});
        ++pos;
        continue;
      } else {
        return make_error("expected a value, found " + describe_byte(c), pos);
      }
      if (stack.empty()) {
        root_done = true;
      } else {
        ++stack.back().items;
      }
    }
    if (pos != in_.size()) {
      return make_error(
          std::to_string(in_.size() - pos) + " bytes of trailing data after the value", pos);
    }
    return std::nullopt;
  }

 private:
  static std::uint32_t u32(std::size_t v) { return static_cast<std::uint32_t>(v); }

  static std::string quote(std::string_view s) {
    std::string out = "'";
    for (char c : s.substr(0, 64)) {
      auto u = static_cast<unsigned char>(c);
      out += (u >= 0x20 && u < 0x7f) ? c : '?';
    }
    if (s.size() > 64) out += "...";
    return out + "'";
  }

  // Keys arrived out of order: sort a copy and look for neighbours that are equal.
  std::optional<failure> check_unique_keys(const frame& f) {
    std::vector<std::pair<std::string_view, std::uint32_t>> keys;
    keys.reserve(f.items / 2);
    for (std::uint32_t i = f.token + 1; i < tokens_.size(); i = tokens_[i + 1].next) {
      const token& k = tokens_[i];
      keys.emplace_back(in_.substr(k.start + k.extra, k.end - k.start - k.extra), k.start);
    }
    std::sort(keys.begin(), keys.end());
    for (std::size_t i = 1; i < keys.size(); ++i) {
      if (keys[i].first == keys[i - 1].first) {
        return make_error("duplicate dictionary key " + quote(keys[i].first),
                          std::max(keys[i].second, keys[i - 1].second));
      }
    }
    return std::nullopt;
  }

  std::string_view in_;
  const limits& lim_;
  std::vector<token>& tokens_;
};

}  // namespace

result<document> decode(std::string_view input, const limits& lim) {
  document doc;
  doc.input_ = input;
  decoder d(input, lim, doc.tokens_);
  if (auto e = d.run()) return std::move(*e);
  return doc;
}

// ---- node -----------------------------------------------------------------------------

const detail::token& node::tok() const {
  return doc_->tokens_[idx_];
}

std::int64_t node::as_int() const {
  const auto& t = tok();
  // Validated by decode(); re-parsing avoids storing 8 more bytes in every token.
  return parse_integer(doc_->input_, t.start + 1, t.end - 1, true).value;
}

std::string_view node::as_string() const {
  const auto& t = tok();
  return doc_->input_.substr(t.start + t.extra, t.end - t.start - t.extra);
}

std::string_view node::raw() const {
  const auto& t = tok();
  return doc_->input_.substr(t.start, t.end - t.start);
}

std::size_t node::size() const {
  const auto& t = tok();
  return (t.kind == type::list || t.kind == type::dict) ? t.extra : 0;
}

node::list_iterator& node::list_iterator::operator++() {
  idx_ = doc_->tokens_[idx_].next;
  return *this;
}

node::list_range node::items() const {
  const auto& t = tok();
  return {list_iterator(doc_, idx_ + 1), list_iterator(doc_, t.next)};
}

node::dict_iterator::value_type node::dict_iterator::operator*() const {
  node key(doc_, idx_);
  return {key.as_string(), node(doc_, idx_ + 1)};
}

node::dict_iterator& node::dict_iterator::operator++() {
  idx_ = doc_->tokens_[idx_ + 1].next;
  return *this;
}

node::dict_range node::pairs() const {
  const auto& t = tok();
  return {dict_iterator(doc_, idx_ + 1), dict_iterator(doc_, t.next)};
}

std::optional<node> node::find(std::string_view key) const {
  if (doc_ == nullptr || !is_dict()) return std::nullopt;
  for (auto [k, v] : pairs()) {
    if (k == key) return v;
  }
  return std::nullopt;
}

std::optional<std::int64_t> node::find_int(std::string_view key) const {
  auto n = find(key);
  if (!n || !n->is_int()) return std::nullopt;
  return n->as_int();
}

std::optional<std::string_view> node::find_string(std::string_view key) const {
  auto n = find(key);
  if (!n || !n->is_string()) return std::nullopt;
  return n->as_string();
}

std::optional<node> node::find_list(std::string_view key) const {
  auto n = find(key);
  if (!n || !n->is_list()) return std::nullopt;
  return n;
}

std::optional<node> node::find_dict(std::string_view key) const {
  auto n = find(key);
  if (!n || !n->is_dict()) return std::nullopt;
  return n;
}

}  // namespace peerwire::bencode
