// The shared engine behind disk_storage: torrent byte ranges to file reads and writes through
// the descriptor cache. disk_storage checks arguments; check_pieces drives it from threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>

#include "file_cache.hpp"
#include "peerwire/metainfo.hpp"
#include "peerwire/storage.hpp"

namespace peerwire::storage::internal {

// Bytes per pread when hashing: the window stays in cache between the copy and SHA-1 (the
// same reasoning and size as create's hasher).
inline constexpr std::int64_t hash_window = std::int64_t{1} << 20;

class storage_core {
 public:
  storage_core(metainfo layout, std::filesystem::path root, const storage_options& options);

  const metainfo& layout() const { return m_; }
  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path file_path(std::size_t file) const;

  // Torrent bytes [offset, offset + size); the caller keeps the range inside the torrent.
  storage_result<void> read_bytes(std::int64_t offset, std::span<std::uint8_t> out);
  storage_result<void> write_bytes(std::int64_t offset, std::span<const std::uint8_t> data);
  // SHA-1 of [offset, offset + length), read `window.size()` bytes at a time.
  storage_result<sha1_digest> hash_range(std::int64_t offset, std::int64_t length,
                                         std::span<std::uint8_t> window);

  // Creates the zero-length files whose offset lies in [begin, end]: no write ever maps to
  // them, so the piece around them brings them into existence.
  storage_result<void> create_empty_files(std::int64_t begin, std::int64_t end);

  storage_result<void> flush() { return cache_.flush(); }
  void close_files() { cache_.close_all(); }
  file_stamp stamp(std::size_t file) const;
  bool absent(std::size_t file) const;

 private:
  storage_result<handle_ptr> handle(std::size_t file, bool write);

  metainfo m_;
  std::filesystem::path root_;
  file_cache cache_;
  bool direct_writes_;
  bool preallocate_;
  std::unique_ptr<std::atomic<bool>[]> empty_created_;  // per file
};

}  // namespace peerwire::storage::internal
