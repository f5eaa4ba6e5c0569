// Path safety for file names that come from untrusted .torrent files. A torrent decides where
// bytes are written, so any component that could escape the download directory, address a
// device, or be read differently by another tool is rejected, never silently rewritten.
#include <string>

#include "peerwire/metainfo.hpp"

namespace peerwire {

std::string file_entry::joined_path() const {
  std::string out;
  for (const auto& c : path) {
    if (!out.empty()) out.push_back('/');
    out += c;
  }
  return out;
}

std::optional<std::string> unsafe_path_component(std::string_view c) {
  if (c.empty()) return "empty path component";
  if (c == ".") return "path component '.'";
  if (c == "..") return "path component '..' would leave the download directory";
  if (c.size() > 255) return "path component longer than 255 bytes";
  for (char ch : c) {
    auto u = static_cast<unsigned char>(ch);
    if (ch == '/') return "path component contains '/'";
    if (ch == '\\') return "path component contains '\\'";
    if (u == 0) return "path component contains a NUL byte";
    if (u < 0x20 || u == 0x7f) return "path component contains a control character";
  }
  return std::nullopt;
}

}  // namespace peerwire
