#!/usr/bin/env bash
# podman_test.sh — Debian's podman drives berth-runtime through --runtime:
# run, exit status, limits visible inside, exec, a terminal, pause/unpause,
# stats, stop, rm. Runs on the hybrid host and (through the vm tier) on
# pure cgroup v2. podman keeps everything in the test's own directories.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
command -v podman >/dev/null || { echo "podman missing (scripts/deps.sh installs it)"; exit 1; }

# Storage on a tmpfs: podman's overlay driver cannot stack on the VM's
# overlay root, and a tmpfs is gone with the test whatever happens.
mkdir -p "$WORK/pm"
mount -t tmpfs -o mode=700 berth-podman "$WORK/pm"
# PODMAN_CGROUP_MANAGER=systemd (with systemd as PID 1) has podman pass
# --systemd-cgroup and slice:prefix:name paths; cgroupfs is the default.
CGM=${PODMAN_CGROUP_MANAGER:-cgroupfs}
if [ "$CGM" = systemd ]; then CG_PARENT=/berthpodmantest$$.slice; else CG_PARENT=/berth-podman-test-$$; fi
podman_cleanup() {
  set +e
  bounded 60 "${P[@]}" rm -af -t 0 >/dev/null 2>&1 || true
  umount -R "$WORK/pm" 2>/dev/null || umount -l "$WORK/pm" 2>/dev/null || true
  # podman puts conmon in libpod_parent/conmon (cgroupfs manager): removed
  # here once empty, like the test's own parent.
  for d in /sys/fs/cgroup$CG_PARENT /sys/fs/cgroup/*$CG_PARENT /sys/fs/cgroup/unified$CG_PARENT \
           /sys/fs/cgroup/libpod_parent /sys/fs/cgroup/*/libpod_parent; do
    [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
  cleanup
}
trap podman_cleanup EXIT

P=(podman --root "$WORK/pm/storage" --runroot "$WORK/pm/run" --tmpdir "$WORK/pm/tmp"
   --storage-driver overlay --cgroup-manager "$CGM" --events-backend none
   --runtime "$(traced_runtime)")
# Each podman call is bounded: a hang fails its check with a report of
# where podman, conmon and the runtime stood, instead of eating the test.
pm() { bounded "${PM_TIMEOUT:-150}" "${P[@]}" "$@"; }
# The machine's bounding set lacks CAP_SYS_RESOURCE, so podman's default
# rlimits (raised hard limits) fail with any runtime: ask for lower ones.
RUN=(run --network none --cgroup-parent "${CG_PARENT#/}" --ulimit nofile=1024:1024 --ulimit nproc=4096:4096)

rootfs=$(base_rootfs)
tar -C "$rootfs" -cf "$WORK/rootfs.tar" .
pm import -q "$WORK/rootfs.tar" localhost/berth-bb:1 >/dev/null

out=$(pm "${RUN[@]}" --rm localhost/berth-bb:1 echo hello-podman 2>&1) || true
expect_eq "podman run prints" "hello-podman" "$out"

# Where podman itself uses AppArmor (it needs securityfs and the parser).
if [ "$(pm info --format '{{.Host.Security.AppArmorEnabled}}' 2>/dev/null)" = true ]; then
  out=$(pm "${RUN[@]}" --rm localhost/berth-bb:1 cat /proc/self/attr/current 2>&1) || true
  expect_contains "podman's AppArmor profile confines the container" "containers-default" "$out"
fi
rc=0; pm "${RUN[@]}" --rm localhost/berth-bb:1 sh -c 'exit 7' >/dev/null 2>&1 || rc=$?
expect_eq "podman run returns the container's exit status" 7 "$rc"

if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  lim='cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/cpu.max'
  want=$'67108864\n50000 100000'
else
  lim='cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.cfs_quota_us'
  want=$'67108864\n50000'
fi
out=$(pm "${RUN[@]}" --rm --memory 64m --cpus 0.5 localhost/berth-bb:1 sh -c "$lim" 2>&1) || true
expect_eq "--memory 64m --cpus 0.5 visible inside" "$want" "$out"

rc=0; out=$(pm "${RUN[@]}" --rm -t localhost/berth-bb:1 sh -c 'tty; exit 5' </dev/null 2>&1) || rc=$?
expect_eq "podman run -t: exit status through the terminal" 5 "$rc"
expect_contains "podman run -t: a pty inside" "/dev/pts/" "$out"

pm "${RUN[@]}" -d --name berth-c1 localhost/berth-bb:1 \
  sh -c 'trap "exit 0" TERM; while true; do sleep 0.1; done' >/dev/null
expect_eq "podman run -d: running" running "$(pm inspect -f '{{.State.Status}}' berth-c1)"

rc=0; out=$(pm exec berth-c1 sh -c 'echo in-$(hostname); exit 3' 2>&1) || rc=$?
expect_eq "podman exec: exit status" 3 "$rc"
expect_contains "podman exec: output" "in-" "$out"
out=$(pm exec -t berth-c1 tty </dev/null 2>&1) || true
expect_contains "podman exec -t: a pty" "/dev/pts/" "$out"

check "podman pause" pm pause berth-c1
expect_eq "paused" paused "$(pm inspect -f '{{.State.Status}}' berth-c1)"
check "podman unpause" pm unpause berth-c1
expect_eq "running again" running "$(pm inspect -f '{{.State.Status}}' berth-c1)"

pids=$(pm stats --no-stream --format '{{.PIDs}}' berth-c1 2>&1)
check "podman stats: pids counted ($pids)" test "${pids:-0}" -ge 1 2>/dev/null
mem=$(pm stats --no-stream --format json berth-c1 2>/dev/null | jq -r '.[0].mem_usage' 2>/dev/null)
check "podman stats: memory usage reported ($mem)" test -n "$mem" -a "$mem" != "0B / 0B"

# podman container checkpoint/restore drives the runtime's checkpoint and
# restore (CRIU): the container's in-memory counter goes on after restore,
# its output still reaching podman's log through conmon's new pipes.
ip link set lo up 2>/dev/null || true
if criu_out=$(criu check 2>&1); then
  pm "${RUN[@]}" -d --name berth-cr localhost/berth-bb:1 \
    sh -c 'i=0; while :; do i=$((i+1)); echo $i; sleep 0.1; done' >/dev/null
  last() { pm logs berth-cr 2>/dev/null | tail -n1; }
  for _ in $(seq 100); do [ "$(last)" -ge 5 ] 2>/dev/null && break; sleep 0.1; done
  rc=0; out=$(pm container checkpoint berth-cr 2>&1) || rc=$?
  expect_eq "podman container checkpoint ($out)" 0 "$rc"
  expect_eq "checkpointed: exited" exited "$(pm inspect -f '{{.State.Status}}' berth-cr)"
  n=$(last)
  rc=0; out=$(pm container restore berth-cr 2>&1) || rc=$?
  expect_eq "podman container restore ($out)" 0 "$rc"
  expect_eq "restored: running" running "$(pm inspect -f '{{.State.Status}}' berth-cr)"
  for _ in $(seq 100); do [ "$(last)" -gt "$n" ] 2>/dev/null && break; sleep 0.1; done
  logs=$(pm logs berth-cr 2>/dev/null)
  check "the counter went on past $n after restore" test "$(last)" -gt "$n"
  expect_eq "... from $((n + 1)), once (memory restored, not restarted)" "1 1" \
    "$(grep -cx "$((n + 1))" <<<"$logs") $(grep -cx 1 <<<"$logs")"
  check "podman rm -f the restored container" pm rm -f berth-cr
else
  ok "podman checkpoint skipped: criu check fails on this kernel ($(uname -r)): $(grep -m1 -i error <<<"$criu_out")"
fi

t0=$(date +%s%N)
check "podman stop" pm stop -t 10 berth-c1
ms=$((($(date +%s%N) - t0) / 1000000))
check "podman stop: SIGTERM honoured, not the 10 s kill (${ms} ms)" test "$ms" -lt 9000
expect_eq "exited" exited "$(pm inspect -f '{{.State.Status}}' berth-c1)"
check "podman rm" pm rm berth-c1
expect_eq "no containers left" "" "$(pm ps -aq)"
left=$(find /sys/fs/cgroup -path "*$CG_PARENT/libpod-*" -type d 2>/dev/null)
if [ "$CGM" = systemd ]; then
  expect_eq "no libpod scope left in systemd" "" "$(systemctl list-units --no-legend 'libpod-*.scope' 2>&1 | grep -v conmon)"
fi
expect_eq "no container cgroup left under $CG_PARENT" "" "$left"
finish
