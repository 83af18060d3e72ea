#!/usr/bin/env bash
# lib.sh — helpers for host-tier tests: a scratch dir, bundles made from
# the busybox rootfs, assertions, and cleanup of every container made.
set -euo pipefail
: "${BERTH_RUNTIME:?set BERTH_RUNTIME to the berth-runtime binary}"
ROOT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORK=$(mktemp -d "${BERTH_TEST_TMPDIR:-/tmp}/berth-host-test.XXXXXX")
STATE=$WORK/state
RT=("$BERTH_RUNTIME" --root "$STATE")
PASSED=0
FAILED=0

cleanup() {
  if [ -d "$STATE" ]; then
    for id in $(ls "$STATE" 2>/dev/null); do "${RT[@]}" delete --force "$id" >/dev/null 2>&1 || true; done
  fi
  # Whatever a failed test left mounted under its dir, deepest first.
  { grep -o " $WORK/[^ ]*" /proc/self/mountinfo 2>/dev/null || true; } | sort -r | while read -r m; do umount -l "$m" || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

# rootfs is built once per test file and shared by its bundles.
base_rootfs() {
  if [ ! -d "$WORK/rootfs" ]; then "$ROOT_DIR/scripts/mkrootfs.sh" "$WORK/rootfs"; fi
  echo "$WORK/rootfs"
}

# make_bundle NAME ARGS... — a bundle whose process runs ARGS; edits with
# jq expressions in $JQ (optional) applied to the default spec.
make_bundle() {
  local name=$1; shift
  local b=$WORK/bundles/$name
  mkdir -p "$b"
  ln -sfn "$(base_rootfs)" "$b/rootfs"
  (cd "$b" && "$BERTH_RUNTIME" spec)
  local args
  args=$(printf '%s\n' "$@" | jq -R . | jq -s .)
  jq --argjson a "$args" '.process.terminal=false | .process.args=$a | .root.readonly=false' "$b/config.json" > "$b/c.json"
  if [ -n "${JQ:-}" ]; then jq "$JQ" "$b/c.json" > "$b/c2.json"; mv "$b/c2.json" "$b/c.json"; fi
  mv "$b/c.json" "$b/config.json"
  echo "$b"
}

ok() { PASSED=$((PASSED + 1)); echo "ok - $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL - $*"; }
check() { # check DESC CMD... : passes when CMD succeeds
  local d=$1; shift
  if "$@"; then ok "$d"; else fail "$d"; fi
}
expect_eq() { # expect_eq DESC EXPECTED ACTUAL
  if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: expected [$2], got [$3]"; fi
}
expect_contains() { # expect_contains DESC NEEDLE HAYSTACK
  if [[ "$3" == *"$2"* ]]; then ok "$1"; else fail "$1: [$2] not in [$3]"; fi
}

# No cgroup, mount or state of container ID left behind.
no_leftovers() {
  local id=$1
  [ ! -e "$STATE/$id" ] || { echo "state dir of $id left"; return 1; }
  ! grep -q "$WORK" /proc/self/mountinfo || { echo "mount under $WORK left"; return 1; }
  [ -z "$(find /sys/fs/cgroup -maxdepth 3 -type d -name "$id" 2>/dev/null)" ] || { echo "cgroup of $id left"; return 1; }
}

finish() {
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
}
