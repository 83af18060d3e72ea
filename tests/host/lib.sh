#!/usr/bin/env bash
# lib.sh — helpers for host-tier tests: a scratch dir, bundles made from
# the busybox rootfs, assertions, and cleanup of every container made.
set -euo pipefail
: "${BERTH_RUNTIME:?set BERTH_RUNTIME to the berth-runtime binary}"
ROOT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORK=$(mktemp -d "${BERTH_TEST_TMPDIR:-/tmp}/berth-host-test.XXXXXX")
STATE=$WORK/state
RT=("$BERTH_RUNTIME" --root "$STATE")
exec {REPORT_FD}>&2

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

# ok, fail, check DESC CMD..., expect_eq DESC WANT GOT, expect_contains DESC NEEDLE HAYSTACK.
# shellcheck source=../lib/assert.sh
. "$ROOT_DIR/tests/lib/assert.sh"

# No cgroup, mount or state of container ID left behind.
no_leftovers() {
  local id=$1
  [ ! -e "$STATE/$id" ] || { echo "state dir of $id left"; return 1; }
  ! grep -q "$WORK" /proc/self/mountinfo || { echo "mount under $WORK left"; return 1; }
  [ -z "$(find /sys/fs/cgroup -maxdepth 3 -type d -name "$id" 2>/dev/null)" ] || { echo "cgroup of $id left"; return 1; }
}

# traced_runtime: a wrapper around $BERTH_RUNTIME for engines (podman,
# containerd) that logs each call's start, arguments and end to
# $WORK/runtime-trace.log, so a hang shows which runtime call never returned.
traced_runtime() {
  local w=$WORK/berth-runtime-traced
  cat > "$w" <<EOF
#!/bin/bash
echo "\$(date +%T.%N) [\$\$] start \$*" >> "$WORK/runtime-trace.log"
"$BERTH_RUNTIME" "\$@"
rc=\$?
echo "\$(date +%T.%N) [\$\$] end rc=\$rc" >> "$WORK/runtime-trace.log"
exit \$rc
EOF
  chmod 755 "$w"
  echo "$w"
}

# stuck_report WHAT: where every process stands (state, kernel wait channel
# and stack of the engines', shims' and runtime's processes), and the
# runtime trace, for a command that did not finish in time.
stuck_report() {
  echo "=== stuck: $1"
  ps -eo pid,ppid,stat,etimes,wchan:28,args --forest 2>&1 | grep -v -E ' \[[^]]*\]$' | tail -n 80
  local p
  for p in $(pgrep -f 'podman|conmon|containerd|ctr |berth-runtime|runc' 2>/dev/null); do
    [ "$p" = $$ ] && continue
    echo "--- $p: $(tr '\0' ' ' < /proc/$p/cmdline 2>/dev/null | cut -c1-160)"
    head -n 12 /proc/$p/stack 2>/dev/null
  done
  echo "--- runtime trace (last 60 lines)"
  tail -n 60 "$WORK/runtime-trace.log" 2>/dev/null
  echo "=== end of report"
}

# bounded SECS CMD...: runs CMD; if it is still running after SECS, prints
# stuck_report (to stderr) and kills it, so a hang fails one check instead
# of eating the whole test's time. CMD's status is returned (137: killed).
bounded() {
  local secs=$1; shift
  local what="$*"
  # The watchdog writes to the test's own stderr, never into a $(...) that
  # captures CMD's output (which would then wait for the watchdog).
  (trap 'kill $s 2>/dev/null; wait $s; exit 0' TERM; sleep "$secs" & s=$!; wait $s; stuck_report "${what:0:200}") \
    >&"$REPORT_FD" 2>&1 &
  local watch=$! rc=0
  timeout -s KILL "$((secs + 20))" "$@" || rc=$?
  kill "$watch" 2>/dev/null; wait "$watch" 2>/dev/null || true
  return "$rc"
}

finish() {
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
}
