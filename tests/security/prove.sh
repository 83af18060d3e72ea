#!/usr/bin/env bash
# prove.sh — shows that each exploit test of tests/security can fail: for
# every defence, builds berth-runtime without it (BERTH_TEST_UNDEFEND, in a
# build directory of its own, with ccache) and requires its attack to
# SUCCEED there, then to FAIL against the normal build. An exploit that
# cannot succeed without its defence proves nothing, and fails this script.
#
#   tests/security/prove.sh [--build DIR] [--work DIR] [CVE...]
#
#   --build DIR   the normal build (default <repo>/build): its berth-runtime
#                 and attack programs
#   --work DIR    where the undefended builds go (default <repo>/build-undefended)
#   CVE...        the defences to prove (default: all)
# Root. Exit status 0 when every attack succeeded undefended and failed defended.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$root/build
work=$root/build-undefended
cves=()
while (($#)); do
  case $1 in
    --build) build=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) cves+=("$1"); shift ;;
  esac
done
# CVE -> its test scripts and its attack program (a target of the normal build).
declare -A test=([cve-2019-5736]="cve_2019_5736_test.sh cve_2019_5736_engines_test.sh"
                 [cve-2021-30465]=cve_2021_30465_test.sh
                 [cve-2024-21626]=cve_2024_21626_test.sh
                 [cve-2025-31133]=cve_2025_31133_test.sh [cve-2025-52565]=cve_2025_52565_test.sh
                 [cve-2025-52881]=cve_2025_52881_test.sh)
declare -A attack=([cve-2019-5736]="BERTH_ATTACK_5736=$build/tests/security/security_cve_2019_5736_attack"
                   [cve-2021-30465]="" [cve-2024-21626]="" [cve-2025-31133]="" [cve-2025-52565]="" [cve-2025-52881]="")
((${#cves[@]})) || cves=("${!test[@]}")

mkdir -p "$work"
# The undefended builds differ from each other in the runtime's objects
# only: ccache serves the rest to each, whichever directory built them
# first (their debug information names that one).
export CCACHE_NOHASHDIR=1
failed=0
for cve in "${cves[@]}"; do
  [ -n "${test[$cve]:-}" ] || { echo "prove.sh: unknown defence $cve (known: ${!test[*]})" >&2; exit 2; }
  dir=$work/$cve
  start=$SECONDS
  cmake -S "$root" -B "$dir" -G Ninja -DBERTH_TESTS=ON -DBERTH_TEST_UNDEFEND="$cve" \
    -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache -Wno-dev > "$dir.configure.log" 2>&1 ||
    { cat "$dir.configure.log"; exit 1; }
  ninja -C "$dir" berth-runtime > "$dir.build.log" 2>&1 || { tail -n 40 "$dir.build.log"; exit 1; }
  grep -q "undefended: $cve" <("$dir/runtime/berth-runtime" --version) ||
    { echo "prove.sh: $dir's berth-runtime does not say it lacks $cve" >&2; exit 1; }
  echo "== $cve: undefended runtime built in $((SECONDS - start)) s"
  for t in ${test[$cve]}; do
    if env BERTH_RUNTIME="$dir/runtime/berth-runtime" ${attack[$cve]} BERTH_EXPECT_ESCAPE=1 "$here/$t"; then
      echo "== $cve ($t): the attack succeeds without the defence"
    else
      echo "FAIL - $cve ($t): the attack did not succeed without its defence: the test proves nothing"
      failed=1
    fi
    if env BERTH_RUNTIME="$build/runtime/berth-runtime" ${attack[$cve]} "$here/$t"; then
      echo "== $cve ($t): the attack fails against the normal build"
    else
      echo "FAIL - $cve ($t): the attack succeeds against the normal build"
      failed=1
    fi
  done
done
exit "$failed"
