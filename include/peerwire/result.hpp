// A value-or-error result for protocol boundaries (C++20 has no std::expected).
// Parsers of untrusted bytes return result<T>; exceptions are kept for programmer errors.
#pragma once

#include <cstddef>
#include <limits>
#include <string>
#include <utility>
#include <variant>

namespace peerwire {

// Why a piece of input was rejected, and where. `offset` is a byte offset into the input
// when the failure has a position (bencode syntax), otherwise no_offset.
struct failure {
  static constexpr std::size_t no_offset = std::numeric_limits<std::size_t>::max();

  std::string message;
  std::size_t offset = no_offset;

  // "message" or "message (at byte N)"
  std::string describe() const {
    if (offset == no_offset) return message;
    return message + " (at byte " + std::to_string(offset) + ")";
  }
};

template <class T>
class [[nodiscard]] result {
 public:
  result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit on purpose
  result(failure e) : v_(std::in_place_index<1>, std::move(e)) {}    // NOLINT

  bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const failure& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, failure> v_;
};

inline failure make_error(std::string message, std::size_t offset = failure::no_offset) {
  return failure{std::move(message), offset};
}

}  // namespace peerwire
