// digest.h — content digests ("sha256:<64 hex>") and a streaming SHA-256.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "berth/base/error.h"

namespace berth::images {

/// A validated content digest. Only sha256 is accepted: it is what every
/// registry and the OCI layout use, and the store keeps blobs/sha256 only.
class Digest {
public:
  Digest() = default;

  /// Parses "sha256:" followed by 64 lowercase hex digits. Errors name
  /// `field` ("manifest.layers[2].digest: ...").
  static Result<Digest> parse(std::string_view text, std::string_view field = "digest");
  /// Builds a digest from a 64-char lowercase hex SHA-256 (not validated).
  static Digest from_sha256_hex(std::string hex);

  bool empty() const { return hex_.empty(); }
  std::string_view algorithm() const { return "sha256"; }
  /// The 64 hex digits, which name the blob file.
  const std::string& hex() const { return hex_; }
  /// "sha256:<hex>".
  std::string str() const { return "sha256:" + hex_; }
  /// "sha256:" and the first 12 hex digits, for messages.
  std::string short_str() const { return "sha256:" + hex_.substr(0, 12); }

  friend bool operator==(const Digest& a, const Digest& b) { return a.hex_ == b.hex_; }
  friend bool operator<(const Digest& a, const Digest& b) { return a.hex_ < b.hex_; }

private:
  std::string hex_;
};

/// True for exactly 64 lowercase hex digits.
bool is_sha256_hex(std::string_view s);

/// An incremental SHA-256 (libcrypto underneath).
class Sha256 {
public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;

  void update(const void* data, size_t size);
  void update(std::string_view data) { update(data.data(), data.size()); }
  /// Ends the hash; the object may not be updated afterwards.
  Digest finish();

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The digest of a whole buffer.
Digest sha256_of(std::string_view data);

}  // namespace berth::images
