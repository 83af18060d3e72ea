#!/usr/bin/env bash
# berthd_lxcfs_test.sh — /proc views: inside a container /proc/meminfo,
# cpuinfo, stat, uptime, loadavg and /sys/devices/system/cpu/online show
# its own limits (lxcfs, started by berthd on its run directory); lxcfs
# outlives a killed berthd and is taken over; it stops, unmounted, with the
# last container; without lxcfs containers still start (warned once).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/berthd_lib.sh"
command -v lxcfs >/dev/null || { echo "1..0 # SKIP lxcfs is not installed"; exit 77; }
if grep -q ' /var/lib/lxcfs .* fuse.lxcfs ' /proc/self/mountinfo; then VIEWS=/var/lib/lxcfs OWN=no; else VIEWS=$RUN/lxcfs OWN=yes; fi

make_init_rootfs

lxcfs_running() { pgrep -x lxcfs | while read -r p; do tr '\0' ' ' < "/proc/$p/cmdline" | grep -q -- "$RUN/lxcfs" && echo "$p"; done; true; }
lxcfs_mounts() { grep -c " $RUN/lxcfs .* fuse.lxcfs " /proc/self/mountinfo || true; }
booted() { for _ in $(seq 100); do "$BERTH" exec "$1" -- test -e /run/booted && return 0; sleep 0.05; done; return 1; }

start_berthd
host_kb=$(awk '/^MemTotal/ {print $2}' /proc/meminfo)
host_cpus=$(nproc)
"$BERTH" create ct1 --rootfs "$TPL" --ram 256M --cpus 1 >/dev/null
"$BERTH" create ct2 --rootfs "$TPL" --cpuset 0 >/dev/null
"$BERTH" start ct1 >/dev/null
booted ct1
if [ "$OWN" = yes ]; then
  expect_eq "berthd started one lxcfs on its run directory" 1 "$(lxcfs_running | wc -l)"
  expect_eq "lxcfs is mounted there" 1 "$(lxcfs_mounts)"
fi

# --- the container's own limits ---
expect_eq "meminfo: MemTotal is the container's 256M" "262144 kB" "$("$BERTH" exec ct1 -- awk '/^MemTotal/ {print $2, $3}' /proc/meminfo)"
# What procps' free -m prints (it reads /proc/meminfo); busybox's free
# asks sysinfo(2), which lxcfs cannot change.
expect_eq "free (from /proc/meminfo) shows 256M" 256 "$("$BERTH" exec ct1 -- awk '/^MemTotal/ {print int($2 / 1024)}' /proc/meminfo)"
expect_eq "cpuinfo: one processor for --cpus 1" 1 "$("$BERTH" exec ct1 -- grep -c ^processor /proc/cpuinfo)"
expect_eq "stat: one cpuN line" 1 "$("$BERTH" exec ct1 -- grep -c '^cpu[0-9]' /proc/stat)"
expect_eq "cpu/online: one CPU" 0 "$("$BERTH" exec ct1 -- cat /sys/devices/system/cpu/online)"
up=$("$BERTH" exec ct1 -- cut -d. -f1 /proc/uptime)
host_up=$(cut -d. -f1 /proc/uptime)
expect_eq "uptime is the container's, not the node's" yes "$([ "$up" -lt 60 ] && [ "$host_up" -ge 60 ] && echo yes || echo "no ($up vs $host_up)")"
expect_contains "loadavg is served" "/" "$("$BERTH" exec ct1 -- cat /proc/loadavg)"
expect_eq "the views are read-only" no "$("$BERTH" exec ct1 -- sh -c '(echo x > /proc/meminfo) 2>/dev/null && echo yes || echo no')"
"$BERTH" start ct2 >/dev/null
booted ct2
expect_eq "nproc follows --cpuset 0" 1 "$("$BERTH" exec ct2 -- nproc)"
expect_eq "cpuinfo follows --cpuset 0" 1 "$("$BERTH" exec ct2 -- grep -c ^processor /proc/cpuinfo)"
expect_eq "no RAM limit: the node's memory" "$host_kb" "$("$BERTH" exec ct2 -- awk '/^MemTotal/ {print $2}' /proc/meminfo)"
expect_eq "one lxcfs for the node" "$([ "$OWN" = yes ] && echo 1 || echo 0)" "$(lxcfs_running | wc -l)"
"$BERTH" set ct1 --ram 128M >/dev/null
expect_eq "a live RAM change shows at once" "131072 kB" "$("$BERTH" exec ct1 -- awk '/^MemTotal/ {print $2, $3}' /proc/meminfo)"

