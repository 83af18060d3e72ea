#!/usr/bin/env bash
# supervisor_test.sh — berthd, berth-monitor and the berth CLI on this host:
# a busybox system container is created, started, exec'd into, limited,
# stopped, suspended, re-adopted after kill -9 of berthd, and destroyed
# with nothing left behind. Inside, sysinfo(2) (busybox free and uptime)
# shows the container's limits and uptime.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/berthd_lib.sh"

cgroup_file() { # cgroup_file CONTROLLER V1FILE V2FILE
  if [ -d "/sys/fs/cgroup/$1/$CG/ct1" ]; then cat "/sys/fs/cgroup/$1/$CG/ct1/$2"; else cat "/sys/fs/cgroup/$CG/ct1/$3"; fi
}

# A busybox system container template: busybox init with an inittab that
# marks the boot finished and keeps a service running.
TPL=$WORK/tpl
"$ROOT_DIR/scripts/mkrootfs.sh" "$TPL" >/dev/null
ln -sf ../bin/busybox "$TPL/sbin/init"
cat > "$TPL/etc/inittab" <<'TAB'
::sysinit:/bin/sh -c 'free > /run/free.boot'
::sysinit:/bin/touch /run/booted
::respawn:/bin/sleep 1000000
::shutdown:/bin/echo halting
TAB

start_berthd

