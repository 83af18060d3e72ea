// descriptor.h — OCI content descriptors, platforms and the media types
// berth understands (OCI and Docker schema2).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "berth/base/json.h"
#include "berth/images/digest.h"

namespace berth::images {

namespace media_type {
inline constexpr std::string_view oci_manifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view oci_index = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view oci_config = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view oci_layer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view oci_layer_gzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view oci_layer_zstd = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr std::string_view oci_layer_nd = "application/vnd.oci.image.layer.nondistributable.v1.tar";
inline constexpr std::string_view oci_layer_nd_gzip = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
inline constexpr std::string_view oci_layer_nd_zstd = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";
inline constexpr std::string_view docker_manifest = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view docker_manifest_list = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view docker_config = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view docker_layer_gzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr std::string_view docker_layer_foreign = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
}  // namespace media_type

/// True for an OCI or Docker image manifest media type.
bool is_manifest_type(std::string_view mt);
/// True for an OCI index or a Docker manifest list.
bool is_index_type(std::string_view mt);
/// True for an image config media type.
bool is_config_type(std::string_view mt);
/// True for a filesystem layer (tar, optionally gzip or zstd compressed).
bool is_layer_type(std::string_view mt);

/// What an image runs on. Empty variant matches any variant.
struct Platform {
  std::string os;
  std::string architecture;
  std::string variant;
  std::string os_version;
  std::vector<std::string> os_features;

  /// "linux/arm64/v8" (variant only when set).
  std::string str() const;
};

using Annotations = std::vector<std::pair<std::string, std::string>>;

/// The annotation holding a tag in index.json.
inline constexpr std::string_view ref_name_annotation = "org.opencontainers.image.ref.name";

/// An OCI content descriptor: what a blob is, its digest and size.
struct Descriptor {
  std::string media_type;
  Digest digest;
  uint64_t size = 0;
  std::vector<std::string> urls;
  Annotations annotations;
  std::optional<Platform> platform;
  std::string artifact_type;

  /// The value of an annotation, or nullptr.
  const std::string* annotation(std::string_view key) const;
  /// Sets (or replaces) an annotation.
  void set_annotation(std::string_view key, std::string value);
};

/// Parses a descriptor object; errors name `field` ("manifests[1].digest").
Result<Descriptor> parse_descriptor(const json::Value& v, const std::string& field);
/// Parses a platform object; errors name `field`.
Result<Platform> parse_platform(const json::Value& v, const std::string& field);

/// Serialises a descriptor with OCI field names.
json::Value descriptor_to_json(const Descriptor& d);

}  // namespace berth::images
