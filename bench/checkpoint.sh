#!/usr/bin/env bash
# Usage: bench/checkpoint.sh [-n N] [--short] [--runtime PATH] [--vm-timeout S]
#
# checkpoint and restore (CRIU) of the same busybox container by
# berth-runtime and by runc, in one run: N rounds of each of run -d, a
# counter seen moving, checkpoint (the container dumped and deleted),
# restore -d (the counter seen moving on), delete. Prints the median time
# of checkpoint and restore per runtime, their ratio, and the images' size.
#
# CRIU fails `criu check` on this machine's host kernel: where it does,
# the script re-runs itself in the cgroup-v2 VM (tests/vm/run-in-vm.sh,
# TCG: every figure there is slow in absolute terms; compare the ratio).
# --short: N=1 (CI keeps the script working; no time is ever asserted).
set -euo pipefail
SELF=$(readlink -f -- "${BASH_SOURCE[0]}")
REPO=$(cd "$(dirname "$SELF")/.." && pwd)
PROG=${0##*/}
N=5
RUNTIME=$REPO/build/runtime/berth-runtime
IN_VM=0
VM_TIMEOUT=
while (($#)); do
  case $1 in
    -n) N=$2; shift 2 ;;
    --short) N=1; shift ;;
    --runtime) RUNTIME=$(readlink -f -- "$2"); shift 2 ;;
    --vm-timeout) VM_TIMEOUT=$2; shift 2 ;;
    --in-vm) IN_VM=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$SELF"; exit 0 ;;
    *) echo "$PROG: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ $N =~ ^[1-9][0-9]*$ ]] || { echo "$PROG: -n wants a positive number" >&2; exit 2; }
for tool in criu runc jq; do
  command -v $tool >/dev/null || { echo "$PROG: $tool not installed; skipped"; exit 0; }
done
[ -x "$RUNTIME" ] || { echo "$PROG: $RUNTIME not built; skipped"; exit 0; }

ip link set lo up 2>/dev/null || true
if ! criu check >/dev/null 2>&1; then
  if ((IN_VM)); then echo "$PROG: criu check fails in the VM too; skipped"; exit 0; fi
  echo "== criu check fails on this kernel ($(uname -r)): re-running inside the VM (N=$N) =="
  rc=0
  "$REPO/tests/vm/run-in-vm.sh" -t "${VM_TIMEOUT:-$((300 + 60 * N))}" -C / -- \
    "$SELF" --in-vm --runtime "$RUNTIME" -n "$N" || rc=$?
  if ((rc == 124)); then echo "$PROG: WARNING: the in-VM run timed out" >&2; exit 0; fi
  exit "$rc"
fi

WORK=$(mktemp -d /tmp/berth-bench-cr.XXXXXX)
pids=()
finish() {
  for r in berth runc; do
    local rt=$RUNTIME; [ $r = runc ] && rt=runc
    "$rt" --root "$WORK/state-$r" delete -f bench-cr >/dev/null 2>&1 || true
  done
  kill "${pids[@]}" 2>/dev/null || true
  rm -rf "$WORK"
}
trap finish EXIT
B=$WORK/bundle
mkdir -p "$B"
"$REPO/scripts/mkrootfs.sh" "$B/rootfs" >/dev/null  # runc refuses a rootfs that is a symlink
(cd "$B" && "$RUNTIME" spec)
jq '.process.terminal=false | .root.readonly=false
    | .process.args=["sh","-c","i=0; while :; do i=$((i+1)); echo $i > /tmp/count; sleep 0.05; done"]' \
  "$B/config.json" > "$B/c.json" && mv "$B/c.json" "$B/config.json"

count() { local c; c=$(cat "$B/rootfs/tmp/count" 2>/dev/null); echo "${c:-0}"; }
moving() { local a; a=$(count); for _ in $(seq 400); do [ "$(count)" -gt "$a" ] && return 0; sleep 0.05; done; return 1; }
now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

declare -A CK RS SZ
for r in berth runc; do
  rt=$RUNTIME; [ $r = runc ] && rt=runc
  R=("$rt" --root "$WORK/state-$r")
  ck=() rs=()
  for i in $(seq "$N"); do
    exec {in}< <(exec sleep 100000); pids+=($!)
    exec {out}> >(exec cat > "$WORK/out"); pids+=($!)
    # stdio are pipes, as an engine's are (a file outside the container
    # cannot be dumped); what the runtime says on failure is in $WORK/out.
    "${R[@]}" run -d --bundle "$B" bench-cr <&$in >&$out 2>&$out || { sleep 0.2; cat "$WORK/out" >&2; exit 1; }
    moving || { echo "$PROG: $r: the counter never moved" >&2; exit 1; }
    img=$WORK/img-$r-$i
    t0=$(now); "${R[@]}" checkpoint --image-path "$img" bench-cr; t1=$(now)
    "${R[@]}" restore -d --image-path "$img" --bundle "$B" bench-cr <&$in >&$out 2>&$out; t2=$(now)
    moving || { echo "$PROG: $r: the counter did not go on after restore" >&2; exit 1; }
    "${R[@]}" delete -f bench-cr
    exec {in}<&- {out}>&-
    ck+=($(((t1 - t0) / 1000000))) rs+=($(((t2 - t1) / 1000000)))
    SZ[$r]=$(du -sk "$img" | cut -f1)
  done
  CK[$r]=$(printf '%s\n' "${ck[@]}" | median)
  RS[$r]=$(printf '%s\n' "${rs[@]}" | median)
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf (b > 0 ? "%.2fx" : "-"), a / b}'; }
echo "checkpoint/restore of a busybox container, median of $N, $(uname -r), criu $(criu --version | awk '/^Version/ {print $2}')"
printf '%-22s %12s %12s %10s\n' step berth-runtime runc ratio
printf '%-22s %10s ms %10s ms %10s\n' checkpoint "${CK[berth]}" "${CK[runc]}" "$(ratio "${CK[berth]}" "${CK[runc]}")"
printf '%-22s %10s ms %10s ms %10s\n' "restore -d" "${RS[berth]}" "${RS[runc]}" "$(ratio "${RS[berth]}" "${RS[runc]}")"
printf '%-22s %9s KiB %9s KiB %10s\n' "images" "${SZ[berth]}" "${SZ[runc]}" "$(ratio "${SZ[berth]}" "${SZ[runc]}")"
