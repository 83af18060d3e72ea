// archive.h — images moved in and out of the store without a registry:
// OCI image layout directories (import and export) and `docker save`
// tarballs (docker-archive: manifest.json, a config, layer tars).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "berth/images/descriptor.h"
#include "berth/images/manifest.h"
#include "berth/images/store.h"

namespace berth::images {

/// One image in a docker-archive's manifest.json.
struct DockerArchiveImage {
  std::string config;                  // path of the config in the tarball
  std::vector<std::string> repo_tags;  // "busybox:latest"; may be empty
  std::vector<std::string> layers;     // paths of the layer tars, bottom first
};

/// Parses manifest.json ([{"Config","RepoTags","Layers"}, ...]); paths
/// must be relative without ".." components. Errors name the field
/// ("manifest.json: [0].Layers[2]: ...").
Result<std::vector<DockerArchiveImage>> parse_docker_archive_manifest(std::string_view text);

/// What an import tagged.
struct Imported {
  std::string tag;
  Descriptor manifest;
};

/// Imports one image from the OCI layout at `dir`: the index.json entry
/// whose ref.name annotation is `name` (empty: the only entry), and for an
/// index the manifest for `platform`. Every blob is verified as it is
/// copied. Tags the manifest as `tag`.
Result<Imported> import_oci_layout(const Store& store, const std::string& dir, std::string_view name,
                                     std::string_view tag, const Platform& platform = host_platform());

/// Imports the image of a `docker save` tarball (plain or compressed;
/// with several images, the one whose RepoTags hold `tag`). Layer digests
/// are computed in a first pass and verified in the second; the result is
/// an OCI manifest over the tarball's own layer blobs. Tags it as `tag`
/// (empty: the image's first RepoTag, normalised).
Result<Imported> import_docker_archive(const Store& store, const std::string& tar_path, std::string_view tag);

/// Writes the image tagged `tag` (and every blob it needs) into an OCI
/// layout at `dir`, creating it or adding to it; the index.json entry is
/// annotated with ref.name `name` (empty: the tag of `tag` when it is a
/// reference, else `tag`), replacing an entry of the same name.
Status export_oci_layout(const Store& store, std::string_view tag, const std::string& dir, std::string_view name = {});

}  // namespace berth::images
