#!/usr/bin/env bash
# systemd_cgroup_test.sh — --systemd-cgroup where systemd is not running:
# create fails early with a clear error and leaves nothing behind. (With
# systemd as PID 1, tests/vm/systemd_cgroup_test.sh covers the real thing.)
source "$(dirname "$0")/lib.sh"

expect_eq "features reports the systemd cgroup manager" true \
  "$("$BERTH_RUNTIME" features | jq .linux.cgroup.systemd)"
if [ -d /run/systemd/system ]; then
  echo "skip - systemd is running here; see tests/vm/systemd_cgroup_test.sh"
  finish
  exit
fi

# expect_unreachable DESC ID CGROUP JQ-EXPR
expect_unreachable() {
  local desc=$1 id=$2 cg=$3 b out rc
  b=$(JQ="$4" make_bundle "$id" sleep 100)
  set +e
  out=$("${RT[@]}" --systemd-cgroup create --bundle "$b" "$id" 2>&1)
  rc=$?
  set -e
  check "$desc: create fails" test "$rc" -ne 0
  expect_contains "$desc: says why" "systemd cgroup manager: cannot reach systemd over D-Bus" "$out"
  check "$desc: no state dir left" test ! -e "$STATE/$id"
  check "$desc: no cgroup left" test ! -e "/sys/fs/cgroup/$cg"
  check "$desc: nothing else left" no_leftovers "$id"
}

expect_unreachable "slice:prefix:name" sd-a system.slice/berth-sd-a.scope \
  '.linux.cgroupsPath="system.slice:berth:sd-a"'
expect_unreachable "no cgroupsPath" sd-b system.slice/berth-sd-b.scope 'del(.linux.cgroupsPath)'

b=$(JQ='.linux.cgroupsPath="/not/a/systemd/path"' make_bundle sd-c true)
set +e; out=$("${RT[@]}" --systemd-cgroup create --bundle "$b" sd-c 2>&1); rc=$?; set -e
check "a cgroupfs path is refused" test "$rc" -ne 0
expect_contains "the refusal names linux.cgroupsPath" "linux.cgroupsPath" "$out"
check "a refused path leaves nothing" no_leftovers sd-c

finish
