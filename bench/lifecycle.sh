#!/usr/bin/env bash
# Usage: bench/lifecycle.sh [options]
#
# Container lifecycle benchmark: berth-runtime against runc and crun.
# For every runtime that works on this host it measures, with one shared
# busybox bundle whose process is /bin/true:
#   run     N sequential foreground `run --bundle B ID` (the runtime deletes
#           the container when it exits)
#   cswd    N sequential create / start / wait (poll `state` until
#           "stopped") / delete
# and prints total seconds, ms per container, the peak RSS (KiB) of the
# runtime processes (max over all invocations, /usr/bin/time -f %M), and the
# ratios berth/runc and berth/crun where the anchor ran.
#
# Options:
#   --runtime PATH   berth-runtime binary (default:
#                    <repo>/build/runtime/berth-runtime)
#   -n N             containers per test (default 100)
#   --short          N=5 (CI smoke mode; never fails on a time)
#   --vm             re-run this script inside the cgroup-v2 VM
#                    (tests/vm/run-in-vm.sh) and print the in-VM table
#   --vm-timeout S   VM command timeout in seconds (default: 600 + 20*N)
#   -h, --help       this help
#
# Exit status: 0 unless berth-runtime itself fails to run a container (1),
# or on a usage error (2).  Anchors (runc, crun) that do not work on this
# host are reported as n/a, never as a failure.
set -euo pipefail

source "$(dirname "$(readlink -f -- "${BASH_SOURCE[0]}")")/lib/common.sh"

