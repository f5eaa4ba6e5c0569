// Bencode (BEP 3) decoding: a strict, zero-copy decoder.
//
// decode() validates the whole input once and records one small token per value in a single
// vector; nodes are (document, index) views and strings are views into the caller's buffer,
// so no per-node heap allocation happens. The caller keeps the input alive while the document
// is in use. Every value keeps its exact raw byte span (raw()), which is what the info-hash is
// computed over.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "peerwire/result.hpp"

namespace peerwire::bencode {

enum class type : std::uint8_t { integer, string, list, dict };

const char* type_name(type t);

// Decoder limits; the defaults match or beat libtorrent's load_torrent_limits.
struct limits {
  std::size_t max_input_size = 10 * 1024 * 1024;  // bytes (hard cap: 4 GiB - 1)
  std::size_t max_depth = 100;                    // nesting of lists/dicts
  std::size_t max_tokens = 3'000'000;             // values in the whole document
};

namespace detail {
struct token {
  std::uint32_t start;  // offset of the value's first byte ('i', a digit, 'l' or 'd')
  std::uint32_t end;    // offset one past its last byte
  std::uint32_t next;   // index of the token after this value's whole subtree
  std::uint32_t extra;  // string: header length ("12:"); list: items; dict: pairs
  type kind;
};
}  // namespace detail

class document;

class node {
 public:
  node() = default;

  type kind() const { return tok().kind; }
  bool is_int() const { return kind() == type::integer; }
  bool is_string() const { return kind() == type::string; }
  bool is_list() const { return kind() == type::list; }
  bool is_dict() const { return kind() == type::dict; }

  // Preconditions: the matching is_*() holds.
  std::int64_t as_int() const;
  std::string_view as_string() const;

  // The exact encoded bytes of this value, and where they start in the input.
  std::string_view raw() const;
  std::size_t offset() const { return tok().start; }

  // Number of list items or dict pairs (0 for scalars).
  std::size_t size() const;

  // Lists -------------------------------------------------------------------------------
  class list_iterator {
   public:
    using value_type = node;
    using difference_type = std::ptrdiff_t;
    list_iterator() = default;
    node operator*() const { return node(doc_, idx_); }
    list_iterator& operator++();
    list_iterator operator++(int) {
      auto copy = *this;
      ++*this;
      return copy;
    }
    bool operator==(const list_iterator& o) const { return idx_ == o.idx_; }

   private:
    friend class node;
    list_iterator(const document* d, std::uint32_t i) : doc_(d), idx_(i) {}
    const document* doc_ = nullptr;
    std::uint32_t idx_ = 0;
  };
  struct list_range {
    list_iterator first, last;
    list_iterator begin() const { return first; }
    list_iterator end() const { return last; }
  };
  // Precondition: is_list().
  list_range items() const;

  // Dicts -------------------------------------------------------------------------------
  class dict_iterator {
   public:
    using value_type = std::pair<std::string_view, node>;
    using difference_type = std::ptrdiff_t;
    dict_iterator() = default;
    value_type operator*() const;
    dict_iterator& operator++();
    dict_iterator operator++(int) {
      auto copy = *this;
      ++*this;
      return copy;
    }
    bool operator==(const dict_iterator& o) const { return idx_ == o.idx_; }

   private:
    friend class node;
    dict_iterator(const document* d, std::uint32_t i) : doc_(d), idx_(i) {}
    const document* doc_ = nullptr;
    std::uint32_t idx_ = 0;  // index of the key token
  };
  struct dict_range {
    dict_iterator first, last;
    dict_iterator begin() const { return first; }
    dict_iterator end() const { return last; }
  };
  // Precondition: is_dict(). Pairs in input order.
  dict_range pairs() const;

  // Lookup in a dict (nullopt if this is not a dict or the key is absent).
  std::optional<node> find(std::string_view key) const;
  // Typed lookups: nullopt if absent *or* of another type.
  std::optional<std::int64_t> find_int(std::string_view key) const;
  std::optional<std::string_view> find_string(std::string_view key) const;
  std::optional<node> find_list(std::string_view key) const;
  std::optional<node> find_dict(std::string_view key) const;

 private:
  friend class document;
  node(const document* d, std::uint32_t i) : doc_(d), idx_(i) {}
  const detail::token& tok() const;

  const document* doc_ = nullptr;
  std::uint32_t idx_ = 0;
};

class document {
 public:
  document() = default;
  // Nodes point at the document: moving it would leave them dangling, copying is not needed.
  document(document&&) noexcept = default;
  document& operator=(document&&) noexcept = default;
  document(const document&) = delete;
  document& operator=(const document&) = delete;

  node root() const { return node(this, 0); }
  std::string_view input() const { return input_; }
  std::size_t token_count() const { return tokens_.size(); }

 private:
  friend class node;
  friend result<document> decode(std::string_view, const limits&);
  std::string_view input_;
  std::vector<detail::token> tokens_;
};

// Decodes exactly one value spanning the whole input. Errors name what is wrong and the byte
// offset where it was found. Strict: no leading zeros, no "-0", no empty integers, string
// lengths within the input, dictionary keys are strings and unique (any order is accepted),
// nothing after the root value.
result<document> decode(std::string_view input, const limits& lim = {});

}  // namespace peerwire::bencode