# --- bad input: refused, naming the field, nothing made ---
set +e
out=$("$BERTH" create bad1 --rootfs "$WORK/none" 2>&1); rc=$?
set -e
expect_contains "missing template names rootfs" "rootfs: $WORK/none has no sbin/init" "$out"
expect_eq "missing template exits 3" 3 "$rc"
set +e
out=$("$BERTH" create bad1 --rootfs "$TPL" --cpus -1 2>&1); rc=$?
set -e
expect_contains "negative cpus named" "cpus: expected a non-negative integer" "$out"
expect_eq "bad input exits 2" 2 "$rc"
out=$("$BERTH" create bad1 --rootfs "$TPL" --colour red 2>&1 || true)
expect_contains "unknown field named" "colour: unknown field" "$out"
out=$("$BERTH" create bad1 --rootfs "$TPL" --ram 100000G 2>&1 || true)
expect_contains "more RAM than the node refused" "ram: " "$out"
out=$("$BERTH" create bad1 --rootfs "$TPL" --cpus 100000 2>&1 || true)
expect_contains "more CPUs than the node refused" "cpus: " "$out"
expect_eq "nothing made for refused creates" "" "$(ls "$STATE/containers")"
head -c 2000000 /dev/zero | tr '\0' ' ' > "$WORK/big.json"
http_code() { curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" "$@"; }
expect_eq "too large body refused" 413 "$(http_code --data-binary @"$WORK/big.json" http://b/v1/containers)"
expect_eq "malformed JSON refused" 400 "$(http_code --data-binary '{nope' http://b/v1/containers)"
expect_eq "unknown path" 404 "$(http_code http://b/v2/containers)"
python3 - "$SOCK" <<'PY'
import socket, sys
for junk in (b"\x00\x01GARBAGE\r\n\r\n", b"GET /v1 HTTP/1.1\r\nContent-Length: x\r\n\r\n", b"POST /v1/containers HTTP/1.1\r\n"):
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(junk); s.shutdown(socket.SHUT_WR); s.recv(4096); s.close()
PY
expect_eq "berthd serves after malformed requests" 0 "$("$BERTH" list >/dev/null; echo $?)"

# --- create, start, exec ---
"$BERTH" events > "$WORK/events.log" 2>&1 &
EPID=$!
"$BERTH" create ct1 --rootfs "$TPL" --ram 64M --cpus 1 --pids 200 --hostname ct1.test >/dev/null
expect_contains "config file written" 'RAM="67108864"' "$(cat "$STATE/containers/ct1/config")"
set +e
out=$("$BERTH" create ct1 --rootfs "$TPL" 2>&1); rc=$?
set -e
expect_contains "duplicate name refused" "already exists" "$out"
expect_eq "duplicate name exits 4" 4 "$rc"

t0=$(now_ms)
"$BERTH" start ct1 >/dev/null
t1=$(now_ms)
echo "# start latency: $((t1 - t0)) ms"
expect_eq "running after start" running "$(field ct1 .state)"
INIT1=$(field ct1 .init_pid)
MON1=$(field ct1 .monitor_pid)
for _ in $(seq 100); do "$BERTH" exec ct1 -- test -e /run/booted && break; sleep 0.05; done
expect_eq "init is busybox" /bin/busybox "$(readlink /proc/"$INIT1"/exe)"
expect_eq "monitor is the init's parent" "$MON1" "$(awk '{print $4}' /proc/"$INIT1"/stat)"
expect_eq "monitor is not berthd's child" 1 "$( [ "$(awk '{print $4}' /proc/"$MON1"/stat)" != "$BPID" ] && echo 1 )"
set +e
out=$("$BERTH" exec ct1 -- sh -c 'echo out; echo err >&2; exit 3' 2>"$WORK/err"); rc=$?
set -e
expect_eq "exec stdout" out "$out"
expect_eq "exec stderr" err "$(cat "$WORK/err")"
expect_eq "exec exit status" 3 "$rc"
BASE=$(sed -n 's/^IDMAP_BASE="\(.*\)"$/\1/p' "$STATE/containers/ct1/config")
expect_eq "unprivileged: own id range recorded" 16777216 "$BASE"
expect_eq "unprivileged: root inside maps to the range" "0 $BASE 65536" "$("$BERTH" exec ct1 -- cat /proc/self/uid_map | tr -s ' ' | sed 's/^ //')"
expect_eq "unprivileged: rootfs shifted" "$BASE:$BASE" "$(stat -c %u:%g "$STATE/containers/ct1/rootfs/bin/busybox")"
expect_eq "unprivileged: init runs as the range's first uid" "$BASE" "$(awk '/^Uid:/{print $2}' /proc/"$INIT1"/status)"
expect_eq "hostname inside" ct1.test "$("$BERTH" exec ct1 -- hostname)"
# The default seccomp profile: swapon reaches the host's swap, so it fails
# with ENOSYS (without the profile: EPERM, for want of CAP_SYS_ADMIN).
expect_contains "seccomp: swapon is not implemented inside" "Function not implemented" \
  "$("$BERTH" exec ct1 -- sh -c 'dd if=/dev/zero of=/tmp/sw bs=4k count=16 2>/dev/null; swapon /tmp/sw 2>&1; rm -f /tmp/sw')"
# sysinfo(2) is answered by the monitor from the container's cgroup: busybox
# free (KiB) shows the 64M limit and uptime the container's, in the init's
# processes (a sysinit line, run before the monitor serves), an exec and a
# terminal session (the monitor's own helper) alike.
mem_total() { tr -d '\r' | awk '/^Mem:/ {print $2}'; }
expect_eq "sysinfo: free in the init's processes shows 64M" 65536 "$("$BERTH" exec ct1 -- cat /run/free.boot | mem_total)"
expect_eq "sysinfo: free in an exec shows 64M" 65536 "$("$BERTH" exec ct1 -- free | mem_total)"
set +e
out=$("$BERTH" exec ct1 -- /no/such/command 2>&1); rc=$?
set -e
expect_eq "exec: a command that cannot start fails with 255" 255 "$rc"
expect_contains "exec: a command that cannot start is named" "/no/such/command" "$out"
expect_eq "sysinfo: free on a terminal shows 64M" 65536 "$("$BERTH" exec -t ct1 -- free < /dev/null | mem_total)"
up=$("$BERTH" exec ct1 -- uptime)
expect_eq "sysinfo: uptime is the container's, not the node's" yes \
  "$([[ "$up" =~ up\ ([0-9]+)\ min ]] && [ "${BASH_REMATCH[1]}" -lt 10 ] && echo yes || echo "$up")"
notify_fds() { ls -l /proc/"$1"/fd | grep -c 'anon_inode:seccomp notify'; }
for _ in $(seq 40); do [ "$(notify_fds "$MON1")" = 1 ] && break; sleep 0.05; done
expect_eq "sysinfo: the monitor keeps the init's notify fd, drops the ended execs'" 1 "$(notify_fds "$MON1")"
expect_eq "boot finished (sysinit ran)" yes "$("$BERTH" exec ct1 -- sh -c 'test -e /run/booted && echo yes')"
expect_eq "memory limit" 67108864 "$(cgroup_file memory memory.limit_in_bytes memory.max)"
expect_eq "pids limit" 200 "$(cgroup_file pids pids.max pids.max)"
expect_eq "cpu quota" 100000 "$(cgroup_file cpu cpu.cfs_quota_us cpu.max | cut -d' ' -f1)"
NCPU=$(nproc)
if [ "$NCPU" -gt 1 ]; then
  # --cpus 1 on a bigger node pins, as Incus does: nproc inside says 1.
  expect_eq "--cpus 1: nproc inside says 1" 1 "$("$BERTH" exec ct1 -- nproc)"
  expect_eq "--cpus 1: pinned to the least used CPU" 0 "$(cgroup_file cpuset cpuset.cpus cpuset.cpus)"
  expect_eq "the record keeps no cpuset of its own" "" "$(field ct1 '.config.cpuset // ""')"
fi
st=$("$BERTH" status ct1)
expect_contains "status shows memory use" "memory " "$st"
expect_contains "status shows the RAM limit for people" "ram          64M" "$st"
expect_eq "status names the container once" 1 "$(grep -c '^name ' <<<"$st")"
check_iso() { grep -Eq '^started +[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$' <<<"$st"; }
if check_iso; then ok "status: started as an ISO date"; else fail "status: started as an ISO date: $st"; fi
expect_contains "list shows the RAM limit for people" " 64M " "$("$BERTH" list)"
m=$("$BERTH" metrics)
expect_contains "metrics per container" 'berth_container_pids{name="ct1"}' "$m"
expect_contains "metrics: block I/O per container" 'berth_container_io_write_bytes_total{name="ct1"}' "$m"

# --- console and log ---
timeout 3 "$BERTH" console ct1 < /dev/null > "$WORK/console.out" 2>&1 &
CPID=$!
sleep 0.5
"$BERTH" exec ct1 -- sh -c 'echo via-console > /dev/console'
wait "$CPID" || true
expect_contains "console attach shows the console" via-console "$(cat "$WORK/console.out")"
expect_contains "log holds the console output" via-console "$("$BERTH" log ct1)"
expect_contains "operations record who asked" '"by":"uid 0' "$(curl -s --unix-socket "$SOCK" http://b/v1/operations)"

# --- set: live where the kernel allows ---
out=$("$BERTH" set ct1 --ram 128M --hostname other)
expect_contains "ram applied live" "ram: applied" "$out"
expect_contains "hostname waits for restart" "hostname: saved, takes effect at the next start" "$out"
expect_eq "memory limit raised live" 134217728 "$(cgroup_file memory memory.limit_in_bytes memory.max)"
expect_eq "sysinfo: a live RAM change shows in free" 131072 "$("$BERTH" exec ct1 -- free | mem_total)"
out=$("$BERTH" set ct1 --pids 0 2>&1 || true)
expect_contains "bad set names the field" "pids: expected 1..4194304" "$out"
if [ "$NCPU" -gt 1 ]; then
  "$BERTH" set ct1 --cpus "$NCPU" >/dev/null
  expect_eq "set --cpus to every CPU unpins live: nproc inside" "$NCPU" "$("$BERTH" exec ct1 -- nproc)"
  "$BERTH" set ct1 --cpus 1 >/dev/null
  expect_eq "set --cpus 1 pins again live" 1 "$("$BERTH" exec ct1 -- nproc)"
fi

# --- suspend / resume ---
"$BERTH" suspend ct1 >/dev/null
expect_eq "suspended" suspended "$(field ct1 .state)"
frozen=$(cgroup_file freezer freezer.state cgroup.freeze)
expect_eq "cgroup frozen" 1 "$( [ "$frozen" = FROZEN ] || [ "$frozen" = 1 ] && echo 1 )"
set +e
"$BERTH" exec ct1 -- true >/dev/null 2>&1; rc=$?
set -e
expect_eq "exec refused while suspended" 4 "$rc"
"$BERTH" resume ct1 >/dev/null
expect_eq "running after resume" running "$(field ct1 .state)"

# --- stop / start ---
t0=$(now_ms)
"$BERTH" stop ct1 >/dev/null
t1=$(now_ms)
echo "# stop latency (busybox init halting on SIGUSR2): $((t1 - t0)) ms"
expect_eq "stopped" stopped "$(field ct1 .state)"
expect_eq "init gone" 1 "$( [ ! -e /proc/"$INIT1" ] && echo 1 )"
expect_contains "exit recorded" '"signal"' "$(cat "$STATE/containers/ct1/exit.json")"
expect_contains "console log kept" halting "$(cat "$STATE/containers/ct1/console.log")"
set +e
"$BERTH" stop ct1 >/dev/null 2>&1; rc=$?
set -e
expect_eq "stop of a stopped container exits 4" 4 "$rc"
"$BERTH" start ct1 >/dev/null
expect_eq "new hostname after restart" other "$("$BERTH" exec ct1 -- hostname)"
INIT2=$(field ct1 .init_pid)
MON2=$(field ct1 .monitor_pid)
rss=$(awk '/^Rss:/{print $2}' /proc/"$MON2"/smaps_rollup)
pss=$(awk '/^Pss:/{print $2}' /proc/"$MON2"/smaps_rollup)
echo "# berth-monitor per container: RSS ${rss} KiB, PSS ${pss} KiB (LXC monitor: RSS ~2900 KiB, PSS ~425 KiB)"

# --- kill -9 berthd: the container survives and is re-adopted ---
kill -9 "$BPID"
wait "$BPID" 2>/dev/null || true
kill "$EPID" 2>/dev/null || true
EPID=
expect_eq "init alive without berthd" 1 "$( [ -e /proc/"$INIT2" ] && echo 1 )"
start_berthd
expect_eq "re-adopted as running" running "$(field ct1 .state)"
expect_eq "same init pid after re-adoption" "$INIT2" "$(field ct1 .init_pid)"
expect_eq "same monitor after re-adoption" "$MON2" "$(field ct1 .monitor_pid)"
expect_eq "exec after re-adoption" ok "$("$BERTH" exec ct1 -- echo ok)"
if [ "$NCPU" -gt 1 ]; then
  # The adopted ct1's pin (CPU 0) is read back from its bundle: a new
  # --cpus 1 container goes to the other CPU.
  "$BERTH" create ctp --rootfs "$TPL" --cpus 1 >/dev/null
  "$BERTH" start ctp >/dev/null
  ctpcpus=$(cat /sys/fs/cgroup/cpuset/$CG/ctp/cpuset.cpus 2>/dev/null || cat /sys/fs/cgroup/$CG/ctp/cpuset.cpus)
  expect_eq "re-adopted pin counted: a new --cpus 1 container on the other CPU" 1 "$ctpcpus"
  "$BERTH" stop ctp --force >/dev/null
  "$BERTH" destroy ctp >/dev/null
fi
"$BERTH" events > "$WORK/events2.log" 2>&1 &
EPID=$!
sleep 0.2
"$BERTH" stop ct1 --timeout 10 >/dev/null
expect_eq "stop after re-adoption" stopped "$(field ct1 .state)"
expect_contains "events: created" '"type":"created"' "$(cat "$WORK/events.log")"
expect_contains "events: started" '"type":"started"' "$(cat "$WORK/events.log")"
expect_contains "events after re-adoption: stopped" '"type":"stopped"' "$(cat "$WORK/events2.log")"

# --- restart policy: a crashed init comes back ---
"$BERTH" set ct1 --restart on-failure >/dev/null
"$BERTH" start ct1 >/dev/null
INIT3=$(field ct1 .init_pid)
kill -9 "$INIT3"
for _ in $(seq 60); do
  p=$(field ct1 .init_pid); [ "$p" != null ] && [ "$p" != "$INIT3" ] && break; sleep 0.1
done
expect_eq "restarted after a crash" running "$(field ct1 .state)"

# --- node "reboot": berthd, the monitor and the container all die; the
# next berthd cleans the leftovers and autostarts the container ---
"$BERTH" set ct1 --autostart yes --boot-order 2 --restart no >/dev/null
INIT4=$(field ct1 .init_pid)
kill -9 "$BPID"; wait "$BPID" 2>/dev/null || true
for p in $(our_pids); do kill -9 "$p" 2>/dev/null || true; done
for _ in $(seq 50); do [ -e /proc/"$INIT4" ] || break; sleep 0.1; done
# A reboot empties the run directory (a tmpfs), and with it the note that
# this boot's autostart was done.
rm -f "$RUN/autostarted"
start_berthd
for _ in $(seq 100); do [ "$(field ct1 .state)" = running ] && break; sleep 0.05; done
expect_eq "autostarted after a node restart" running "$(field ct1 .state)"
expect_eq "a new init after a node restart" 1 "$( [ "$(field ct1 .init_pid)" != "$INIT4" ] && echo 1 )"
expect_contains "boot order recorded" 'BOOT_ORDER="2"' "$(cat "$STATE/containers/ct1/config")"

# --- a second container gets its own id range; privileged is a choice ---
"$BERTH" create ct2 --rootfs "$TPL" --cpus 1 >/dev/null
"$BERTH" create ct3 --rootfs "$TPL" --privileged yes --ram 96M >/dev/null
"$BERTH" start ct2 >/dev/null
"$BERTH" start ct3 >/dev/null
if [ "$NCPU" -gt 1 ]; then
  # ct1 (started again by the new berthd) holds CPU 0, so ct2 goes to CPU 1.
  ct2cpus=$(cat /sys/fs/cgroup/cpuset/$CG/ct2/cpuset.cpus 2>/dev/null || cat /sys/fs/cgroup/$CG/ct2/cpuset.cpus)
  expect_eq "--cpus 1 beside a pinned container: the other CPU" 1 "$ct2cpus"
fi
expect_eq "second container: next id range" "0 $((BASE + 65536)) 65536" "$("$BERTH" exec ct2 -- cat /proc/self/uid_map | tr -s ' ' | sed 's/^ //')"
expect_eq "privileged container: host ids" "0 0 4294967295" "$("$BERTH" exec ct3 -- cat /proc/self/uid_map | tr -s ' ' | sed 's/^ //')"
expect_eq "privileged container: free shows its 96M" 98304 "$("$BERTH" exec ct3 -- free | mem_total)"
out=$("$BERTH" set ct2 --privileged yes 2>&1 || true)
expect_contains "privileged fixed at create" "privileged: cannot be changed" "$out"
"$BERTH" stop --all >/dev/null
expect_eq "stop --all stops every container" "stopped stopped stopped" "$(for c in ct1 ct2 ct3; do field $c .state; done | xargs)"
"$BERTH" destroy ct2 >/dev/null
"$BERTH" destroy ct3 >/dev/null

# --- destroy: nothing left ---
"$BERTH" destroy ct1 >/dev/null
set +e
"$BERTH" status ct1 >/dev/null 2>&1; rc=$?
set -e
expect_eq "status of a destroyed container exits 3" 3 "$rc"
expect_eq "state dir removed" "" "$(ls "$STATE/containers")"
expect_eq "no monitor or init left" "" "$(our_pids)"
expect_eq "no mounts left" 0 "$(grep -c "$WORK" /proc/self/mountinfo || true)"
expect_eq "no cgroup left" "" "$(find /sys/fs/cgroup -maxdepth 4 -type d -path "*$CG/ct1" 2>/dev/null)"
expect_eq "no runtime state left" "" "$(ls "$RUN/runtime" | grep -vx 'seccomp@cache')"
# Every guest had the same default seccomp profile but for its listener:
# one compiled program served them all.
expect_eq "one compiled seccomp program for every guest" 1 "$(ls "$RUN/runtime/seccomp@cache" | wc -l)"
expect_eq "the cgroup parent exists while berthd runs" yes "$(find /sys/fs/cgroup -maxdepth 2 -type d -name "$CG" 2>/dev/null | grep -q . && echo yes)"
kill -TERM "$BPID"; wait "$BPID" 2>/dev/null || true; BPID=
expect_eq "berthd's exit removes its idle cgroup parent" "" "$(find /sys/fs/cgroup -maxdepth 2 -type d -name "$CG" 2>/dev/null)"

# --- id ranges from root's lines in /etc/subuid and /etc/subgid (Incus's way) ---
echo "alice:100000:65536" > "$WORK/subuid"
printf 'alice:100000:65536\nroot:2000027648:65536\n' > "$WORK/subgid"
echo "root:2000027648:65536" >> "$WORK/subuid"
start_berthd
"$BERTH" create ct5 --rootfs "$TPL" >/dev/null
expect_eq "subuid: the range is root's" 2000027648 "$(sed -n 's/^IDMAP_BASE="\(.*\)"$/\1/p' "$STATE/containers/ct5/config")"
set +e
out=$("$BERTH" create ct6 --rootfs "$TPL" 2>&1); rc=$?
set -e
expect_eq "subuid: no range left exits 1" 1 "$rc"
expect_contains "subuid: says why, naming the files" "no free range of 65536 ids left in root's ranges of $WORK/subuid and $WORK/subgid" "$out"
expect_eq "subuid: nothing made for the refused create" "" "$(ls "$STATE/containers" | grep ct6 || true)"
"$BERTH" destroy ct5 >/dev/null
kill -TERM "$BPID"; wait "$BPID" 2>/dev/null || true; BPID=

expect_eq "no sanitizer reports" "" "$(cat "$WORK"/sanitizer.* 2>/dev/null | head -20)"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
