// Test helpers for the storage module: a temporary save directory, and in-memory torrents
// (metainfo + their exact bytes) built from a list of file sizes, so tests need no .torrent.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "peerwire/metainfo.hpp"
#include "peerwire/sha1.hpp"
#include "peerwire/storage.hpp"

namespace storage_test {

namespace fs = std::filesystem;

class temp_dir {
 public:
  temp_dir() {
    static std::atomic<int> counter{0};
    root_ = fs::temp_directory_path() / ("peerwire-storage-test-" + std::to_string(::getpid()) +
                                         "-" + std::to_string(counter++));
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  ~temp_dir() {
    std::error_code ec;
    // Tests remove permissions; restore them so everything can be deleted.
    fs::permissions(root_, fs::perms::owner_all, fs::perm_options::add, ec);
    for (auto it = fs::recursive_directory_iterator(root_, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_symlink())
        fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
    }
    fs::remove_all(root_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const fs::path& path() const { return root_; }

 private:
  fs::path root_;
};

struct file_spec {
  std::string name;  // '/'-separated, under the torrent's name
  std::int64_t size;
  bool pad = false;
};

struct sample {
  peerwire::metainfo m;
  std::string data;  // the whole torrent byte stream, padding as zeros

  std::span<const std::uint8_t> piece(std::size_t i) const {
    auto off = static_cast<std::size_t>(static_cast<std::int64_t>(i) * m.piece_length);
    return {reinterpret_cast<const std::uint8_t*>(data.data()) + off,
            static_cast<std::size_t>(m.piece_size(i))};
  }
};

// A multi-file torrent named `name` (single-file when `single` and one file is given), with
// pseudo-random contents seeded by `seed`.
inline sample make_sample(const std::vector<file_spec>& files, std::int64_t piece_length,
                          bool single = false, unsigned seed = 1, const std::string& name = "t") {
  sample s;
  s.m.name = name;
  s.m.multi_file = !single;
  s.m.piece_length = piece_length;
  std::mt19937 rng(seed);
  for (const auto& f : files) {
    peerwire::file_entry e;
    e.path = {name};
    if (!single) {
      std::size_t start = 0;
      for (;;) {
        auto slash = f.name.find('/', start);
        e.path.push_back(f.name.substr(start, slash - start));
        if (slash == std::string::npos) break;
        start = slash + 1;
      }
    }
    e.size = f.size;
    e.offset = s.m.total_size;
    e.pad = f.pad;
    s.m.total_size += f.size;
    s.m.files.push_back(e);
    for (std::int64_t i = 0; i < f.size; ++i) s.data.push_back(f.pad ? '\0' : char(rng()));
  }
  for (std::int64_t off = 0; off < s.m.total_size; off += piece_length) {
    s.m.pieces.push_back(peerwire::sha1(std::string_view(s.data).substr(
        static_cast<std::size_t>(off), static_cast<std::size_t>(piece_length))));
  }
  peerwire::sha1_hash h;
  h.bytes = peerwire::sha1(name + std::to_string(seed) + std::to_string(piece_length));
  s.m.hash.v1 = h;
  return s;
}

inline std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The bytes of file i as the torrent defines them.
inline std::string expected_file(const sample& s, std::size_t i) {
  const auto& f = s.m.files[i];
  return s.data.substr(static_cast<std::size_t>(f.offset), static_cast<std::size_t>(f.size));
}

inline void write_all_pieces(peerwire::storage::disk_storage& d, const sample& s) {
  for (std::size_t i = 0; i < s.m.piece_count(); ++i) {
    auto r = d.write_piece(static_cast<std::uint32_t>(i), s.piece(i));
    if (!r) throw std::runtime_error(r.error().message);
  }
}

}  // namespace storage_test
