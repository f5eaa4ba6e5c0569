// Whether downloaded data is what the torrent says. SHA-1 over whole pieces (v1) now; v2's
// SHA-256 Merkle trees (BEP 52), which can check single blocks as they arrive, are the next
// implementation. The torrent asks this and never hashes by itself.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "peerwire/sha1.hpp"

namespace peerwire::session_detail {

class piece_verifier {
 public:
  virtual ~piece_verifier() = default;
  // Whether `data`, the whole of piece `piece`, is correct. Runs on the disk pool, several
  // threads at once: implementations keep no mutable state.
  virtual bool verify_piece(std::uint32_t piece, std::span<const std::uint8_t> data) const = 0;
};

class sha1_piece_verifier final : public piece_verifier {
 public:
  explicit sha1_piece_verifier(std::vector<sha1_digest> hashes) : hashes_(std::move(hashes)) {}
  bool verify_piece(std::uint32_t piece, std::span<const std::uint8_t> data) const override {
    return piece < hashes_.size() && sha1(std::as_bytes(data)) == hashes_[piece];
  }

 private:
  std::vector<sha1_digest> hashes_;
};

}  // namespace peerwire::session_detail
