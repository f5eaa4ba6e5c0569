#include "peerwire/metainfo.hpp"

#include <algorithm>
#include <limits>

#include "peerwire/sha1.hpp"

namespace peerwire {
namespace {

using bencode::node;

failure fail_at(const node& n, std::string message) {
  return make_error(std::move(message), n.offset());
}

// Prefer the "key.utf-8" variant some creators add next to a legacy-encoded key.
std::optional<node> find_utf8(const node& dict, std::string_view key) {
  std::string alt = std::string(key) + ".utf-8";
  if (auto n = dict.find(alt)) return n;
  return dict.find(key);
}

std::string describe_path(const std::vector<std::string>& components) {
  std::string out;
  for (const auto& c : components) {
    if (!out.empty()) out += '/';
    for (char ch : c) {
      auto u = static_cast<unsigned char>(ch);
      out += (u < 0x20 || u == 0x7f) ? '?' : ch;
    }
  }
  return "'" + out + "'";
}

// Finds two files with the same path, or a file that another file uses as a directory.
// Paths are joined with NUL (which no component contains) into one buffer and sorted
// bytewise: equal paths become neighbours, and every path that has file P as a directory
// prefix ("P\0...") sorts right after P, so checking neighbours is enough. O(n log n) memcmp,
// no per-file allocation.
std::optional<std::pair<std::size_t, std::string>> find_path_clash(
    const std::vector<file_entry>& files) {
  std::string joined;
  std::vector<std::pair<std::size_t, std::size_t>> spans;  // (offset, length) into joined
  std::vector<std::size_t> owner;                          // file index of each span
  spans.reserve(files.size());
  owner.reserve(files.size());
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (files[i].pad) continue;
    std::size_t start = joined.size();
    for (std::size_t c = 0; c < files[i].path.size(); ++c) {
      if (c > 0) joined.push_back('\0');
      joined += files[i].path[c];
    }
    spans.emplace_back(start, joined.size() - start);
    owner.push_back(i);
  }
  std::vector<std::uint32_t> order(spans.size());
  for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  auto view = [&](std::uint32_t i) {
    return std::string_view(joined).substr(spans[i].first, spans[i].second);
  };
  std::sort(order.begin(), order.end(),
            [&](std::uint32_t a, std::uint32_t b) { return view(a) < view(b); });
  for (std::size_t k = 1; k < order.size(); ++k) {
    std::string_view prev = view(order[k - 1]);
    std::string_view cur = view(order[k]);
    if (cur == prev) return std::pair{owner[order[k]], std::string("two files have the same path")};
    if (cur.size() > prev.size() && cur.substr(0, prev.size()) == prev &&
        cur[prev.size()] == '\0') {
      return std::pair{owner[order[k - 1]],
                       std::string("a file is also used as a directory by another file")};
    }
  }
  return std::nullopt;
}

std::optional<failure> parse_file_list(const node& files_node, const std::string& name,
                                       const metainfo_limits& lim, metainfo& out) {
  if (files_node.size() == 0) return fail_at(files_node, "info.files is an empty list");
  if (files_node.size() > lim.max_files) {
    return fail_at(files_node, "info.files has " + std::to_string(files_node.size()) +
                                   " entries, more than the limit of " +
                                   std::to_string(lim.max_files));
  }
  out.files.reserve(files_node.size());
  for (node f : files_node.items()) {
    if (!f.is_dict()) return fail_at(f, "info.files entry is not a dictionary");
    auto length = f.find_int("length");
    if (!length) return fail_at(f, "info.files entry has no integer 'length'");
    if (*length < 0) return fail_at(*f.find("length"), "info.files entry has a negative length");
    auto path_node = find_utf8(f, "path");
    if (!path_node || !path_node->is_list())
      return fail_at(f, "info.files entry has no 'path' list");
    if (path_node->size() == 0) return fail_at(*path_node, "info.files entry has an empty path");
    if (path_node->size() + 1 > lim.max_path_depth) {
      return fail_at(*path_node,
                     "file path is deeper than " + std::to_string(lim.max_path_depth) + " levels");
    }
    file_entry e;
    e.size = *length;
    e.path.reserve(path_node->size() + 1);
    e.path.push_back(name);
    for (node c : path_node->items()) {
      if (!c.is_string()) return fail_at(c, "file path component is not a string");
      e.path.emplace_back(c.as_string());
    }
    if (auto attr = f.find_string("attr")) {
      e.pad = attr->find('p') != std::string_view::npos;
      e.executable = attr->find('x') != std::string_view::npos;
      e.hidden = attr->find('h') != std::string_view::npos;
    }
    for (std::size_t i = 1; i < e.path.size(); ++i) {
      if (auto why = unsafe_path_component(e.path[i])) {
        return fail_at(*path_node, "unsafe file path " + describe_path(e.path) + ": " + *why);
      }
    }
    if (out.total_size > std::numeric_limits<std::int64_t>::max() - e.size) {
      return fail_at(f, "total size of the files overflows 64 bits");
    }
    e.offset = out.total_size;
    out.total_size += e.size;
    out.files.push_back(std::move(e));
  }
  // Padding files may repeat (".pad/16384" several times) and are never created, so only real
  // files take part in the clash check.
  if (auto clash = find_path_clash(out.files)) {
    return fail_at(files_node, "file path " + describe_path(out.files[clash->first].path) +
                                   " rejected: " + clash->second);
  }
  return std::nullopt;
}

std::optional<failure> parse_info(const node& info, const metainfo_limits& lim, metainfo& out) {
  auto name_node = find_utf8(info, "name");
  if (!name_node || !name_node->is_string()) return fail_at(info, "info has no 'name' string");
  out.name = std::string(name_node->as_string());
  if (auto why = unsafe_path_component(out.name)) {
    return fail_at(*name_node, "unsafe torrent name " + describe_path({out.name}) + ": " + *why);
  }

  auto pl = info.find("piece length");
  if (!pl || !pl->is_int()) return fail_at(info, "info has no integer 'piece length'");
  if (pl->as_int() <= 0 || pl->as_int() > lim.max_piece_length) {
    return fail_at(*pl, "piece length " + std::to_string(pl->as_int()) + " is out of range (1 to " +
                            std::to_string(lim.max_piece_length) + ")");
  }
  out.piece_length = pl->as_int();

  auto pieces = info.find("pieces");
  if (!pieces || !pieces->is_string()) return fail_at(info, "info has no 'pieces' string");
  std::string_view hashes = pieces->as_string();
  if (hashes.size() % 20 != 0) {
    return fail_at(*pieces, "info.pieces length " + std::to_string(hashes.size()) +
                                " is not a multiple of 20");
  }
  if (hashes.size() / 20 > lim.max_pieces) {
    return fail_at(*pieces, "torrent has " + std::to_string(hashes.size() / 20) +
                                " pieces, more than the limit of " +
                                std::to_string(lim.max_pieces));
  }

  auto length = info.find("length");
  auto files = info.find("files");
  if (length && files) return fail_at(info, "info has both 'length' and 'files'");
  if (files) {
    if (!files->is_list()) return fail_at(*files, "info.files is not a list");
    out.multi_file = true;
    if (auto e = parse_file_list(*files, out.name, lim, out)) return e;
  } else if (length) {
    if (!length->is_int()) return fail_at(*length, "info.length is not an integer");
    if (length->as_int() < 0) return fail_at(*length, "info.length is negative");
    file_entry e;
    e.path = {out.name};
    e.size = length->as_int();
    if (auto attr = info.find_string("attr"))
      e.executable = attr->find('x') != std::string_view::npos;
    out.total_size = e.size;
    out.files.push_back(std::move(e));
  } else {
    return fail_at(info, "info has neither 'length' nor 'files'");
  }

  if (out.total_size == 0) return fail_at(info, "torrent contains no data (total size is 0)");
  std::int64_t expected = (out.total_size - 1) / out.piece_length + 1;
  if (static_cast<std::int64_t>(hashes.size() / 20) != expected) {
    return fail_at(*pieces, "info.pieces has " + std::to_string(hashes.size() / 20) +
                                " hashes but the files need " + std::to_string(expected) +
                                " pieces of " + std::to_string(out.piece_length) + " bytes");
  }
  out.pieces.resize(hashes.size() / 20);
  for (std::size_t i = 0; i < out.pieces.size(); ++i) {
    std::copy_n(reinterpret_cast<const std::uint8_t*>(hashes.data()) + i * 20, 20,
                out.pieces[i].begin());
  }

  if (auto p = info.find_int("private")) out.is_private = *p == 1;
  if (auto s = info.find_string("source")) out.source = std::string(*s);

  out.info_bytes = std::string(info.raw());
  out.hash.v1 = sha1_hash{sha1(info.raw())};
  return std::nullopt;
}

// Trackers and web seeds are decoration: malformed entries are skipped, not fatal, as other
// clients do, because a torrent with one bad tracker URL is still a good torrent.
void parse_trackers(const node& root, metainfo& out) {
  if (auto a = root.find_string("announce")) out.announce = std::string(*a);
  if (auto list = root.find_list("announce-list")) {
    for (node tier : list->items()) {
      if (!tier.is_list()) continue;
      std::vector<std::string> urls;
      for (node url : tier.items()) {
        if (url.is_string() && !url.as_string().empty()) urls.emplace_back(url.as_string());
      }
      if (!urls.empty()) out.trackers.push_back(std::move(urls));
    }
  }
  if (out.trackers.empty() && !out.announce.empty()) out.trackers.push_back({out.announce});

  if (auto ws = root.find("url-list")) {
    if (ws->is_string() && !ws->as_string().empty()) {
      out.web_seeds.emplace_back(ws->as_string());
    } else if (ws->is_list()) {
      for (node url : ws->items()) {
        if (url.is_string() && !url.as_string().empty())
          out.web_seeds.emplace_back(url.as_string());
      }
    }
  }
}

void parse_decoration(const node& root, metainfo& out) {
  if (auto d = root.find_int("creation date"); d && *d > 0) out.creation_date = *d;
  if (auto c = find_utf8(root, "comment"); c && c->is_string())
    out.comment = std::string(c->as_string());
  if (auto c = find_utf8(root, "created by"); c && c->is_string()) {
    out.created_by = std::string(c->as_string());
  }
  if (auto e = root.find_string("encoding")) out.encoding = std::string(*e);
}

}  // namespace

