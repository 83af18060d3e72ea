// digest.cpp — digest parsing and SHA-256 over libcrypto's EVP interface.
#include "berth/images/digest.h"

#include <openssl/evp.h>

#include <cstdlib>

namespace berth::images {

bool is_sha256_hex(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

Result<Digest> Digest::parse(std::string_view text, std::string_view field) {
  std::string f(field);
  auto colon = text.find(':');
  if (colon == std::string_view::npos)
    return Error::msg(f + ": expected \"sha256:<64 hex digits>\", got \"" + std::string(text.substr(0, 80)) + "\"");
  std::string_view algo = text.substr(0, colon);
  std::string_view hex = text.substr(colon + 1);
  if (algo != "sha256")
    return Error::msg(f + ": unsupported digest algorithm \"" + std::string(algo.substr(0, 32)) + "\" (only sha256)");
  if (!is_sha256_hex(hex))
    return Error::msg(f + ": expected 64 lowercase hex digits after \"sha256:\", got \"" +
                      std::string(hex.substr(0, 80)) + "\"");
  return from_sha256_hex(std::string(hex));
}

Digest Digest::from_sha256_hex(std::string hex) {
  Digest d;
  d.hex_ = std::move(hex);
  return d;
}

struct Sha256::Impl {
  EVP_MD_CTX* ctx = nullptr;
  ~Impl() { EVP_MD_CTX_free(ctx); }
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  impl_->ctx = EVP_MD_CTX_new();
  // Allocation failure or a FIPS provider refusing SHA-256 leaves nothing
  // sensible to do: every digest check would be wrong.
  if (!impl_->ctx || EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr) != 1) std::abort();
}

Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(const void* data, size_t size) {
  if (size) EVP_DigestUpdate(impl_->ctx, data, size);
}

Digest Sha256::finish() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(impl_->ctx, md, &n);
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * n);
  for (unsigned i = 0; i < n; ++i) {
    hex += kHex[md[i] >> 4];
    hex += kHex[md[i] & 15];
  }
  return Digest::from_sha256_hex(std::move(hex));
}

Digest sha256_of(std::string_view data) {
  Sha256 h;
  h.update(data);
  return h.finish();
}

}  // namespace berth::images
