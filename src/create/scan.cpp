// Turning a path on disk into the ordered file list of a torrent.
//
// The order is part of the torrent's identity (it decides the byte stream and so every piece
// hash), so it must not depend on readdir order: files are sorted by their path components,
// compared as bytes. Anything that is not a regular file is left out and reported, never
// silently turned into data.
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "peerwire/create.hpp"

namespace peerwire {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t max_path_depth = 100;  // metainfo_limits::max_path_depth

std::string describe(const fs::path& p, const std::error_code& ec) {
  return p.string() + ": " + ec.message();
}

// stat() follows symlinks, which is what we want for both the root and the entries: a link to
// a file contributes that file's bytes.
struct target_info {
  bool exists = false;
  bool regular = false;
  bool directory = false;
  std::int64_t size = 0;
  bool executable = false;
};

target_info stat_target(const fs::path& p, int& err) {
  struct stat st {};
  target_info t;
  if (::stat(p.c_str(), &st) != 0) {
    err = errno;
    return t;
  }
  err = 0;
  t.exists = true;
  t.regular = S_ISREG(st.st_mode);
  t.directory = S_ISDIR(st.st_mode);
  t.size = static_cast<std::int64_t>(st.st_size);
  t.executable = (st.st_mode & S_IXUSR) != 0;
  return t;
}

const char* kind_of(fs::file_type t) {
  switch (t) {
    case fs::file_type::fifo:
      return "FIFO";
    case fs::file_type::socket:
      return "socket";
    case fs::file_type::block:
      return "block device";
    case fs::file_type::character:
      return "character device";
    default:
      return "not a regular file";
  }
}

std::string root_name(const fs::path& root) {
  // "dir/", "." and "../x/.." have no useful filename() until made absolute and normalised.
  std::error_code ec;
  fs::path abs = fs::absolute(root, ec);
  if (ec) abs = root;
  abs = abs.lexically_normal();
  if (!abs.has_filename()) abs = abs.parent_path();
  return abs.filename().string();
}

std::string joined(const std::vector<std::string>& components) {
  std::string out;
  for (const auto& c : components) {
    if (!out.empty()) out.push_back('/');
    out += c;
  }
  return out;
}

}  // namespace

std::optional<std::string> unsafe_name(std::string_view c) {
  if (c.empty()) return "empty name";
  if (c == "." || c == "..") return "name '" + std::string(c) + "' is reserved";
  if (c.size() > 255) return "name longer than 255 bytes";
  for (char ch : c) {
    auto u = static_cast<unsigned char>(ch);
    if (ch == '/' || ch == '\\') return "name contains a path separator";
    if (u < 0x20 || u == 0x7f) return "name contains a control character";
  }
  return std::nullopt;
}

result<source_tree> scan_source(const fs::path& root) {
  source_tree tree;
  int err = 0;
  target_info top = stat_target(root, err);
  if (!top.exists) return make_error(root.string() + ": " + std::strerror(err));
  tree.name = root_name(root);

  if (top.regular) {
    tree.single_file = true;
    tree.files.push_back({root, {tree.name}, top.size, false, top.executable});
    return tree;
  }
  if (!top.directory) return make_error(root.string() + ": not a regular file or directory");

  std::error_code ec;
  // The default options do not follow directory symlinks below the root, and do not skip
  // unreadable directories: a torrent silently missing a subtree would be worse than an error.
  fs::recursive_directory_iterator it(root, fs::directory_options::none, ec);
  if (ec) return make_error(describe(root, ec));
  // A failed increment means the directory just entered (the last one seen) is unreadable.
  fs::path last_dir = root;
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return make_error(describe(last_dir, ec));
    const fs::directory_entry& entry = *it;
    fs::path rel = entry.path().lexically_relative(root);
    std::vector<std::string> components;
    for (const auto& part : rel) components.push_back(part.string());
    std::string shown = joined(components);

    fs::file_type own = entry.symlink_status(ec).type();
    if (ec) return make_error(describe(entry.path(), ec));
    if (own == fs::file_type::directory) {
      last_dir = entry.path();
      continue;  // the iterator descends into it
    }

    target_info t = stat_target(entry.path(), err);
    if (own == fs::file_type::symlink) {
      if (!t.exists) {
        tree.skipped.push_back(shown + ": broken symlink");
        continue;
      }
      if (t.directory) {
        tree.skipped.push_back(shown + ": symlink to a directory (not followed)");
        continue;
      }
    } else if (!t.exists) {
      return make_error(entry.path().string() + ": " + std::strerror(err));
    }
    if (!t.regular) {
      tree.skipped.push_back(shown + ": " + kind_of(entry.status(ec).type()));
      continue;
    }
    // parse_metainfo (like other clients) refuses deeper paths by default.
    if (components.size() > max_path_depth) {
      return make_error(entry.path().string() + ": nested deeper than " +
                        std::to_string(max_path_depth) + " directories");
    }
    for (const auto& c : components) {
      if (auto why = unsafe_name(c)) {
        return make_error(entry.path().string() + ": cannot be stored in a torrent: " + *why);
      }
    }
    tree.files.push_back({entry.path(), std::move(components), t.size, false, t.executable});
  }
  if (ec) return make_error(describe(last_dir, ec));
  if (tree.files.empty()) return make_error(root.string() + ": directory contains no files");

  // std::string compares as unsigned bytes, so this is a bytewise, component-wise order.
  std::sort(tree.files.begin(), tree.files.end(),
            [](const source_file& a, const source_file& b) { return a.components < b.components; });
  return tree;
}

std::int64_t total_size(const std::vector<source_file>& files) {
  std::int64_t total = 0;
  for (const auto& f : files) total += f.size;
  return total;
}

std::vector<source_file> add_padding(std::vector<source_file> files, std::int64_t piece_length) {
  // Padding after the last file with data would only add zeros to the final piece.
  std::size_t last_data = files.size();
  for (std::size_t i = files.size(); i-- > 0;) {
    if (files[i].size > 0) {
      last_data = i;
      break;
    }
  }
  std::vector<source_file> out;
  out.reserve(files.size() * 2);
  std::int64_t offset = 0;
  for (std::size_t i = 0; i < files.size(); ++i) {
    offset += files[i].size;
    out.push_back(std::move(files[i]));
    std::int64_t tail = offset % piece_length;
    if (i < last_data && tail != 0) {
      std::int64_t n = piece_length - tail;
      out.push_back({{}, {".pad", std::to_string(n)}, n, true, false});
      offset += n;
    }
  }
  return out;
}

}  // namespace peerwire
