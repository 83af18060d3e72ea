// main.cpp — berth-image: global flags and the command table.
#include <cstdio>
#include <cstring>

#include "args.h"
#include "berth/base/strings.h"
#include "commands.h"

namespace berth::image_cli {
namespace {

struct Entry {
  const char* name;
  Command fn;
};

constexpr Entry kCommands[] = {
    {"pull", cmd_pull},         {"push", cmd_push},
    {"ls", cmd_ls},             {"rm", cmd_rm},
    {"prune", cmd_prune},       {"unpack", cmd_unpack},
    {"import-oci", cmd_import_oci}, {"import-docker", cmd_import_docker},
    {"export-oci", cmd_export_oci}, {"disk", cmd_disk},
    {"build-template", cmd_build_template},
};

const char* kUsage =
    "usage: berth-image --store DIR [--quiet] COMMAND [flags] [args]\n"
    "  pull [--platform OS/ARCH[/VARIANT]] [--no-unpack] [REGISTRY FLAGS] REF\n"
    "  push [REGISTRY FLAGS] SRC_TAG DEST_REF\n"
    "  ls | rm TAG | prune\n"
    "  unpack [--platform P] TAG DIR        flattened root filesystem for a bundle\n"
    "  import-oci [--name REF_NAME] [--platform P] DIR TAG\n"
    "  import-docker TAR [TAG]\n"
    "  export-oci [--name REF_NAME] TAG DIR\n"
    "  build-template busybox [--busybox PATH] [--hostname NAME] TAG\n"
    "  build-template debian [--suite bookworm] [--mirror URL] [--variant minbase] [--packages A,B]\n"
    "                 [--rebuild] [--verbose] TAG\n"
    "  disk create [--size 10G] [--shift UID:GID[:SIZE]] [--platform P] IMAGE DIR\n"
    "  disk mount DIR | umount DIR | destroy DIR | resize DIR SIZE | commit DIR TAG\n"
    "  disk snapshot DIR NAME | rollback DIR NAME | snapshots DIR | rm-snapshot DIR NAME\n"
    "  disk export DIR [FILE|-] | import DIR [FILE|-]   a disk's changes as a gzip'd tar stream\n"
    "registry flags: --ca FILE, --creds USER:PASS | --creds-file FILE, --plain-http,\n"
    "  --timeout SECONDS (60), --retries N (4), --parallel N (3), --chunk-size BYTES (push)\n";

}  // namespace

int main_impl(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto line =
      flags::parse_command_line("berth-image", kUsage, args, {Flag::boolean({"quiet", "q"}), Flag::text({"store"})});
  if (line.exit) return *line.exit;
  Globals g;
  g.quiet = line.globals.has("quiet");
  g.store = line.globals.get("store");
  if (g.store.empty()) {
    std::fprintf(stderr, "berth-image: --store: the image store directory is required\n");
    return 2;
  }
  const std::string& name = line.command;
  const std::vector<std::string>& rest = line.rest;
  for (const auto& e : kCommands) {
    if (name != e.name) continue;
    auto st = e.fn(g, rest);
    if (st) return 0;
    if (st.error().code() == flags::kHelpAsked) return verb_help("berth-image", kUsage, name);  // VERB ... -h
    std::fprintf(stderr, "berth-image: %s\n", st.error().what().c_str());
    return 1;
  }
  std::fprintf(stderr, "berth-image: unknown command \"%s\"\n%s", name.c_str(), kUsage);
  return 2;
}

}  // namespace berth::image_cli

int main(int argc, char** argv) { return berth::image_cli::main_impl(argc, argv); }
