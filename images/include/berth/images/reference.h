// reference.h — image references: [host[:port]/]path[:tag][@sha256:<hex>],
// with the defaults every registry client applies (docker.io, library/,
// latest). Pure code: no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "berth/base/error.h"
#include "berth/images/digest.h"

namespace berth::images {

inline constexpr std::string_view default_registry = "docker.io";
inline constexpr std::string_view default_tag = "latest";

/// A parsed, normalised reference ("busybox" becomes
/// docker.io/library/busybox:latest).
struct Reference {
  std::string registry;    // "docker.io", "127.0.0.1:5000", "[::1]:5000", "localhost"
  std::string repository;  // "library/busybox", "team/app/web"
  std::string tag;         // empty only when a digest is given without a tag
  std::optional<Digest> digest;

  /// "registry/repository".
  std::string name() const;
  /// The canonical form: name, ":tag" when set, "@digest" when set.
  std::string str() const;
  /// What goes after /manifests/ in a registry URL: the digest when set,
  /// else the tag.
  std::string manifest_ref() const;
};

/// Parses a reference. A first component with a '.' or ':' or equal to
/// "localhost" is a registry host; otherwise the registry is docker.io,
/// where one-component names get "library/". No tag and no digest means
/// "latest". Repository components are lowercase [a-z0-9] runs joined by
/// '.', '_', '__' or dashes; tags are [A-Za-z0-9_][A-Za-z0-9_.-]{0,127};
/// digests are sha256 only. Errors name the reference:
/// `image reference "Busybox": repository must be lowercase`.
Result<Reference> parse_reference(std::string_view text);

/// The host to connect to for a registry name: docker.io (and its
/// aliases) is served by registry-1.docker.io.
std::string registry_endpoint(std::string_view registry);

}  // namespace berth::images
