// pull.h — moving whole images between a registry and the store: pull
// (tag -> index -> platform's manifest -> config -> layers in parallel ->
// unpacked layers -> tag in index.json) and push (blobs the registry lacks,
// then manifests, then the tag).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "berth/images/descriptor.h"
#include "berth/images/manifest.h"
#include "berth/images/progress.h"
#include "berth/images/reference.h"
#include "berth/images/registry.h"
#include "berth/images/store.h"
#include "berth/images/unpack.h"

namespace berth::images {

struct PullOptions {
  Platform platform = host_platform();
  RegistryOptions registry;
  /// Unpack every layer into the store's layers/ (for overlayfs).
  bool unpack = true;
  UnpackOptions unpack_options;
  Progress* progress = nullptr;
  /// The name tagged in the store; empty: the reference's canonical form
  /// ("127.0.0.1:5000/team/app:1.0").
  std::string tag;
};

struct PullResult {
  std::string tag;
  Descriptor manifest;  // the platform's manifest, as tagged (platform set)
  Digest config;
  Digest resolved;      // what the reference named (an index or the manifest)
  uint64_t bytes_fetched = 0;  // blob bytes that came over the network
  size_t layers = 0;
};

/// Pulls `ref` into `store` for `options.platform`. The store is leased for
/// the whole pull, so a concurrent gc cannot remove blobs before the tag
/// names them. Errors start with "pull <ref>" and name the blob or
/// manifest at fault; nothing unverified is stored.
Result<PullResult> pull(const Store& store, const Reference& ref, const PullOptions& options);

struct PushOptions {
  RegistryOptions registry;
  Progress* progress = nullptr;
};

/// Pushes the image tagged `tag` in the store (a manifest, or an index
/// whose manifests are all present) to `dest`. Returns the digest the
/// destination tag now names. Errors start with "push <tag> to <dest>".
Result<Digest> push(const Store& store, std::string_view tag, const Reference& dest, const PushOptions& options);

}  // namespace berth::images
