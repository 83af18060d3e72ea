#!/usr/bin/env bash
# quickstart.sh — installs dependencies, builds berth, builds a busybox
# rootfs offline, and runs one OCI container with memory, pids and CPU
# limits under berth-runtime, showing from inside that it works.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh"
"$root/scripts/build.sh" "$root/build" -DBERTH_TESTS=OFF >/dev/null
rt=$root/build/runtime/berth-runtime
work=$(mktemp -d /tmp/berth-quickstart.XXXXXX)
trap '"$rt" --root "$work/state" delete --force quickstart >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
"$root/scripts/mkrootfs.sh" "$work/bundle/rootfs"
cd "$work/bundle"
"$rt" spec
jq '.process.terminal=false
  | .process.args=["sh","-c","echo \"hello from $(hostname), pid $$ in its own pid namespace\"; echo memory limit: $(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max); echo pids limit: $(cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max); ps; ls /"]
  | .linux.resources.memory={"limit":67108864}
  | .linux.resources.pids={"limit":64}
  | .linux.resources.cpu={"quota":50000,"period":100000}' config.json > c && mv c config.json
echo "== berth-runtime run quickstart (64 MiB, 64 pids, half a CPU)"
"$rt" --root "$work/state" run quickstart
echo "== container exited with status $?; its state dir and cgroup are gone"
