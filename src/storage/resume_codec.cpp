// Resume data <-> bencode. The decoder treats its input as hostile (a resume file can be
// truncated by a crash of another program, edited, or copied from another torrent): the
// bencode limits come from the torrent's own size, and every value is checked before use.
#include <string>

#include "peerwire/bencode.hpp"
#include "peerwire/bencode_value.hpp"
#include "peerwire/resume.hpp"
#include "resume_limits.hpp"

namespace peerwire::storage {
namespace {

constexpr std::string_view format_name = "peerwire resume";

std::string pack_bits(const std::vector<bool>& bits) {
  std::string out((bits.size() + 7) / 8, '\0');
  for (std::size_t i = 0; i < bits.size(); ++i) {
    if (bits[i]) out[i / 8] = static_cast<char>(out[i / 8] | (0x80 >> (i % 8)));
  }
  return out;
}

// The largest well-formed encoding for this torrent, so a hostile file cannot make the
// decoder allocate more than the real thing would.
bencode::limits limits_for(const metainfo& m) {
  bencode::limits lim;
  lim.max_input_size = internal::max_resume_size(m);
  lim.max_depth = 3;
  lim.max_tokens = 32 + 3 * m.files.size();
  return lim;
}

failure bad(std::string why) {
  return make_error("invalid resume data: " + std::move(why));
}

}  // namespace

std::string encode_resume(const resume_data& r) {
  bencode::list files;
  files.reserve(r.files.size());
  for (const auto& f : r.files) files.emplace_back(bencode::list{f.size, f.mtime_ns});
  bencode::dict d;
  d["format"] = std::string(format_name);
  d["version"] = resume_format_version;
  d["info-hash"] = std::string(r.info_hash.bytes.begin(), r.info_hash.bytes.end());
  d["pieces"] = pack_bits(r.have);
  d["files"] = std::move(files);
  d["uploaded"] = r.uploaded;
  d["downloaded"] = r.downloaded;
  if (!r.unsynced_boot.empty()) d["unsynced boot"] = r.unsynced_boot;
  return bencode::encode(bencode::value(std::move(d)));
}

result<resume_data> decode_resume(std::string_view bytes, const metainfo& m) {
  auto doc = bencode::decode(bytes, limits_for(m));
  if (!doc) return bad(doc.error().describe());
  bencode::node root = doc->root();
  if (!root.is_dict()) return bad("not a dictionary");
  if (root.find_string("format") != format_name) return bad("not a peerwire resume file");
  auto version = root.find_int("version");
  if (version != resume_format_version) {
    return bad("unsupported format version " + (version ? std::to_string(*version) : "(none)"));
  }

  resume_data out;
  auto hash = root.find_string("info-hash");
  if (!hash || hash->size() != out.info_hash.bytes.size()) return bad("no 20-byte info-hash");
  std::copy(hash->begin(), hash->end(), out.info_hash.bytes.begin());
  if (!m.hash.v1 || *m.hash.v1 != out.info_hash) {
    return bad("it belongs to another torrent (info-hash " + out.info_hash.hex() + ")");
  }

  const std::size_t n = m.piece_count();
  auto bits = root.find_string("pieces");
  if (!bits || bits->size() != (n + 7) / 8) {
    return bad("the piece bitfield does not have " + std::to_string(n) + " bits");
  }
  out.have.resize(n);
  for (std::size_t i = 0; i < bits->size() * 8; ++i) {
    bool set = (static_cast<unsigned char>((*bits)[i / 8]) & (0x80 >> (i % 8))) != 0;
    if (i < n) {
      out.have[i] = set;
    } else if (set) {
      return bad("bits set past the last piece");
    }
  }

  auto files = root.find_list("files");
  if (!files || files->size() != m.files.size()) {
    return bad("the file list does not have " + std::to_string(m.files.size()) + " entries");
  }
  out.files.reserve(m.files.size());
  for (bencode::node f : files->items()) {
    if (!f.is_list() || f.size() != 2) return bad("a file entry is not [size, mtime]");
    auto it = f.items().begin();
    bencode::node size = *it++;
    bencode::node mtime = *it;
    if (!size.is_int() || !mtime.is_int() || size.as_int() < -1) {
      return bad("a file entry has an invalid size or mtime");
    }
    out.files.push_back({size.as_int(), mtime.as_int()});
  }

  for (auto [key, field] :
       {std::pair{"uploaded", &out.uploaded}, {"downloaded", &out.downloaded}}) {
    if (auto node = root.find(key)) {
      if (!node->is_int() || node->as_int() < 0) return bad(std::string(key) + " is invalid");
      *field = node->as_int();
    }
  }
  if (auto node = root.find("unsynced boot")) {
    if (!node->is_string() || node->as_string().empty() || node->as_string().size() > 64)
      return bad("unsynced boot is invalid");
    out.unsynced_boot = std::string(node->as_string());
  }
  return out;
}

}  // namespace peerwire::storage
