// Which pieces a restart must check again because files changed behind our back.
#include <algorithm>

#include "peerwire/resume.hpp"

namespace peerwire::storage {

std::vector<std::uint32_t> pieces_to_recheck(const metainfo& m, const resume_data& r,
                                             const std::vector<file_stamp>& current) {
  const std::size_t n = m.piece_count();
  std::vector<std::uint32_t> out;
  if (n == 0 || m.piece_length <= 0) return out;
  if (current.size() != m.files.size() || r.files.size() != m.files.size() || r.have.size() != n) {
    // Nothing to compare against: everything is suspect.
    out.resize(n);
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint32_t>(i);
    return out;
  }
  std::vector<std::uint8_t> touches_changed(n), touches_missing(n);
  for (std::size_t i = 0; i < m.files.size(); ++i) {
    const file_entry& f = m.files[i];
    if (f.pad || f.size == 0) continue;  // no bytes on disk that a piece could depend on
    bool missing = current[i].size < 0;
    bool changed = missing || current[i] != r.files[i] || current[i].size != f.size;
    if (!changed) continue;
    auto first = static_cast<std::size_t>(f.offset / m.piece_length);
    auto last = static_cast<std::size_t>((f.offset + f.size - 1) / m.piece_length);
    for (std::size_t p = first; p <= last && p < n; ++p) {
      touches_changed[p] = 1;
      if (missing) touches_missing[p] = 1;
    }
  }
  for (std::size_t p = 0; p < n; ++p) {
    // A piece not had that needs a missing file cannot be on disk: no point reading it.
    bool suspect = touches_missing[p] ? r.have[p] : touches_changed[p] != 0;
    if (suspect) out.push_back(static_cast<std::uint32_t>(p));
  }
  return out;
}

}  // namespace peerwire::storage
