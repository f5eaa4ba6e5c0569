// Decoder configuration: derived limits and piece sizes.
#include <algorithm>
#include <stdexcept>

#include "peerwire/wire.hpp"

namespace peerwire::wire {

namespace {

std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) {
  return a / b + (a % b != 0 ? 1 : 0);
}

}  // namespace

decoder_config decoder_config::for_torrent(std::uint32_t piece_length, std::uint64_t total_size) {
  if (piece_length == 0 || total_size == 0)
    throw std::invalid_argument("decoder_config::for_torrent: sizes must be non-zero");
  const std::uint64_t count = ceil_div(total_size, piece_length);
  if (count > 0xffffffffu) throw std::invalid_argument("decoder_config: too many pieces");
  decoder_config cfg;
  cfg.piece_count = static_cast<std::uint32_t>(count);
  cfg.piece_length = piece_length;
  cfg.total_size = total_size;
  return cfg;
}

std::uint32_t max_message_length(const decoder_config& cfg) {
  const std::uint64_t block =
      std::clamp<std::uint32_t>(cfg.max_request_length, 1, max_block_length_cap);
  std::uint64_t limit = 13;                // request, cancel and reject: the largest fixed size
  limit = std::max(limit, 1 + 8 + block);  // piece: id, index, offset, block
  if (cfg.piece_count != 0) limit = std::max(limit, 1 + ceil_div(cfg.piece_count, 8));
  if (cfg.extensions_enabled) limit = std::max(limit, 2 + std::uint64_t{cfg.max_extended_length});
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(limit, 0xffffffffu));
}

std::uint32_t piece_size(const decoder_config& cfg, std::uint32_t index) {
  if (cfg.piece_length == 0 || cfg.total_size == 0) return 0;
  const std::uint64_t count = ceil_div(cfg.total_size, cfg.piece_length);
  if (index >= count) return 0;
  if (index + 1 < count) return cfg.piece_length;
  return static_cast<std::uint32_t>(cfg.total_size - std::uint64_t{index} * cfg.piece_length);
}

}  // namespace peerwire::wire