std::int64_t metainfo::piece_size(std::size_t i) const {
  if (i + 1 < pieces.size()) return piece_length;
  return total_size - piece_length * static_cast<std::int64_t>(pieces.size() - 1);
}

std::int64_t metainfo::content_size() const {
  std::int64_t n = 0;
  for (const auto& f : files) {
    if (!f.pad) n += f.size;
  }
  return n;
}

result<metainfo> parse_metainfo(std::string_view torrent_file, const metainfo_limits& lim) {
  auto doc = bencode::decode(torrent_file, lim.bencode);
  if (!doc) return doc.error();
  node root = doc->root();
  if (!root.is_dict()) return fail_at(root, "a .torrent file must be a dictionary");
  auto info = root.find("info");
  if (!info) return fail_at(root, "missing 'info' dictionary");
  if (!info->is_dict()) return fail_at(*info, "'info' is not a dictionary");
  metainfo out;
  if (auto e = parse_info(*info, lim, out)) return *e;
  parse_trackers(root, out);
  parse_decoration(root, out);
  return out;
}

result<metainfo> parse_info_dict(std::string_view info_dict, const metainfo_limits& lim) {
  auto doc = bencode::decode(info_dict, lim.bencode);
  if (!doc) return doc.error();
  node info = doc->root();
  if (!info.is_dict()) return fail_at(info, "info must be a dictionary");
  metainfo out;
  if (auto e = parse_info(info, lim, out)) return *e;
  return out;
}

}  // namespace peerwire