RUNTIME=$REPO/build/runtime/berth-runtime
RUNC=/usr/sbin/runc
CRUN=/usr/bin/crun
N=100
VM=0
IN_VM=0
VM_TIMEOUT=
while (($#)); do
  case $1 in
    --runtime) (($# >= 2)) || die "--runtime needs a path"; RUNTIME=$2; shift 2 ;;
    --runtime=*) RUNTIME=${1#*=}; shift ;;
    -n) (($# >= 2)) || die "-n needs a number"; N=$2; shift 2 ;;
    --short) N=5; shift ;;
    --vm) VM=1; shift ;;
    --vm-timeout) (($# >= 2)) || die "--vm-timeout needs seconds"; VM_TIMEOUT=$2; shift 2 ;;
    --in-vm) IN_VM=1; shift ;;   # internal: set when re-run inside the VM
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done
[[ $N =~ ^[1-9][0-9]*$ ]] || die "bad N: $N"
[[ -z $VM_TIMEOUT || $VM_TIMEOUT =~ ^[1-9][0-9]*$ ]] || die "bad --vm-timeout: $VM_TIMEOUT"
[[ $RUNTIME == /* ]] || RUNTIME=$PWD/$RUNTIME

# ------------------------------------------------------------------- --vm ---
if ((VM)); then
  harness=$REPO/tests/vm/run-in-vm.sh
  if [[ ! -x $harness ]]; then
    echo "$PROG: VM harness $harness not found (or not executable); skipping the VM tier"
    exit 0
  fi
  if ! "$harness" --help >/dev/null 2>&1; then
    echo "$PROG: VM harness $harness does not answer --help; skipping the VM tier"
    exit 0
  fi
  echo "== re-running inside the VM via ${harness#"$REPO"/} (N=$N) =="
  rc=0
  "$harness" -t "${VM_TIMEOUT:-$((600 + 20 * N))}" -C / -- \
    "$SELF" --in-vm --runtime "$RUNTIME" -n "$N" || rc=$?
  case $rc in
    0) exit 0 ;;
    1) echo "$PROG: berth-runtime failed inside the VM" >&2; exit 1 ;;
    124) echo "$PROG: WARNING: the in-VM benchmark timed out (TCG is slow; try --vm-timeout, or a runtime hung)" >&2; exit 0 ;;
    *) echo "$PROG: WARNING: VM harness failed (status $rc); no in-VM table" >&2; exit 0 ;;
  esac
fi

# ------------------------------------------------------------------ setup ---
[[ -x $RUNTIME ]] || { echo "$PROG: berth runtime $RUNTIME not found or not executable" >&2; exit 1; }
[[ ${EPOCHREALTIME:-} ]] || die "bash >= 5 required (EPOCHREALTIME)"

TMP=$(mktemp -d /tmp/berth-bench.XXXXXX)
NAMES=()            # runtime display names, in table order
declare -A BIN=()   # name -> binary
declare -A ROOT=()  # name -> state root

# shellcheck disable=SC2317  # invoked via trap
cleanup() {
  local rc=$? name p d
  trap - EXIT INT TERM
  for name in "${NAMES[@]}"; do
    d=${ROOT[$name]:-}
    [[ -d $d ]] || continue
    for p in "$d"/*/; do   # every runtime keeps one directory per container
      [[ -d $p ]] || continue
      p=${p%/}
      "${BIN[$name]}" --root "$d" delete --force "${p##*/}" </dev/null >/dev/null 2>&1 || true
    done
  done
  rm -rf -- "$TMP" 2>/dev/null || true
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Snapshot berth so a rebuild under us cannot change the binary mid-run.
cp -- "$RUNTIME" "$TMP/berth-runtime"
BIN[berth]=$TMP/berth-runtime
NAMES=(berth)
[[ -x $RUNC ]] && { BIN[runc]=$RUNC; NAMES+=(runc); }
[[ -x $CRUN ]] && { BIN[crun]=$CRUN; NAMES+=(crun); }
for name in "${NAMES[@]}"; do ROOT[$name]=$TMP/state-$name; mkdir -p "${ROOT[$name]}"; done

# Peak-RSS wrapper: GNU time if present, else a python3 wait4() shim.
RSSW=()
if [[ -x /usr/bin/time ]]; then
  RSSW=(/usr/bin/time -f %M -o)
elif command -v python3 >/dev/null; then
  cat >"$TMP/maxrss.py" <<'EOF'
import os, sys
out, argv = sys.argv[1], sys.argv[2:]
pid = os.fork()
if pid == 0:
    try:
        os.execv(argv[0], argv)
    finally:
        os._exit(127)
_, st, ru = os.wait4(pid, 0)
open(out, "w").write("%d\n" % ru.ru_maxrss)
sys.exit(os.waitstatus_to_exitcode(st) & 0xff)
EOF
  RSSW=(python3 "$TMP/maxrss.py")
else
  echo "$PROG: note: neither /usr/bin/time (apt-get install time) nor python3; peak RSS not measured" >&2
fi

# Shared bundle: busybox rootfs + berth's default spec, process /bin/true.
# ociVersion is pinned to 1.0.2 because crun 1.8.1 rejects any other
# ociVersion ("unknown version specified"); berth and runc accept it.
B=$TMP/bundle
mkdir -p "$B"
"$REPO/scripts/mkrootfs.sh" "$B/rootfs" >/dev/null
(cd "$B" && "${BIN[berth]}" spec) || { echo "$PROG: berth-runtime spec failed" >&2; exit 1; }
if command -v jq >/dev/null; then
  jq '.ociVersion="1.0.2" | .process.terminal=false | .process.args=["/bin/true"]' \
    "$B/config.json" >"$B/config.json.new"
else
  python3 - "$B/config.json" >"$B/config.json.new" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
c["ociVersion"] = "1.0.2"
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/true"]
json.dump(c, sys.stdout, indent=2)
EOF
fi
mv "$B/config.json.new" "$B/config.json"

# Second bundle, same rootfs, with a seccomp profile shaped like the
# engines' defaults (podman's, Docker's): every syscall this libc knows
# allowed by name but a few reaching the host's kernel as a whole, default
# ERRNO, the machine's 32-bit ABIs too. Its row, runsc, shows the profile's
# cost on top of run (the compile that berth-runtime caches).
TESTS=(run cswd)
BS=$TMP/bundle-seccomp
if command -v cpp >/dev/null && command -v jq >/dev/null; then
  mkdir -p "$BS"
  printf '#include <sys/syscall.h>\n' | cpp -dM - | sed -n 's/^#define __NR_\([a-z0-9_]*\) .*/\1/p' |
    grep -vx -e kexec_load -e kexec_file_load -e init_module -e finit_module -e delete_module \
      -e open_by_handle_at -e iopl -e ioperm -e swapon -e swapoff -e reboot -e acct |
    jq -R . | jq -s '{defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: 1,
      architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
      syscalls: [{names: ., action: "SCMP_ACT_ALLOW"}]}' >"$TMP/profile.json"
  if [[ $(uname -m) != x86_64 ]]; then
    jq '.architectures = []' "$TMP/profile.json" >"$TMP/p.json"
    mv "$TMP/p.json" "$TMP/profile.json"
  fi
  jq --slurpfile p "$TMP/profile.json" --arg root "$B/rootfs" '.root.path = $root | .linux.seccomp = $p[0]' \
    "$B/config.json" >"$BS/config.json"
  TESTS+=(runsc)
fi

# ------------------------------------------------------------ host facts ---
cgroup_layout() {
  local t v1=() m fs ctl
  t=$(stat -fc %T /sys/fs/cgroup 2>/dev/null || echo none)
  if [[ $t == cgroup2fs ]]; then
    echo "unified cgroup v2 at /sys/fs/cgroup (controllers: $(cat /sys/fs/cgroup/cgroup.controllers 2>/dev/null))"
    return
  fi
  local v2=
  while read -r _ m fs _; do
    case $fs in
      cgroup) v1+=("${m##*/}") ;;
      cgroup2) v2=$m ;;
    esac
  done </proc/self/mounts
  if [[ -n $v2 ]]; then
    ctl=$(cat "$v2/cgroup.controllers" 2>/dev/null)
    echo "hybrid: cgroup v1 (${v1[*]}) + cgroup2 at $v2 (controllers: ${ctl:-none})"
  else
    echo "legacy cgroup v1 (${v1[*]})"
  fi
}
HYBRID=0
[[ $(cgroup_layout) == hybrid:* ]] && HYBRID=1

echo "== berth lifecycle benchmark$( ((IN_VM)) && echo ' (inside the cgroup-v2 VM)'), N=$N =="
echo "kernel:  $(uname -srm)"
echo "cgroups: $(cgroup_layout)"
echo "cpus:    $(nproc)   load: $(cut -d' ' -f1-3 /proc/loadavg)"
for name in "${NAMES[@]}"; do
  v=$("${BIN[$name]}" --version 2>&1 </dev/null | head -n1) || true
  src=${BIN[$name]}; [[ $name == berth ]] && src=$RUNTIME
  printf '%-6s   %s  (%s)\n' "$name:" "${v:-?}" "$src"
done
# Build type of berth, if it lives in a CMake build tree (unoptimized
# builds make the numbers meaningless).
d=$(dirname "$RUNTIME")
while [[ $d != / && ! -f $d/CMakeCache.txt ]]; do d=$(dirname "$d"); done
if [[ -f $d/CMakeCache.txt ]]; then
  bt=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$d/CMakeCache.txt")
  san=$(sed -n 's/^BERTH_SANITIZE:[A-Z]*=//p' "$d/CMakeCache.txt")
  # The flags actually used (an empty cache value means the project's
  # default, RelWithDebInfo).
  opt=$(grep -m1 -o -- ' -O[123s]' "$d/build.ninja" 2>/dev/null | tr -d ' ' || true)
  note=
  [[ -n $opt ]] || note='  <- NOT optimized, use -DCMAKE_BUILD_TYPE=Release'
  echo "build:   CMAKE_BUILD_TYPE=${bt:-<default>} ${opt:-no -O} BERTH_SANITIZE=${san:-?} ($d)$note"
fi
[[ ${RSSW[0]:-} ]] || echo "rss:     not measured"
echo

# -------------------------------------------------------------- measuring ---
declare -A STATUS=() TOTAL=() PERMS=() RSS=()
ERR=$TMP/err

# call NAME OUT ARGS... : one runtime invocation; stdout to OUT, stderr
# appended to $ERR.  With MODE=rss it runs under the peak-RSS wrapper and
# raises MAXRSS.
MODE=plain
MAXRSS=0
call() {
  local n=$1 out=$2 k line; shift 2
  if [[ $MODE == rss ]]; then
    "${RSSW[@]}" "$TMP/rss" "${BIN[$n]}" --root "${ROOT[$n]}" "$@" </dev/null >"$out" 2>>"$ERR" || return
    k=
    while read -r line; do k=$line; done <"$TMP/rss"   # GNU time: %M is the last line
    if [[ $k =~ ^[0-9]+$ ]] && ((k > MAXRSS)); then MAXRSS=$k; fi
    return 0
  fi
  "${BIN[$n]}" --root "${ROOT[$n]}" "$@" </dev/null >"$out" 2>>"$ERR"
}
# wait_stopped NAME ID : poll `state` (no sleep) until "stopped"; 10 s limit
wait_stopped() {
  local n=$1 id=$2 s deadline=$((EPOCHSECONDS + 10))
  while :; do
    call "$n" "$TMP/state" state "$id" || return
    s=
    IFS= read -r -d '' s <"$TMP/state" || true
    [[ $s =~ \"status\":[[:space:]]*\"stopped\" ]] && return 0
    ((EPOCHSECONDS < deadline)) || { echo "container $id not stopped after 10 s: $s" >>"$ERR"; return 1; }
  done
}

# one test pass: pass NAME TEST TAG -> non-zero on the first failure
pass() {
  local n=$1 test=$2 tag=$3 i id o=$TMP/out
  for ((i = 0; i < N; i++)); do
    id=$tag-$i
    case $test in
      run) call "$n" "$o" run --bundle "$B" "$id" || return ;;
      runsc) call "$n" "$o" run --bundle "$BS" "$id" || return ;;
      cswd)
        call "$n" "$o" create --bundle "$B" "$id" || return
        call "$n" "$o" start "$id" || return
        wait_stopped "$n" "$id" || return
        call "$n" "$o" delete "$id" || return ;;
    esac
  done
}

