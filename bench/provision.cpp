// provision.cpp — berth-bench-provision: N container disks from one image
// through the images library in one process, as the supervisor makes
// them (no process start per container). Prints per-container ms for
// create, mount, unmount+destroy as "create_ms mount_ms destroy_ms".
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "berth/images/disk.h"

using namespace berth;
using namespace berth::images;

namespace {

double since(std::chrono::steady_clock::time_point t0, int n) {
  auto d = std::chrono::steady_clock::now() - t0;
  return std::chrono::duration<double, std::milli>(d).count() / n;
}

int fail(const Error& e) {
  std::fprintf(stderr, "berth-bench-provision: %s\n", e.what().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: berth-bench-provision STORE IMAGE DIR N SIZE\n");
    return 2;
  }
  std::string store_dir = argv[1], image = argv[2], dir = argv[3], size = argv[5];
  int n = std::atoi(argv[4]);
  if (n <= 0) return 2;
  auto store = Store::open(store_dir);
  if (!store) return fail(store.error());
  DiskOptions o;
  auto sz = parse_size(size, "SIZE");
  if (!sz) return fail(sz.error());
  o.size_bytes = *sz;
  auto path = [&](int i) { return dir + "/p" + std::to_string(i); };
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i)
    if (auto r = create_disk(*store, image, path(i), o); !r) return fail(r.error());
  double create_ms = since(t0, n);
  t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i)
    if (auto r = mount_disk(path(i)); !r) return fail(r.error());
  double mount_ms = since(t0, n);
  t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i)
    if (auto r = destroy_disk(path(i)); !r) return fail(r.error());
  double destroy_ms = since(t0, n);
  std::printf("%.2f %.2f %.2f\n", create_ms, mount_ms, destroy_ms);
  return 0;
}
