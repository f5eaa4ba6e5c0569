// Choosing, checking and parsing piece lengths.
#include <bit>
#include <cctype>
#include <charconv>
#include <string>

#include "peerwire/create.hpp"

namespace peerwire {
namespace {

// About 2000 pieces keeps the .torrent small (40 KB of hashes) while pieces stay small enough
// to verify and share early; it is the range mainstream creators aim for.
constexpr std::int64_t target_pieces = 2000;

// "2 MiB", "256 KiB", "1000 bytes": for messages.
std::string human(std::int64_t n) {
  if (n >= (1 << 20) && n % (1 << 20) == 0) return std::to_string(n >> 20) + " MiB";
  if (n >= (1 << 10) && n % (1 << 10) == 0) return std::to_string(n >> 10) + " KiB";
  return std::to_string(n) + " bytes";
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

// Binary shift for a unit suffix, or -1 when the suffix is not a unit.
int unit_shift(std::string_view unit) {
  if (unit.empty() || iequals(unit, "b")) return 0;
  static constexpr struct {
    char letter;
    int shift;
  } units[] = {{'k', 10}, {'m', 20}, {'g', 30}};
  for (auto u : units) {
    std::string one(1, u.letter);
    if (iequals(unit, one) || iequals(unit, one + "b") || iequals(unit, one + "ib")) return u.shift;
  }
  return -1;
}

}  // namespace

std::int64_t auto_piece_length(std::int64_t total_size) {
  std::int64_t length = min_piece_length;
  while (length < max_auto_piece_length && (total_size + length - 1) / length > target_pieces)
    length *= 2;
  return length;
}

std::optional<std::string> piece_length_problem(std::int64_t length) {
  if (length <= 0) return "piece size must be positive";
  if (!std::has_single_bit(static_cast<std::uint64_t>(length)))
    return "piece size " + human(length) + " is not a power of two";
  if (length < min_piece_length) {
    return "piece size " + human(length) + " is below the 16 KiB minimum";
  }
  if (length > max_piece_length) return "piece size " + human(length) + " is above 512 MiB";
  return std::nullopt;
}

result<std::int64_t> parse_piece_length(std::string_view text) {
  if (iequals(text, "auto")) return std::int64_t{0};
  auto bad = [&] {
    return make_error("invalid piece size '" + std::string(text) +
                      "': expected auto, a number of bytes, or a number with K, M or G (256K, "
                      "4MiB)");
  };
  std::uint64_t number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc{} || end == text.data()) return bad();
  int shift = unit_shift(std::string_view(end, text.data() + text.size() - end));
  if (shift < 0) return bad();
  if (number > (std::uint64_t{1} << 40) >> shift) {
    return make_error("piece size '" + std::string(text) + "' is above 512 MiB");
  }
  auto length = static_cast<std::int64_t>(number << shift);
  if (auto problem = piece_length_problem(length)) {
    // mktorrent's -l takes an exponent: someone used to it may type 21 meaning 2 MiB.
    if (shift == 0 && number >= 14 && number <= 29) {
      std::int64_t meant = std::int64_t{1} << number;
      *problem +=
          "; for 2^" + std::to_string(number) + " write " +
          (number >= 20 ? std::to_string(meant >> 20) + "M" : std::to_string(meant >> 10) + "K");
    }
    return make_error(*problem);
  }
  return length;
}

}  // namespace peerwire