fail() { # fail NAME WHAT
  local name=$1 what=$2 msg
  msg=$(tail -n 5 "$ERR" 2>/dev/null)
  if [[ $name == berth ]]; then
    echo "$PROG: berth-runtime failed: $what" >&2
    [[ -n $msg ]] && printf '%s\n' "$msg" | sed 's/^/  | /' >&2
    exit 1
  fi
  STATUS[$name]="n/a: $what failed: $(printf '%s' "$msg" | tail -n1)"
}

# Trial run of every runtime (also warms the page cache).  An anchor that
# cannot run a container at all is n/a on this host.
MODE=plain
for name in "${NAMES[@]}"; do
  : >"$ERR"
  if ! call "$name" "$TMP/out" run --bundle "$B" trial; then
    call "$name" /dev/null delete --force trial || true
    if [[ $name == crun ]] && ((HYBRID)) && grep -qi hybrid "$ERR"; then
      STATUS[$name]="n/a on this host (hybrid cgroups)"
    else
      fail "$name" "trial run"
    fi
    continue
  fi
  STATUS[$name]=ok
done

# Timed passes, runtimes interleaved per test so that background load hits
# them alike; then the peak-RSS passes (wrapper fork/exec must not skew the
# timing).
for test in "${TESTS[@]}"; do
  for name in "${NAMES[@]}"; do
    [[ ${STATUS[$name]} == ok ]] || continue
    : >"$ERR"
    MODE=plain
    t0=$EPOCHREALTIME
    if ! pass "$name" "$test" "t$test"; then fail "$name" "$test"; continue; fi
    t1=$EPOCHREALTIME
    TOTAL[$name.$test]=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}')
    PERMS[$name.$test]=$(awk -v a="$t0" -v b="$t1" -v n="$N" 'BEGIN{printf "%.2f", (b-a)*1000/n}')
  done
