#!/usr/bin/env bash
# containerd_test.sh — Debian's containerd, started by the test on its own
# socket, root and state, runs containers through `ctr run --runc-binary`
# pointed at berth-runtime (containerd-shim-runc-v2 drives it with
# --log-format json): run, exit status, memory limit, exec, pause/resume,
# metrics, kill, delete.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
command -v containerd >/dev/null || { echo "containerd missing (scripts/deps.sh installs it)"; exit 1; }

C=$WORK/ctd
CG_PARENT=/berth-ctd-test-$$
source "$ROOT_DIR/tests/lib/containerd.sh"
start_containerd "$C"
ctd_cleanup() {
  set +e
  for t in $("${CTR[@]}" task ls -q 2>/dev/null); do "${CTR[@]}" task kill -s KILL "$t" >/dev/null 2>&1; done
  sleep 0.3
  for t in $("${CTR[@]}" task ls -q 2>/dev/null); do "${CTR[@]}" task rm -f "$t" >/dev/null 2>&1; done
  for c in $("${CTR[@]}" container ls -q 2>/dev/null); do "${CTR[@]}" container rm "$c" >/dev/null 2>&1; done
  kill "$CTD_PID" 2>/dev/null; wait "$CTD_PID" 2>/dev/null
  grep -o "$C[^ ]*" /proc/self/mountinfo | sort -ru | while read -r m; do umount -l "$m" 2>/dev/null; done
  for d in /sys/fs/cgroup$CG_PARENT /sys/fs/cgroup/*$CG_PARENT; do
    [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
  cleanup
}
trap ctd_cleanup EXIT
# Each ctr call is bounded: a hang fails its check with a report of where
# containerd, its shim and the runtime stood, instead of eating the test.
ct() { bounded "${CT_TIMEOUT:-150}" "${CTR[@]}" "$@"; }
check "containerd started on its own socket" test -S "$C/ctd.sock"

"$ROOT_DIR/tests/lib/mkociarchive.sh" "$(base_rootfs)" "$WORK/bb.tar" localhost/berth-bb:1
check "image imported" ct image import "$WORK/bb.tar"
RUN=(run --runc-binary "$(traced_runtime)")
IMG=localhost/berth-bb:1

out=$(ct "${RUN[@]}" --rm --cgroup "$CG_PARENT/t1" $IMG t1 echo hello-containerd 2>&1) || true
expect_eq "ctr run prints" "hello-containerd" "$out"

rc=0; ct "${RUN[@]}" --rm --cgroup "$CG_PARENT/t2" $IMG t2 sh -c 'exit 6' >/dev/null 2>&1 || rc=$?
expect_eq "ctr run returns the container's exit status" 6 "$rc"

ct "${RUN[@]}" -d --cgroup "$CG_PARENT/t4" --memory-limit 67108864 $IMG t4 \
  sh -c 'trap "exit 0" TERM; while true; do sleep 0.1; done' >/dev/null 2>&1
expect_eq "ctr run -d: running" RUNNING "$(ct task ls | awk '$1=="t4"{print $3}')"
# ctr's default spec mounts no cgroupfs inside: read the limit on the host.
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then lim=/sys/fs/cgroup$CG_PARENT/t4/memory.max
else lim=/sys/fs/cgroup/memory$CG_PARENT/t4/memory.limit_in_bytes; fi
expect_eq "--memory-limit set on the container's cgroup" 67108864 "$(cat "$lim" 2>&1)"
rc=0; out=$(ct task exec --exec-id e1 t4 sh -c 'echo exec-ok; exit 4' 2>&1) || rc=$?
expect_eq "ctr task exec: output" exec-ok "$out"
expect_eq "ctr task exec: exit status" 4 "$rc"
check "ctr task pause" ct task pause t4
expect_eq "paused" PAUSED "$(ct task ls | awk '$1=="t4"{print $3}')"
check "ctr task resume" ct task resume t4
expect_eq "running again" RUNNING "$(ct task ls | awk '$1=="t4"{print $3}')"
out=$(ct task metrics t4 2>&1) || true
expect_contains "ctr task metrics" "memory" "$out"
check "ctr task kill (SIGTERM)" ct task kill t4
for _ in $(seq 50); do [ "$(ct task ls | awk '$1=="t4"{print $3}')" = STOPPED ] && break; sleep 0.1; done
expect_eq "stopped after SIGTERM" STOPPED "$(ct task ls | awk '$1=="t4"{print $3}')"
check "ctr task rm" ct task rm t4
check "ctr container rm" ct container rm t4
expect_eq "no tasks left" "" "$(ct task ls -q)"
left=$(find /sys/fs/cgroup -path "*$CG_PARENT/*" -type d 2>/dev/null)
expect_eq "no container cgroup left" "" "$left"
finish
