#!/usr/bin/env bash
# Usage: tests/conformance/run.sh --runtime [NAME=]PATH [--runtime ...] [options]
#
# Runs the OCI runtime-tools validation suite (built by setup.sh) against
# one or more OCI runtimes, one after the other, and prints per test the TAP
# pass/fail/skip counts, then a summary table and — with two or more
# runtimes — every check that passes on a reference runtime but not on the
# candidate (the first --runtime), with the candidate's TAP diagnostics.
#
# Options:
#   --runtime [NAME=]PATH  runtime to test (repeatable); NAME defaults to the
#                          file name.  The first one is the candidate.
#   --reference NAME       compare the candidate with NAME (repeatable;
#                          default: every other runtime)
#   --gate NAME            exit 1 when the candidate fails a check that NAME
#                          passes (repeatable)
#   --fail-on-regression   --gate every reference
#   --out DIR              results directory (default
#                          $CACHE/results/<date>-<pid>); one subdirectory per
#                          runtime with <test>.tap/.err/.rc/.leftovers
#   --timeout SECONDS      per validation binary (default 300)
#   --only REGEX           run only the tests whose name matches
#   --skip REGEX           skip the tests whose name matches
#   --no-setup             do not run setup.sh (the suite must be built)
#   --report DIR           only print the report of an earlier run
#   --list                 list the tests and exit
#   -h, --help             this help
#
# How the suite is driven: each validation binary runs in a scratch
# directory holding rootfs-amd64.tar.gz (a busybox rootfs from
# scripts/mkrootfs.sh) and the static runtimetest binary, with RUNTIME set
# to a wrapper that runs `PATH --root <scratch>/state-NAME "$@"` (so each
# runtime keeps its state apart) and TMPDIR pointing into the scratch
# directory (where the suite makes its bundles).  After every test,
# containers still in the state directory are force-deleted, processes
# whose root is in the scratch directory are killed, mounts under it are
# detached and the cgroups the suite names (cgrouptest, testdir) are
# removed; what had to be cleaned is recorded in <test>.leftovers.
#
# Environment: BERTH_CONFORMANCE_CACHE (default /var/tmp/berth-conformance),
#   BERTH_CONFORMANCE_SCRATCH (parent of the scratch directory, default /var/tmp).
# Exit status: 0; 1 when a --gate fails; 77 when the suite is unavailable
# (see setup.sh); 2 on usage errors.
set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd -- "$HERE/../.." && pwd)
CACHE=${BERTH_CONFORMANCE_CACHE:-/var/tmp/berth-conformance}
PROG=conformance
usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }
die() { printf '%s: %s\n' "$PROG" "$*" >&2; exit 2; }

NAMES=() PATHS=() REFS=() GATES=()
OUT='' TIMEOUT=300 ONLY='' SKIP='' SETUP=1 REPORT_ONLY='' LIST=0 FAIL_ALL=0
while (($#)); do
  case $1 in
    --runtime) (($# >= 2)) || die "--runtime needs an argument"
      spec=$2; shift 2
      if [[ $spec == *=* ]]; then n=${spec%%=*}; p=${spec#*=}; else p=$spec; n=$(basename "$p"); fi
      [[ $n =~ ^[A-Za-z0-9_.-]+$ ]] || die "bad runtime name: $n"
      NAMES+=("$n"); PATHS+=("$p") ;;
    --reference) REFS+=("$2"); shift 2 ;;
    --gate) GATES+=("$2"); shift 2 ;;
    --fail-on-regression) FAIL_ALL=1; shift ;;
    --out) OUT=$2; shift 2 ;;
    --timeout) [[ $2 =~ ^[0-9]+$ ]] || die "bad timeout: $2"; TIMEOUT=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --skip) SKIP=$2; shift 2 ;;
    --no-setup) SETUP=0; shift ;;
    --report) REPORT_ONLY=$2; shift 2 ;;
    --list) LIST=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done

