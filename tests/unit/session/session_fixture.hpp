// Shared by the session tests: a scratch directory, file reading, bounded waits on status
// snapshots, loopback session settings, and what a fake seeding peer announces.
#pragma once

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>
#include <string>
#include <thread>

#include "peer_connection.hpp"
#include "peerwire/metainfo.hpp"
#include "peerwire/session.hpp"

namespace session_test {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct temp_dir {
  fs::path path;
  explicit temp_dir(const std::string& prefix = "pw-session-") {
    path = fs::temp_directory_path() / (prefix + std::to_string(std::random_device{}()));
    fs::create_directories(path);
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

inline std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline bool wait_for(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(20ms);  // polling a status snapshot owned by another thread
  }
  return true;
}

inline peerwire::session_settings local_settings() {
  peerwire::session_settings s;
  s.bind_address = "127.0.0.1";
  s.tick = 50ms;
  return s;
}

// What a fake peer claiming to seed `m` greets with.
inline peerwire::peer::torrent_ref seeding_ref(const peerwire::metainfo& m) {
  peerwire::peer::torrent_ref ref;
  ref.info_hash = *m.hash.v1;
  ref.piece_count = static_cast<std::uint32_t>(m.piece_count());
  ref.piece_length = static_cast<std::uint32_t>(m.piece_length);
  ref.total_size = static_cast<std::uint64_t>(m.total_size);
  ref.we_are_seed = true;
  return ref;
}

}  // namespace session_test
