# berthd_lib.sh — what the berthd host tests share: a work directory,
# checks, starting berthd on it, and a cleanup that leaves no process,
# mount, runtime state or cgroup behind. Sourced after `set -euo pipefail`.
: "${BERTHD:?set BERTHD to the berthd binary}"
: "${BERTH:?set BERTH to the berth CLI}"
: "${BERTH_MONITOR:?set BERTH_MONITOR to the berth-monitor binary}"
: "${BERTH_RUNTIME:?set BERTH_RUNTIME to the berth-runtime binary}"
ROOT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORK=$(mktemp -d /tmp/berth-sup-test.XXXXXX)
chmod 711 "$WORK"  # unprivileged containers traverse it to their rootfs
STATE=$WORK/state RUN=$WORK/run SOCK=$WORK/berthd.sock CG=berth.test-$$
# A berthd test killed before its trap ran (a ctest timeout) leaves its
# cgroup parent, with the containers whose monitors went with it: the
# next one sweeps them, known by the dead test's pid in the name.
for d in $(find /sys/fs/cgroup -maxdepth 2 -type d -name 'berth.test-*' 2>/dev/null); do
  [ -e "/proc/${d##*-}" ] && continue
  find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null | xargs -r kill -9 2>/dev/null || true
  sleep 0.2
  find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
done
export BERTH_SOCKET=$SOCK
# Sanitizer builds: reports of berthd, the monitors and the CLI land in
# files the test checks at the end (the daemons' stderr is not the test's).
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:log_path=$WORK/sanitizer" UBSAN_OPTIONS="print_stacktrace=1:log_path=$WORK/sanitizer"
BPID= EPID=
# shellcheck source=../lib/assert.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/assert.sh"

# Processes started from this test's directories (monitors, containers' inits).
our_pids() {
  local p
  for p in /proc/[0-9]*; do
    { tr '\0' ' ' < "$p/cmdline"; } 2>/dev/null | grep -q -- "$RUN/" && echo "${p#/proc/}"
  done
  return 0
}

# A test that hangs is killed by ctest's timeout (300 s) without a word
# on where. After HANG_DUMP_AFTER seconds (240) this prints, into the
# test's own output, every process of the test with its kernel wait
# channel and stack, and the threads' backtraces of berthd, the monitors
# and the CLI calls when gdb is there.
hang_dump() {
  set +e
  echo "# --- still running after ${HANG_DUMP_AFTER:-240}s: processes, kernel stacks, backtraces"
  ps -eo pid,ppid,stat,etimes,wchan:32,args --forest | grep -v ' \[' | sed 's/^/# /'
  local p
  for p in $BPID $(pgrep -x berth) $(our_pids) $(pgrep -x lxcfs); do
    [ -e "/proc/$p" ] || continue
    echo "# --- $p: $(tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | cut -c1-160)"
    sed 's/^/#   /' "/proc/$p/stack" 2>/dev/null
    command -v gdb >/dev/null && timeout 20 gdb -p "$p" -batch -ex 'thread apply all bt 30' 2>/dev/null |
      grep -E '^(#|Thread)' | sed 's/^/#   /'
  done
  tail -n 30 "$WORK/berthd.log" 2>/dev/null | sed 's/^/# berthd.log: /'
}
( s=; trap 'kill $s 2>/dev/null; exit 0' TERM; sleep "${HANG_DUMP_AFTER:-240}" >/dev/null 2>&1 & s=$!; wait $s; hang_dump ) &
HANG_WATCH=$!

cleanup() {
  set +e
  kill "$HANG_WATCH" 2>/dev/null
  [ -n "$EPID" ] && kill "$EPID" 2>/dev/null
  [ -n "$BPID" ] && kill -9 "$BPID" 2>/dev/null && wait "$BPID" 2>/dev/null
  for p in $(our_pids); do kill -9 "$p" 2>/dev/null; done
  sleep 0.2
  if [ -d "$RUN/runtime" ]; then
    for id in $(ls "$RUN/runtime"); do "$BERTH_RUNTIME" --root "$RUN/runtime" delete --force "$id" >/dev/null 2>&1; done
  fi
  # Template containers' disks: the overlay, then the ext4 (whose loop
  # device detaches itself).
  for m in $(awk -v w="$WORK/" 'index($5, w) == 1 {print $5}' /proc/self/mountinfo | sort -r); do umount -l "$m"; done
  for l in $(losetup -a 2>/dev/null | awk -F: -v w="$WORK/" 'index($0, w) {print $1}'); do losetup -d "$l"; done
  for d in $(find /sys/fs/cgroup -maxdepth 3 -type d -name "$CG" 2>/dev/null); do
    find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

# start_berthd [FLAG...]: berthd on the test's directories, extra flags added.
# Its id ranges come from the test's own subuid/subgid files ($SUBUID,
# $SUBGID; empty unless a test writes them), never from the machine's.
# start_berthd [FLAG...]: berthd on the test's directories, in the network
# namespace named by $BERTHD_NETNS when set (the host's otherwise).
start_berthd() {
  : "${SUBUID:=$WORK/subuid}" "${SUBGID:=$WORK/subgid}"
  touch "$SUBUID" "$SUBGID"
  ${BERTHD_NETNS:+nsenter --net=/run/netns/$BERTHD_NETNS} "$BERTHD" --state-dir "$STATE" --run-dir "$RUN" --socket "$SOCK" --cgroup-parent "$CG" \
    --monitor "$BERTH_MONITOR" --subuid "$SUBUID" --subgid "$SUBGID" "$@" >>"$WORK/berthd.log" 2>&1 &
  BPID=$!
  for _ in $(seq 100); do
    "$BERTH" list >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "berthd did not come up"; cat "$WORK/berthd.log"; return 1
}

field() { "$BERTH" status "$1" --format json | jq -r "$2"; }
now_ms() { date +%s%3N; }

# booted NAME: until a busybox-template container's rcS has run (10 s at most).
booted() {
  local i
  for i in $(seq 100); do
    "$BERTH" exec "$1" test -e /run/berth-booted >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

# make_init_rootfs: a plain busybox root at $TPL (for --rootfs) whose init
# marks the boot in /run/booted and keeps a service running.
make_init_rootfs() {
  TPL=$WORK/tpl
  "$ROOT_DIR/scripts/mkrootfs.sh" "$TPL" >/dev/null
  ln -sf ../bin/busybox "$TPL/sbin/init"
  printf '::sysinit:/bin/touch /run/booted\n::respawn:/bin/sleep 1000000\n' > "$TPL/etc/inittab"
}
