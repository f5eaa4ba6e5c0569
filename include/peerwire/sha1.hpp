// SHA-1 (pieces, v1 info-hash) over OpenSSL's EVP interface, which uses the CPU's SHA
// instructions when present.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

namespace peerwire {

using sha1_digest = std::array<std::uint8_t, 20>;

// Incremental hasher: update() as bytes arrive, then finish(). Reusable after finish().
class sha1_hasher {
 public:
  sha1_hasher();
  ~sha1_hasher();
  sha1_hasher(sha1_hasher&&) noexcept;
  sha1_hasher& operator=(sha1_hasher&&) noexcept;
  sha1_hasher(const sha1_hasher&) = delete;
  sha1_hasher& operator=(const sha1_hasher&) = delete;

  void update(std::span<const std::byte> data);
  void update(std::string_view data);
  sha1_digest finish();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

sha1_digest sha1(std::span<const std::byte> data);
sha1_digest sha1(std::string_view data);

}  // namespace peerwire
