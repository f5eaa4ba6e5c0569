// Torrent byte ranges to file ranges. Files are laid end to end in metainfo order, so the file
// holding a byte is found by binary search over their offsets.
#include <algorithm>

#include "peerwire/storage.hpp"

namespace peerwire::storage {

std::vector<file_slice> map_range(const metainfo& m, std::int64_t torrent_offset,
                                  std::int64_t length) {
  std::vector<file_slice> out;
  std::int64_t begin = std::max<std::int64_t>(torrent_offset, 0);
  std::int64_t end = std::min(m.total_size, torrent_offset + std::max<std::int64_t>(length, 0));
  if (begin >= end) return out;
  // The first file that ends after `begin`: empty files end where they start and are skipped.
  auto it = std::upper_bound(m.files.begin(), m.files.end(), begin,
                             [](std::int64_t v, const file_entry& f) { return v < f.offset; });
  auto i = static_cast<std::size_t>(it - m.files.begin());
  i = i == 0 ? 0 : i - 1;
  std::int64_t pos = begin;
  for (; i < m.files.size() && pos < end; ++i) {
    const file_entry& f = m.files[i];
    std::int64_t file_end = f.offset + f.size;
    if (file_end <= pos) continue;
    std::int64_t take = std::min(end, file_end) - pos;
    out.push_back(file_slice{i, pos - f.offset, take, pos - begin});
    pos += take;
  }
  return out;
}

}  // namespace peerwire::storage
