// manifest.h — parsers for image manifests, indexes (manifest lists) and
// image configs, in their OCI and Docker schema2 forms, and platform
// selection from an index. Pure code: no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/images/descriptor.h"

namespace berth::images {

/// An image manifest (OCI or Docker schema2): one config and its layers.
struct Manifest {
  std::string media_type;  // from the document, or the OCI type when absent
  Descriptor config;
  std::vector<Descriptor> layers;
  Annotations annotations;
  std::optional<Descriptor> subject;
};

/// An image index (OCI) or manifest list (Docker): per-platform manifests.
struct Index {
  std::string media_type;
  std::vector<Descriptor> manifests;
  Annotations annotations;
};

/// The parts of an image config that running a container needs.
struct ImageConfig {
  Platform platform;  // architecture, os, variant, os.version, os.features
  std::string user;
  std::vector<std::string> env;
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::string working_dir;
  std::string stop_signal;
  std::vector<std::string> exposed_ports;
  std::vector<std::string> volumes;
  Annotations labels;
  std::vector<Digest> diff_ids;  // rootfs.diff_ids, bottom layer first
};

enum class DocumentKind { manifest, index };

/// Parses a manifest. `content_type`, when given (a registry's
/// Content-Type or the referring descriptor's mediaType), must agree with
/// the document's own mediaType. Errors start with "manifest" and name the
/// field ("manifest: layers[1].digest: ...").
Result<Manifest> parse_manifest(std::string_view text, std::string_view content_type = {});

/// Parses an index or manifest list; errors start with "index".
Result<Index> parse_index(std::string_view text, std::string_view content_type = {});

/// Parses an image config; errors start with "config".
Result<ImageConfig> parse_config(std::string_view text);

/// Tells a manifest from an index by its mediaType (or `content_type`),
/// falling back to its shape ("manifests" vs "layers").
Result<DocumentKind> detect_kind(std::string_view text, std::string_view content_type = {});

/// Checks that a manifest describes a runnable image: an image config and
/// only filesystem layers (not an artifact such as a Helm chart).
Status check_image_manifest(const Manifest& m);

/// Checks that a config belongs to a manifest: one diff_id per layer.
Status check_config(const Manifest& m, const ImageConfig& c);

/// The platform of this machine (linux/amd64, linux/arm64/v8, ...).
Platform host_platform();

/// Normalises architecture names and default variants the way registries
/// do: x86_64 -> amd64, aarch64 -> arm64 (variant v8), armhf -> arm/v7.
Platform normalize_platform(Platform p);

/// True when `candidate` can run on `want`: same os and architecture (after
/// normalisation), and the same variant when `want` names one.
bool platform_matches(const Platform& want, const Platform& candidate);

/// Picks the manifest for `want` from an index: the first matching entry
/// whose mediaType is a manifest. Errors list the platforms on offer.
Result<Descriptor> select_platform(const Index& index, const Platform& want);

}  // namespace berth::images
