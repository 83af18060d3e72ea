// images_layer_fuzz.cpp — fuzz target for the layer unpacker: the input is
// a layer (tar, gzip or zstd) applied in overlay mode and then again in
// flatten mode to a directory inside a sandbox. Anything appearing in the
// sandbox beside the target is an escape and aborts.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "berth/base/fs.h"
#include "berth/images/unpack.h"
#include "tree.h"

using namespace berth;

namespace {

// A plain buffer, not a std::string: the atexit cleanup runs after static
// destructors registered later.
char g_sandbox[4096];

std::string sandbox() {
  if (!g_sandbox[0]) {
    const char* base = ::getenv("TMPDIR");
    std::snprintf(g_sandbox, sizeof g_sandbox, "%s/berth-layer-fuzz.XXXXXX", base && *base ? base : "/tmp");
    if (!::mkdtemp(g_sandbox)) std::abort();
    std::atexit([] { ::rmdir(g_sandbox); });
  }
  return g_sandbox;
}

void apply(int src, int dirfd, images::LayerMode mode) {
  images::UnpackOptions o;
  o.mode = mode;
  o.overlay_xattr_prefix = "user.overlay.";
  o.set_owner = false;
  o.create_devices = false;
  o.ignore_xattr_errors = true;
  o.max_bytes = 64u << 20;
  o.max_entries = 10000;
  ::lseek(src, 0, SEEK_SET);
  (void)images::unpack_layer(src, dirfd, o, "fuzz");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  UniqueFd src(::memfd_create("layer", MFD_CLOEXEC));
  if (!src || ::write(src.get(), data, size) != static_cast<ssize_t>(size)) std::abort();
  std::string target = sandbox() + "/target";
  if (::mkdir(target.c_str(), 0755) < 0) std::abort();
  UniqueFd dir(::open(target.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  apply(src.get(), dir.get(), images::LayerMode::overlay);
  apply(src.get(), dir.get(), images::LayerMode::flatten);
  dir.reset();
  // The library's own remover: it copes with read-only directories.
  if (!images::remove_tree_at(AT_FDCWD, target, target)) std::abort();
  auto left = fs::list_dir(sandbox());
  if (!left || !left->empty()) {
    std::fprintf(stderr, "layer fuzz: the unpacker wrote outside its target\n");
    std::abort();
  }
  return 0;
}
