// Test helpers for the create module: a unique temporary directory removed at the end of the
// test, deterministic file contents, and a single-threaded reference piece hasher.
#pragma once

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "peerwire/create.hpp"

namespace create_test {

namespace fs = std::filesystem;

class temp_tree {
 public:
  temp_tree() {
    static std::atomic<int> counter{0};
    root_ = fs::temp_directory_path() / ("peerwire-create-test-" + std::to_string(::getpid()) +
                                         "-" + std::to_string(counter++));
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  ~temp_tree() {
    std::error_code ec;
    // Tests may remove permissions; restore them so everything can be deleted.
    for (auto it = fs::recursive_directory_iterator(root_, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
    }
    fs::remove_all(root_, ec);
  }
  temp_tree(const temp_tree&) = delete;
  temp_tree& operator=(const temp_tree&) = delete;

  const fs::path& root() const { return root_; }

  // Writes `size` pseudo-random bytes (seeded by the name) at root/rel; returns the bytes.
  std::string write(const fs::path& rel, std::size_t size) {
    std::string bytes(size, '\0');
    std::mt19937 rng(static_cast<unsigned>(std::hash<std::string>{}(rel.string())));
    for (auto& c : bytes) c = static_cast<char>(rng());
    write_bytes(rel, bytes);
    return bytes;
  }

  void write_bytes(const fs::path& rel, const std::string& bytes) {
    fs::path p = root_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;
  }

 private:
  fs::path root_;
};

inline std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// SHA-1 of each piece of the concatenated files, padding as zeros: the obvious way.
inline std::vector<peerwire::sha1_digest> reference_pieces(
    const std::vector<peerwire::source_file>& files, std::int64_t piece_length) {
  std::string stream;
  for (const auto& f : files) {
    stream += f.pad ? std::string(static_cast<std::size_t>(f.size), '\0') : read_all(f.disk_path);
  }
  std::vector<peerwire::sha1_digest> out;
  for (std::size_t off = 0; off < stream.size(); off += static_cast<std::size_t>(piece_length)) {
    out.push_back(peerwire::sha1(std::string_view(stream).substr(off, piece_length)));
  }
  return out;
}

}  // namespace create_test
