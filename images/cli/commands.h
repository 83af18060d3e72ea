// commands.h — the berth-image command table: one function per command,
// each parsing its own flags and calling one library function.
#pragma once

#include <string>
#include <vector>

#include "berth/base/error.h"

namespace berth::image_cli {

struct Globals {
  std::string store;  // --store DIR
  bool quiet = false; // --quiet: no progress
};

using Command = Status (*)(const Globals&, const std::vector<std::string>& argv);

// cmd_registry.cpp
Status cmd_pull(const Globals&, const std::vector<std::string>&);
Status cmd_push(const Globals&, const std::vector<std::string>&);
// cmd_store.cpp
Status cmd_ls(const Globals&, const std::vector<std::string>&);
Status cmd_rm(const Globals&, const std::vector<std::string>&);
Status cmd_prune(const Globals&, const std::vector<std::string>&);
Status cmd_unpack(const Globals&, const std::vector<std::string>&);
// cmd_archive.cpp
Status cmd_import_oci(const Globals&, const std::vector<std::string>&);
Status cmd_import_docker(const Globals&, const std::vector<std::string>&);
Status cmd_export_oci(const Globals&, const std::vector<std::string>&);
// cmd_disk.cpp
Status cmd_disk(const Globals&, const std::vector<std::string>&);
Status cmd_build_template(const Globals&, const std::vector<std::string>&);

}  // namespace berth::image_cli
