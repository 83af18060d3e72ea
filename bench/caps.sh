#!/usr/bin/env bash
# Usage: bench/caps.sh [options]
#
# Capabilities benchmark: the direct syscalls of runtime/src/caps.cpp (a
# name table, capget/capset) against libcap 2.66, linked statically as
# berth-runtime would link it. With Docker's default set of 14 names it
# times (ns per call, the least of three rounds):
#   names   the 14 names to numbers (cap_from_name / the table)
#   sets    effective and permitted sets built from the numbers
#           (cap_init + cap_set_flag + cap_free / two 32-bit words)
#   apply   the process's sets read and applied again unchanged
#           (cap_get_proc + cap_set_proc / capget + capset)
# then the wall time of a process that does all three once (libcap's
# constructor probes the kernel's last capability at start-up), its peak
# RSS, and the stripped size of each program.
#
# Options:
#   --build DIR   build directory (default <repo>/build); needs
#                 bench/berth-bench-caps-{direct,libcap} (built when
#                 libcap-dev is installed)
#   -n N          process starts per program (default 500)
#   --short       one tenth of the repetitions, N=10 (CI smoke mode; never
#                 fails on a time)
#   -h, --help    this help
#
# Exit status: 0, or 1 if a program fails, or 2 on a usage error. Without
# the programs it says so and exits 0.
set -euo pipefail

source "$(dirname "$(readlink -f -- "${BASH_SOURCE[0]}")")/lib/common.sh"

BUILD=$REPO/build
N=500
REPS=200000
while (($#)); do
  case $1 in
    --build) (($# >= 2)) || die "--build needs a directory"; BUILD=$2; shift 2 ;;
    -n) (($# >= 2)) || die "-n needs a number"; N=$2; shift 2 ;;
    --short) N=10; REPS=20000; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done
[[ $N =~ ^[1-9][0-9]*$ ]] || die "bad N: $N"
[[ ${EPOCHREALTIME:-} ]] || die "bash >= 5 required (EPOCHREALTIME)"
WAYS=(direct libcap)
if ! build_targets "$BUILD" berth-bench-caps-direct berth-bench-caps-libcap; then
  echo "$PROG: libcap-dev was not found when $BUILD was configured; skipped"
  exit 0
fi
for w in "${WAYS[@]}"; do
  if [[ ! -x $BUILD/bench/berth-bench-caps-$w ]]; then
    echo "$PROG: $BUILD/bench/berth-bench-caps-$w not built (install libcap-dev and rebuild); skipped"
    exit 0
  fi
done

TMP=$(mktemp -d /tmp/berth-caps-bench.XXXXXX)
trap 'rm -rf -- "$TMP"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
for w in "${WAYS[@]}"; do cp -- "$BUILD/bench/berth-bench-caps-$w" "$TMP/$w"; done

declare -A T=()
for w in "${WAYS[@]}"; do
  read -r T[$w.names] T[$w.sets] T[$w.apply] < <("$TMP/$w" time "$REPS") || { echo "$PROG: $w failed" >&2; exit 1; }
  T[$w.rss]=$("$TMP/$w" once) || { echo "$PROG: $w failed" >&2; exit 1; }
  T[$w.start]=0
  cp -- "$TMP/$w" "$TMP/s" && strip "$TMP/s" && T[$w.size]=$(stat -c %s "$TMP/s")
done
for ((k = 0; k < N; k++)); do
  for w in "${WAYS[@]}"; do
    t0=$EPOCHREALTIME
    "$TMP/$w" once >/dev/null
    t1=$EPOCHREALTIME
    T[$w.start]=$(awk -v s="${T[$w.start]}" -v a="$t0" -v b="$t1" 'BEGIN{printf "%.6f", s + b - a}')
  done
done
for w in "${WAYS[@]}"; do T[$w.start]=$(awk -v s="${T[$w.start]}" -v n="$N" 'BEGIN{printf "%.3f", s * 1000 / n}'); done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.2fx", a/b; else print "-" }'; }
echo "== capabilities: direct syscalls against libcap $(dpkg-query -W -f='${Version}' libcap-dev 2>/dev/null || echo '?') (static) =="
echo "host: $(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "ratios are direct/libcap (below 1: direct better)"
echo
fmt='%-44s %10s %10s %8s\n'
printf "$fmt" measure direct libcap ratio
printf "$fmt" "names: 14 to numbers, ns" "${T[direct.names]}" "${T[libcap.names]}" "$(ratio "${T[direct.names]}" "${T[libcap.names]}")"
printf "$fmt" "sets: effective+permitted from numbers, ns" "${T[direct.sets]}" "${T[libcap.sets]}" "$(ratio "${T[direct.sets]}" "${T[libcap.sets]}")"
printf "$fmt" "apply: read and set the process's sets, ns" "${T[direct.apply]}" "${T[libcap.apply]}" "$(ratio "${T[direct.apply]}" "${T[libcap.apply]}")"
printf "$fmt" "process start + all three once, ms (N=$N)" "${T[direct.start]}" "${T[libcap.start]}" "$(ratio "${T[direct.start]}" "${T[libcap.start]}")"
printf "$fmt" "peak RSS, KiB" "${T[direct.rss]}" "${T[libcap.rss]}" "$(ratio "${T[direct.rss]}" "${T[libcap.rss]}")"
printf "$fmt" "stripped size, bytes" "${T[direct.size]}" "${T[libcap.size]}" "$(ratio "${T[direct.size]}" "${T[libcap.size]}")"
printf '%-44s %10s\n' "libcap.a adds to a program, bytes" "$((T[libcap.size] - T[direct.size]))"
