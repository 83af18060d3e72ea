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

# attack_rootfs_5736 DIR: the busybox rootfs with the CVE-2019-5736 attack
# program at /attack and, for a dynamically linked runtime (the sanitizer
# build), the libraries it needs once the kernel runs it in the container,
# as it would from an image with a C library.
attack_rootfs_5736() {
  local dir=$1 lib
  : "${BERTH_ATTACK_5736:?set BERTH_ATTACK_5736 to the attack program}"
  cp -a "$(base_rootfs)" "$dir"
  cp "$BERTH_ATTACK_5736" "$dir/attack"
  if ldd "$BERTH_RUNTIME" >/dev/null 2>&1; then
    for lib in $(ldd "$BERTH_RUNTIME" | grep -o '/[^ ]*'); do
      mkdir -p "$dir$(dirname "$lib")"
      cp -L "$lib" "$dir$lib"
    done
  fi
}

# judge_5736 HOW VERDICT BEFORE AFTER MARKER: the CVE-2019-5736 outcome
# through HOW (an engine's exec, the runtime's own), from the attacker's
# verdict, the binary's hashes before and after, and the payload's marker.
judge_5736() {
  local how=$1 verdict=$2 before=$3 after=$4 marker=$5
  if [ "$EXPECT_ESCAPE" = 1 ]; then
    expect_contains "undefended ($how): the attacker overwrote the host binary" "escaped:" "$verdict"
    check "undefended ($how): the host binary changed" test "$before" != "$after"
    check "undefended ($how): the payload ran on the host" test -e "$marker"
  else
    # The attack reached the write (it held a process running the binary
    # and opened its exe), and the write was refused.
    expect_contains "CVE-2019-5736 ($how): the attacker got as far as the write, which was refused" \
      "refused: open for writing" "$verdict"
    expect_eq "CVE-2019-5736 ($how): host binary unchanged" "$before" "$after"
    check "CVE-2019-5736 ($how): the payload never ran on the host" test ! -e "$marker"
  fi
}
