// Assembling the .torrent, and create_torrent(), which runs the whole pipeline.
//
// Everything goes through bencode::value, whose encoder sorts keys bytewise, so the info dict
// is canonical and any client re-encoding it computes the same info-hash.
#include <string>

#include "peerwire/bencode_value.hpp"
#include "peerwire/create.hpp"

namespace peerwire {
namespace {

// libtorrent (load_torrent_limits) and parse_metainfo both refuse larger .torrent files.
constexpr std::size_t max_torrent_size = bencode::limits{}.max_input_size;

std::vector<std::vector<std::string>> clean_tiers(const create_options& o) {
  std::vector<std::vector<std::string>> tiers;
  for (const auto& tier : o.trackers) {
    std::vector<std::string> urls;
    for (const auto& url : tier) {
      if (!url.empty()) urls.push_back(url);
    }
    if (!urls.empty()) tiers.push_back(std::move(urls));
  }
  return tiers;
}

bencode::value file_entry_value(const source_file& f) {
  bencode::list path;
  for (const auto& c : f.components) path.emplace_back(c);
  bencode::dict d{{"length", f.size}, {"path", std::move(path)}};
  if (f.pad) {
    d["attr"] = "p";
  } else if (f.executable) {
    d["attr"] = "x";
  }
  return d;
}

bencode::value info_value(const std::vector<source_file>& files, bool single_file,
                          const std::string& name, std::int64_t piece_length,
                          const std::vector<sha1_digest>& pieces, const create_options& o) {
  std::string piece_bytes;
  piece_bytes.reserve(pieces.size() * 20);
  for (const auto& d : pieces)
    piece_bytes.append(reinterpret_cast<const char*>(d.data()), d.size());

  bencode::dict info{
      {"name", name}, {"piece length", piece_length}, {"pieces", std::move(piece_bytes)}};
  if (single_file) {
    info["length"] = files.empty() ? 0 : files.front().size;
    // BEP 47 puts a single file's attributes in the info dict itself.
    if (!files.empty() && files.front().executable) info["attr"] = "x";
  } else {
    bencode::list list;
    list.reserve(files.size());
    for (const auto& f : files) list.push_back(file_entry_value(f));
    info["files"] = std::move(list);
  }
  if (o.is_private) info["private"] = 1;
  if (!o.source.empty()) info["source"] = o.source;
  return info;
}

// Upper bound on the .torrent size, to refuse before hours of hashing rather than after.
std::size_t estimated_size(const std::vector<source_file>& files, std::size_t piece_count,
                           const create_options& o) {
  std::size_t n = 512 + piece_count * 20 + o.comment.size() + o.source.size();
  for (const auto& f : files) {
    n += 48;  // "d6:lengthi...e4:pathl...ee" and an attr
    for (const auto& c : f.components) n += c.size() + 6;
  }
  for (const auto& tier : o.trackers) {
    for (const auto& url : tier) n += 2 * (url.size() + 6);  // announce-list, maybe announce
  }
  for (const auto& url : o.web_seeds) n += url.size() + 6;
  return n;
}

}  // namespace

std::string build_torrent(const std::vector<source_file>& files, bool single_file,
                          const std::string& name, std::int64_t piece_length,
                          const std::vector<sha1_digest>& pieces, const create_options& o) {
  bencode::dict root{{"info", info_value(files, single_file, name, piece_length, pieces, o)}};

  auto tiers = clean_tiers(o);
  std::size_t url_count = 0;
  for (const auto& t : tiers) url_count += t.size();
  if (!tiers.empty()) root["announce"] = tiers.front().front();
  // A lone tracker needs no announce-list (as libtorrent and mktorrent write it).
  if (url_count > 1) {
    bencode::list list;
    for (const auto& t : tiers) list.emplace_back(bencode::list(t.begin(), t.end()));
    root["announce-list"] = std::move(list);
  }

  bencode::list seeds;
  for (const auto& url : o.web_seeds) {
    if (!url.empty()) seeds.emplace_back(url);
  }
  if (seeds.size() == 1) {
    root["url-list"] = seeds.front();  // BEP 19 allows a plain string; older clients want it
  } else if (!seeds.empty()) {
    root["url-list"] = std::move(seeds);
  }

  if (!o.comment.empty()) root["comment"] = o.comment;
  if (!o.created_by.empty()) root["created by"] = o.created_by;
  if (o.creation_date) root["creation date"] = *o.creation_date;
  return bencode::encode(root);
}

result<created_torrent> create_torrent(const std::filesystem::path& path,
                                       const create_options& options,
                                       const progress_callback& on_progress,
                                       const std::atomic<bool>* stop) {
  auto tree = scan_source(path);
  if (!tree) return tree.error();

  created_torrent out;
  out.name = options.name.empty() ? tree->name : options.name;
  if (auto why = unsafe_name(out.name)) {
    return make_error("torrent name '" + out.name + "' is not usable: " + *why +
                      (options.name.empty() ? " (choose one with a name option)" : ""));
  }
  out.total_size = total_size(tree->files);
  out.file_count = tree->files.size();
  out.skipped = std::move(tree->skipped);
  if (out.total_size == 0) {
    return make_error(path.string() + ": all files are empty; a torrent needs at least one byte");
  }

  out.piece_length = options.piece_length;
  if (out.piece_length == 0) {
    out.piece_length = auto_piece_length(out.total_size);
  } else if (auto problem = piece_length_problem(out.piece_length)) {
    return make_error(*problem);
  }

  std::vector<source_file> files = std::move(tree->files);
  if (options.pad_files && !tree->single_file)
    files = add_padding(std::move(files), out.piece_length);
  std::int64_t stream_size = total_size(files);
  out.piece_count =
      static_cast<std::size_t>((stream_size + out.piece_length - 1) / out.piece_length);
  if (estimated_size(files, out.piece_count, options) > max_torrent_size) {
    return make_error("the torrent would be larger than 10 MB (" + std::to_string(out.piece_count) +
                      " pieces, " + std::to_string(out.file_count) +
                      " files), which clients refuse to load; choose a larger piece size");
  }

  auto pieces = hash_pieces(files, out.piece_length, options.threads, on_progress, stop);
  if (!pieces) return pieces.error();

  const std::string& name = out.name;
  out.info_hash.bytes = sha1(bencode::encode(
      info_value(files, tree->single_file, name, out.piece_length, *pieces, options)));
  out.torrent = build_torrent(files, tree->single_file, name, out.piece_length, *pieces, options);
  if (out.torrent.size() > max_torrent_size) {
    return make_error(
        "the torrent would be larger than 10 MB, which clients refuse to load; "
        "choose a larger piece size");
  }
  return out;
}

}  // namespace peerwire
