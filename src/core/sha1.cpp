#include "peerwire/sha1.hpp"

#include <openssl/evp.h>

#include <stdexcept>

namespace peerwire {

struct sha1_hasher::impl {
  EVP_MD_CTX* ctx = nullptr;
  impl() : ctx(EVP_MD_CTX_new()) {
    if (ctx == nullptr || EVP_DigestInit_ex(ctx, EVP_sha1(), nullptr) != 1) {
      EVP_MD_CTX_free(ctx);
      throw std::runtime_error("OpenSSL: cannot initialise SHA-1");
    }
  }
  ~impl() { EVP_MD_CTX_free(ctx); }
};

sha1_hasher::sha1_hasher() : impl_(std::make_unique<impl>()) {}
sha1_hasher::~sha1_hasher() = default;
sha1_hasher::sha1_hasher(sha1_hasher&&) noexcept = default;
sha1_hasher& sha1_hasher::operator=(sha1_hasher&&) noexcept = default;

void sha1_hasher::update(std::span<const std::byte> data) {
  EVP_DigestUpdate(impl_->ctx, data.data(), data.size());
}

void sha1_hasher::update(std::string_view data) {
  EVP_DigestUpdate(impl_->ctx, data.data(), data.size());
}

sha1_digest sha1_hasher::finish() {
  sha1_digest out{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(impl_->ctx, out.data(), &len);
  EVP_DigestInit_ex(impl_->ctx, EVP_sha1(), nullptr);
  return out;
}

sha1_digest sha1(std::span<const std::byte> data) {
  sha1_digest out{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha1(), nullptr);
  return out;
}

sha1_digest sha1(std::string_view data) {
  return sha1(std::as_bytes(std::span(data.data(), data.size())));
}

}  // namespace peerwire
