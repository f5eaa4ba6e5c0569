// disk_storage: argument checks in front of storage_core.
#include <algorithm>
#include <vector>

#include "errors.hpp"
#include "storage_core.hpp"

namespace peerwire::storage {

using internal::make_storage_error;

namespace {

// The mapping trusts offsets and sizes, so a hand-built metainfo is checked the way the
// parser already checks a real one.
std::optional<std::string> layout_problem(const metainfo& m) {
  if (m.piece_length <= 0) return "the piece length is not positive";
  if (m.pieces.empty()) return "the torrent has no pieces";
  std::int64_t pos = 0;
  for (const auto& f : m.files) {
    if (f.size < 0 || f.offset != pos) return "file offsets do not follow file sizes";
    if (f.path.empty()) return "a file has an empty path";
    for (const auto& c : f.path) {
      if (auto why = unsafe_path_component(c)) return "unsafe file path: " + *why;
    }
    pos += f.size;
  }
  if (pos != m.total_size) return "file sizes do not add up to the total size";
  auto count = (m.total_size + m.piece_length - 1) / m.piece_length;
  if (count != static_cast<std::int64_t>(m.pieces.size())) {
    return "the piece count does not match the total size";
  }
  return std::nullopt;
}

}  // namespace

storage_result<disk_storage> disk_storage::open(const metainfo& m, std::filesystem::path save_path,
                                                const storage_options& options) {
  if (auto why = layout_problem(m)) {
    return make_storage_error(error_kind::invalid_argument, "cannot store this torrent: " + *why);
  }
  if (save_path.empty()) {
    return make_storage_error(error_kind::invalid_argument, "the save path is empty");
  }
  metainfo layout = m;
  // Only the file layout and piece hashes are needed; drop the big decoration.
  layout.info_bytes = std::string();
  layout.trackers.clear();
  layout.web_seeds.clear();
  return disk_storage(
      std::make_unique<internal::storage_core>(std::move(layout), std::move(save_path), options));
}

disk_storage::disk_storage(std::unique_ptr<internal::storage_core> core) : core_(std::move(core)) {}
disk_storage::disk_storage(disk_storage&&) noexcept = default;
disk_storage& disk_storage::operator=(disk_storage&&) noexcept = default;
disk_storage::~disk_storage() = default;

const std::filesystem::path& disk_storage::save_path() const {
  return core_->root();
}

std::filesystem::path disk_storage::file_path(std::size_t file_index) const {
  return core_->file_path(file_index);
}

storage_result<void> disk_storage::write_piece(std::uint32_t piece,
                                               std::span<const std::uint8_t> data) {
  const metainfo& m = core_->layout();
  if (piece >= m.piece_count()) {
    return make_storage_error(error_kind::invalid_argument,
                              "piece " + std::to_string(piece) + " is out of range");
  }
  std::int64_t size = m.piece_size(piece);
  if (static_cast<std::int64_t>(data.size()) != size) {
    return make_storage_error(error_kind::invalid_argument,
                              "piece " + std::to_string(piece) + " has " +
                                  std::to_string(data.size()) + " bytes, expected " +
                                  std::to_string(size));
  }
  std::int64_t start = static_cast<std::int64_t>(piece) * m.piece_length;
  if (auto r = core_->write_bytes(start, data); !r) return r;
  return core_->create_empty_files(start, start + size);
}

storage_result<std::size_t> disk_storage::read(std::uint32_t piece, std::uint32_t offset,
                                               std::span<std::uint8_t> out) {
  const metainfo& m = core_->layout();
  if (piece >= m.piece_count() ||
      std::int64_t{offset} + static_cast<std::int64_t>(out.size()) > m.piece_size(piece)) {
    return make_storage_error(error_kind::invalid_argument,
                              "read of " + std::to_string(out.size()) + " bytes at offset " +
                                  std::to_string(offset) + " of piece " + std::to_string(piece) +
                                  " is out of range");
  }
  auto r = core_->read_bytes(static_cast<std::int64_t>(piece) * m.piece_length + offset, out);
  if (!r) return r.error();
  return out.size();
}

storage_result<sha1_digest> disk_storage::hash_piece(std::uint32_t piece) {
  const metainfo& m = core_->layout();
  if (piece >= m.piece_count()) {
    return make_storage_error(error_kind::invalid_argument,
                              "piece " + std::to_string(piece) + " is out of range");
  }
  std::int64_t size = m.piece_size(piece);
  std::vector<std::uint8_t> window(static_cast<std::size_t>(std::min(size, internal::hash_window)));
  return core_->hash_range(static_cast<std::int64_t>(piece) * m.piece_length, size, window);
}

storage_result<void> disk_storage::flush() {
  return core_->flush();
}

std::vector<file_stamp> disk_storage::stamps() const {
  std::vector<file_stamp> out;
  out.reserve(core_->layout().files.size());
  for (std::size_t i = 0; i < core_->layout().files.size(); ++i) out.push_back(core_->stamp(i));
  return out;
}

}  // namespace peerwire::storage
