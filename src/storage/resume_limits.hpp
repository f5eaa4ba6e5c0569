// How large a resume file for a torrent can be, shared by the reader and the decoder.
#pragma once

#include <cstddef>

#include "peerwire/metainfo.hpp"

namespace peerwire::storage::internal {

// The largest well-formed encoding: fixed keys (with a 64-byte boot id), the bitfield, and per file
// "l" i<int64>e i<int64>e "e".
inline std::size_t max_resume_size(const metainfo& m) {
  return 1024 + m.piece_count() / 8 + m.files.size() * (2 + 2 * 22);
}

}  // namespace peerwire::storage::internal