report() { # report RESULTS_DIR
  local args=("$1")
  if ((${#NAMES[@]})); then args+=(--candidate "${NAMES[0]}"); fi
  local r
  for r in "${REFS[@]}"; do args+=(--reference "$r"); done
  for r in "${GATES[@]}"; do args+=(--gate "$r"); done
  if [[ $FAIL_ALL == 1 ]]; then args+=(--fail-on-regression); fi
  /usr/bin/python3 "$HERE/tap_report.py" report "${args[@]}"
}
if [[ -n $REPORT_ONLY ]]; then report "$REPORT_ONLY"; exit $?; fi

if [[ $SETUP == 1 ]]; then
  rc=0; "$HERE/setup.sh" || rc=$?
  if [[ $rc != 0 ]]; then exit "$rc"; fi
fi
BIN=$CACHE/bin
if [[ ! -x $BIN/runtimetest || ! -d $BIN/validation ]]; then
  printf '%s: suite not built in %s (run tests/conformance/setup.sh)\n' "$PROG" "$BIN" >&2; exit 77
fi
TESTS=()
for f in "$BIN"/validation/*; do
  t=${f##*/}
  [[ -z $ONLY || $t =~ $ONLY ]] || continue
  [[ -z $SKIP || ! $t =~ $SKIP ]] || continue
  TESTS+=("$t")
done
if [[ $LIST == 1 ]]; then printf '%s\n' "${TESTS[@]}"; exit 0; fi
((${#NAMES[@]})) || die "no --runtime given (see --help)"
((${#TESTS[@]})) || die "no test selected"
for i in "${!PATHS[@]}"; do
  p=${PATHS[$i]}
  if [[ $p != */* ]]; then p=$(command -v "$p" || true); fi
  [[ -n $p && -x $p ]] || die "runtime ${NAMES[$i]}: not an executable: ${PATHS[$i]}"
  PATHS[i]=$(readlink -f -- "$p")
done
[[ $(id -u) == 0 ]] || die "must run as root"

OUT=${OUT:-$CACHE/results/$(date +%Y%m%d-%H%M%S)-$$}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
SCRATCH=$(mktemp -d "${BERTH_CONFORMANCE_SCRATCH:-/var/tmp}/berth-conformance-run.XXXXXX")
CGROUP_NAMES=(cgrouptest testdir)

# ------------------------------------------------------------- cleanup ---
# Everything the suite can leave behind, recorded as it is removed.
clean_leftovers() { # clean_leftovers NAME  (prints what it removed)
  local wrapper=$SCRATCH/rt-$1 state=$SCRATCH/state-$1 id pid m d cg
  if [[ -d $state ]]; then
    for id in "$state"/* "$state"/.[!.]*; do
      [[ -d $id ]] || continue
      id=${id##*/}
      echo "container $id left in the state directory"
      timeout 30 "$wrapper" delete --force "$id" >/dev/null 2>&1 || true
      if [[ -d $state/$id ]]; then rm -rf -- "${state:?}/$id"; fi
    done
  fi
  # Processes whose root is a bundle in the scratch directory: /proc/PID/root
  # reads as "/" across mount namespaces, but the "/" line of
  # /proc/PID/mountinfo names the directory it was mounted from.
  for pid in $(awk -v s="/${SCRATCH##*/}/" '$5 == "/" && index($4, s) {
                 f = FILENAME; sub(/^\/proc\//, "", f); sub(/\/mountinfo$/, "", f); print f; nextfile
               }' /proc/[0-9]*/mountinfo 2>/dev/null); do
    echo "process $pid ($(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | cut -c1-60)) still running in a container"
    kill -KILL "$pid" 2>/dev/null || true
  done
  # mount points under the scratch directory, deepest first
  while read -r m; do
    [[ -n $m ]] || continue
    echo "mount $m"
    umount -l "$m" 2>/dev/null || true
  done < <(awk -v s="$SCRATCH/" 'index($5, s) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
  for cg in "${CGROUP_NAMES[@]}"; do
    while read -r d; do
      [[ -n $d && -d $d ]] || continue
      echo "cgroup $d"
      find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
    done < <(find /sys/fs/cgroup -maxdepth 3 -type d -name "$cg" 2>/dev/null)
  done
}
# shellcheck disable=SC2317  # invoked through trap
cleanup() {
  local rc=$? i
  trap - EXIT INT TERM
  for i in "${!NAMES[@]}"; do clean_leftovers "${NAMES[$i]}" >/dev/null 2>&1 || true; done
  if ! awk -v s="$SCRATCH/" 'index($5, s) == 1 { f = 1 } END { exit !f }' /proc/self/mountinfo; then
    rm -rf -- "$SCRATCH"
  else
    printf '%s: mounts remain under %s; not removing it\n' "$PROG" "$SCRATCH" >&2
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------- prepare ---
CWD=$SCRATCH/cwd
mkdir -p "$CWD"
"$ROOT/scripts/mkrootfs.sh" "$SCRATCH/rootfs"
ARCH=$(dpkg --print-architecture 2>/dev/null || echo amd64)
tar -C "$SCRATCH/rootfs" -czf "$CWD/rootfs-$ARCH.tar.gz" .
rm -rf "$SCRATCH/rootfs"
cp "$BIN/runtimetest" "$CWD/runtimetest"

: > "$OUT/runtimes"
for i in "${!NAMES[@]}"; do
  n=${NAMES[$i]} p=${PATHS[$i]}
  ver=$("$p" --version 2>/dev/null | head -n1 || true)
  printf '%s %s %s\n' "$n" "$p" "${ver:-?}" >> "$OUT/runtimes"
  mkdir -p "$OUT/$n" "$SCRATCH/state-$n" "$SCRATCH/tmp-$n"
  printf '#!/bin/sh\nexec %q --root %q "$@"\n' "$p" "$SCRATCH/state-$n" > "$SCRATCH/rt-$n"
  chmod 0755 "$SCRATCH/rt-$n"
done
cgv=$(stat -fc %T /sys/fs/cgroup 2>/dev/null || echo ?)
printf '%s: %d tests, runtimes: %s; cgroup fs: %s; kernel %s\n' "$PROG" "${#TESTS[@]}" \
  "${NAMES[*]}" "$cgv" "$(uname -r)"
printf '%s: results in %s\n' "$PROG" "$OUT"

# ----------------------------------------------------------------- run ---
for i in "${!NAMES[@]}"; do
  n=${NAMES[$i]}
  printf '\n== %s (%s)\n' "$n" "$(sed -n "$((i + 1))p" "$OUT/runtimes" | cut -d' ' -f3-)"
  printf '%-34s %5s %5s %5s %5s %4s %6s\n' test pass fail skip todo rc secs
  t0=$(date +%s)
  for t in "${TESTS[@]}"; do
    s=$(date +%s.%N)
    rc=0
    (cd "$CWD" && exec env RUNTIME="$SCRATCH/rt-$n" TMPDIR="$SCRATCH/tmp-$n" \
        timeout --kill-after=10 "$TIMEOUT" "$BIN/validation/$t") \
      > "$OUT/$n/$t.tap" 2> "$OUT/$n/$t.err" < /dev/null || rc=$?
    e=$(date +%s.%N)
    secs=$(awk -v a="$s" -v b="$e" 'BEGIN { printf "%.1f", b - a }')
    echo "$rc $secs" > "$OUT/$n/$t.rc"
    clean_leftovers "$n" > "$OUT/$n/$t.leftovers" 2>&1 || true
    rm -rf -- "${SCRATCH:?}/tmp-$n" && mkdir -p "$SCRATCH/tmp-$n"
    read -r np nf nsk ntd _ < <(/usr/bin/python3 "$HERE/tap_report.py" count "$OUT/$n/$t.tap")
    note=
    [[ $rc == 124 || $rc == 137 ]] && note=" (timed out)"
    [[ -s $OUT/$n/$t.leftovers ]] && note+=" (cleaned up leftovers)"
    printf '%-34s %5s %5s %5s %5s %4s %6s%s\n' "$t" "$np" "$nf" "$nsk" "$ntd" "$rc" "$secs" "$note"
  done
  printf '%s: %s took %d s\n' "$PROG" "$n" "$(( $(date +%s) - t0 ))"
done

rc=0
report "$OUT" || rc=$?
exit "$rc"