done
if [[ ${RSSW[0]:-} ]]; then
  MODE=rss
  for test in "${TESTS[@]}"; do
    for name in "${NAMES[@]}"; do
      [[ ${STATUS[$name]} == ok ]] || continue
      : >"$ERR"
      MAXRSS=0
      if ! pass "$name" "$test" "m$test"; then fail "$name" "$test (rss pass)"; continue; fi
      RSS[$name.$test]=$MAXRSS
    done
  done
fi

# ----------------------------------------------------------------- table ---
ratio() { # ratio A B -> "0.42x" or "-"
  [[ -n ${1:-} && -n ${2:-} ]] || { echo -; return; }
  awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.2fx", a/b; else print "-" }'
}
fmt='%-6s %-5s %9s %9s %9s %8s %8s %8s %8s\n'
# shellcheck disable=SC2059
printf "$fmt" runtime test total_s ms/ctr rss_KiB t/runc rss/runc t/crun rss/crun
# shellcheck disable=SC2059
printf "$fmt" ------ ----- -------- ------ ------- ------ -------- ------ --------
for name in "${NAMES[@]}"; do
  if [[ ${STATUS[$name]:-} != ok ]]; then
    printf '%-6s %s\n' "$name" "${STATUS[$name]:-n/a}"
    continue
  fi
  for test in "${TESTS[@]}"; do
    k=$name.$test
    r=(- - - -)
    if [[ $name == berth ]]; then
      for a in runc crun; do
        [[ ${STATUS[$a]:-} == ok ]] || { [[ $a == runc ]] && r[0]=n/a r[1]=n/a || r[2]=n/a r[3]=n/a; continue; }
        if [[ $a == runc ]]; then
          r[0]=$(ratio "${TOTAL[$k]:-}" "${TOTAL[runc.$test]:-}")
          r[1]=$(ratio "${RSS[$k]:-}" "${RSS[runc.$test]:-}")
        else
          r[2]=$(ratio "${TOTAL[$k]:-}" "${TOTAL[crun.$test]:-}")
          r[3]=$(ratio "${RSS[$k]:-}" "${RSS[crun.$test]:-}")
        fi
      done
    fi
    # shellcheck disable=SC2059
    printf "$fmt" "$name" "$test" "${TOTAL[$k]:--}" "${PERMS[$k]:--}" "${RSS[$k]:--}" "${r[@]}"
  done
