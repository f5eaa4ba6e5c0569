// Bitfield arithmetic: how many pieces a peer has, and what share of the torrent.
#include <bit>

#include "peerwire/wire.hpp"

namespace peerwire::wire {

std::size_t count_pieces(bytes_view bits, std::uint32_t piece_count) {
  std::size_t bytes = bits.size();
  if (piece_count != 0) bytes = std::min<std::size_t>(bytes, (std::size_t{piece_count} + 7) / 8);
  std::size_t n = 0;
  for (std::size_t i = 0; i < bytes; ++i) {
    std::uint8_t b = bits[i];
    // Ignore (possibly set) spare bits of the last piece byte.
    if (piece_count != 0 && i == bytes - 1 && i == (piece_count - 1) / 8) {
      const unsigned used = piece_count - 8 * static_cast<unsigned>(i);
      b &= static_cast<std::uint8_t>(0xff00u >> used);
    }
    n += static_cast<std::size_t>(std::popcount(b));
  }
  return n;
}

double completion_percent(bytes_view bits, std::uint32_t piece_count) {
  if (piece_count == 0) return 0.0;
  return 100.0 * static_cast<double>(count_pieces(bits, piece_count)) / piece_count;
}

bool has_piece(bytes_view bits, std::uint32_t index) {
  const std::size_t byte = index / 8;
  return byte < bits.size() && (bits[byte] & (0x80u >> (index % 8))) != 0;
}

}  // namespace peerwire::wire
