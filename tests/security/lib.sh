#!/usr/bin/env bash
# lib.sh — what the exploit tests share, on top of tests/host/lib.sh.
source "$(dirname "${BASH_SOURCE[0]}")/../host/lib.sh"
# 1: prove.sh runs the test against a build without its defence, and the
# test asserts that the attack succeeded.
EXPECT_ESCAPE=${BERTH_EXPECT_ESCAPE:-0}

# run_attack ID BUNDLE: a foreground `run` of the bundle (stdin from
# /dev/null, at most 60 s); sets OUT (its output) and RC (its status) and
# removes the container, whatever happened.
run_attack() {
  local id=$1 b=$2
  set +e
  OUT=$(bounded 60 "${RT[@]}" run --bundle "$b" "$id" < /dev/null 2>&1)
  RC=$?
  set -e
  "${RT[@]}" delete --force "$id" > /dev/null 2>&1 || true
  echo "# run $id (exit $RC): $(echo "$OUT" | tr '\r\n' '  ' | head -c 800)"
}

# climb_out HOSTPATH: a relative symlink target that, followed from
# anywhere below $WORK, climbs to / and then names HOSTPATH (inside a
# rootfs resolved as its root, it names HOSTPATH under the rootfs).
climb_out() {
  printf '../%.0s' $(seq 32)
  printf '%s\n' "${1#/}"
}