# --- berthd killed: lxcfs stays for the running containers, is taken over ---
kill -9 "$BPID"; wait "$BPID" 2>/dev/null || true; BPID=
expect_eq "views still served with berthd gone" "131072 kB" "$("$BERTH_RUNTIME" --root "$RUN/runtime" exec ct1 awk '/^MemTotal/ {print $2, $3}' /proc/meminfo)"
start_berthd
expect_eq "after re-adoption: views served" "131072 kB" "$("$BERTH" exec ct1 -- awk '/^MemTotal/ {print $2, $3}' /proc/meminfo)"
[ "$OWN" = yes ] && expect_eq "after re-adoption: still one lxcfs" 1 "$(lxcfs_running | wc -l)"
"$BERTH" stop ct1 >/dev/null
expect_eq "lxcfs kept while a container runs" "$([ "$OWN" = yes ] && echo 1 || echo 0)" "$(lxcfs_running | wc -l)"
"$BERTH" stop ct2 >/dev/null
expect_eq "lxcfs stopped with the last container" "" "$(lxcfs_running)"
expect_eq "lxcfs unmounted with the last container" 0 "$(lxcfs_mounts)"
"$BERTH" start ct1 >/dev/null
booted ct1
expect_eq "lxcfs back for the next start" "131072" "$("$BERTH" exec ct1 -- awk '/^MemTotal/ {print $2}' /proc/meminfo)"
"$BERTH" stop ct1 >/dev/null

# --- without lxcfs: containers start, one warning ---
kill "$BPID"; wait "$BPID" 2>/dev/null || true; BPID=
"$BERTHD" --state-dir "$STATE" --run-dir "$RUN" --socket "$SOCK" --cgroup-parent "$CG" \
  --monitor "$BERTH_MONITOR" --lxcfs "$WORK/no-such-lxcfs" >"$WORK/berthd-nolxcfs.log" 2>&1 &
BPID=$!
for _ in $(seq 100); do "$BERTH" list >/dev/null 2>&1 && break; sleep 0.05; done
if [ "$OWN" = yes ]; then
  "$BERTH" start ct1 >/dev/null
  "$BERTH" start ct2 >/dev/null
  booted ct1
  expect_eq "without lxcfs: the container runs" running "$(field ct1 .state)"
  expect_eq "without lxcfs: the kernel's meminfo" "$host_kb" "$("$BERTH" exec ct1 -- awk '/^MemTotal/ {print $2}' /proc/meminfo)"
  expect_eq "without lxcfs: warned once" 1 "$(grep -c 'lxcfs: .*not found' "$WORK/berthd-nolxcfs.log")"
  "$BERTH" stop --all >/dev/null
fi
kill "$BPID"; wait "$BPID" 2>/dev/null || true; BPID=
expect_eq "berthd gone: no lxcfs left" "" "$(lxcfs_running)"
start_berthd
"$BERTH" destroy ct1 >/dev/null
"$BERTH" destroy ct2 >/dev/null
expect_eq "no monitor, init or lxcfs left" "" "$(our_pids)"
expect_eq "no mounts left" 0 "$(grep -c "$WORK" /proc/self/mountinfo || true)"
expect_eq "no sanitizer reports" "" "$(cat "$WORK"/sanitizer.* 2>/dev/null | head -20)"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