done
echo
echo "run  = N x foreground 'run' of /bin/true; cswd = N x create/start/wait(state poll)/delete"
echo "runsc = run with an engine-like seccomp profile ($(jq '.syscalls[0].names | length' "$TMP/profile.json" 2>/dev/null || echo 0) syscalls allowed by name)"
echo "rss  = peak RSS of the runtime process (max over N invocations of each command, own pass)"

# Goals are informational only: never fail on a time.
goal() { # goal TEST ANCHOR FACTOR WHAT
  local k=berth.$1 a=$2.$1 v
  [[ ${STATUS[$2]:-} == ok && -n ${TOTAL[$k]:-} && -n ${TOTAL[$a]:-} ]] || return 0
  v=$(awk -v a="${TOTAL[$k]}" -v b="${TOTAL[$a]}" -v f="$3" 'BEGIN{print (a <= f*b) ? "met" : "MISSED"}')
  printf 'goal: %-4s time <= %sx %s: %s\n' "$1" "$3" "$2" "$v"
  if [[ $2 == crun && -n ${RSS[$k]:-} && -n ${RSS[$a]:-} ]]; then
    v=$( ((RSS[$k] <= RSS[$a])) && echo met || echo MISSED)
    printf 'goal: %-4s rss  <= crun: %s\n' "$1" "$v"
  fi
}
if [[ ${STATUS[berth]:-} == ok ]]; then
  for test in run cswd; do
    goal "$test" crun 0.5
    ((HYBRID)) && goal "$test" runc 0.25
  done
fi
exit 0
