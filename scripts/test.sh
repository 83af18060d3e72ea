#!/usr/bin/env bash
# test.sh — installs dependencies, builds, lints the last commit's C++
# (scripts/lint.sh), and runs every test tier: unit, host (as root), vm
# (qemu with pure cgroup v2), then the unit and host tiers again under
# ASan+UBSan, and the benchmarks once in short mode.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh"
"$root/scripts/build.sh" "$root/build" -DBERTH_TESTS=ON
# clang-format on the lines and clang-tidy on the .cpp files HEAD changes.
"$root/scripts/lint.sh" --build "$root/build"
cd "$root/build"
ctest --output-on-failure -L 'unit|host' -j1
# Each exploit test succeeds against a runtime built without its defence.
"$root/tests/security/prove.sh" --build "$root/build"
# vm_smoke_* test only the VM harness, which every other vm test uses.
# No test runs twice: a vm test that fails once fails the run.
ctest --output-on-failure -L vm -E '^vm_smoke_' -j1
if [ "${BERTH_SKIP_SANITIZE:-0}" != 1 ]; then
  "$root/scripts/build.sh" "$root/build-asan" -DBERTH_TESTS=ON -DBERTH_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
  # podman and the registry test spend their time in podman and
  # docker-registry, not in berth, and the lxcfs test in lxcfs: they run
  # once, in the tier above, as does the quick start (the release build's
  # demo). The cluster tests measure leases and grace
  # periods in seconds; under the sanitizers' slowdown their timing says
  # little, and the orchestrator's logic runs here in its unit tests.
  (cd "$root/build-asan" && ctest --output-on-failure -L 'unit|host' \
    -E 'host_(podman|registry|berthd_lxcfs|quickstart)_test|host_cluster_' -j1)
fi
if [ "${BERTH_SKIP_BENCH:-0}" != 1 ]; then
  "$root/bench/lifecycle.sh" --short --runtime "$root/build/runtime/berth-runtime"
  "$root/bench/images.sh" --short --image-bin "$root/build/images/cli/berth-image"
  "$root/bench/net.sh" --short
  "$root/bench/cluster.sh" --short --build "$root/build"
  "$root/bench/system.sh" --short --build "$root/build"
  "$root/bench/debian.sh" --short --build "$root/build"
  "$root/bench/json.sh" --short --build "$root/build"
  "$root/bench/caps.sh" --short --build "$root/build"
  "$root/bench/checkpoint.sh" --short --runtime "$root/build/runtime/berth-runtime"
fi
