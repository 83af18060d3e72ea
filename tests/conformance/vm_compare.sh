#!/usr/bin/env bash
# Usage: tests/conformance/vm_compare.sh [run.sh options...]
#
# Builds the OCI runtime-tools validation suite on the host (setup.sh), then
# runs it in the pure cgroup v2 VM (tests/vm/run-in-vm.sh) against
# berth-runtime, crun and runc, and compares: exits 1 when berth fails a
# check that crun passes (--gate crun), 77 when the suite is unavailable.
# Extra arguments go to run.sh (e.g. --only REGEX, --timeout SECONDS).
#
# Environment: BERTH_RUNTIME (default <repo>/build/runtime/berth-runtime),
#   BERTH_CONFORMANCE_CACHE (default /var/tmp/berth-conformance; results go to
#   its results/vm-<date>-<pid>), BERTH_CONFORMANCE_VM_TIMEOUT (seconds for the
#   whole VM run, default 5400), BERTH_CONFORMANCE_TEST_TIMEOUT (per test,
#   default 600: code runs about 10x slower under TCG).
set -euo pipefail
HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd -- "$HERE/../.." && pwd)
CACHE=${BERTH_CONFORMANCE_CACHE:-/var/tmp/berth-conformance}
RT=${BERTH_RUNTIME:-$ROOT/build/runtime/berth-runtime}
[[ -x $RT ]] || { echo "vm_compare: $RT is not executable (set BERTH_RUNTIME)" >&2; exit 2; }
RT=$(readlink -f -- "$RT")

rc=0; "$HERE/setup.sh" || rc=$?
if [[ $rc != 0 ]]; then exit "$rc"; fi

OUT=$CACHE/results/vm-$(date +%Y%m%d-%H%M%S)-$$
mkdir -p "$OUT"
start=$(date +%s)
rc=0
"$ROOT/tests/vm/run-in-vm.sh" -t "${BERTH_CONFORMANCE_VM_TIMEOUT:-5400}" -w "$OUT" \
  -e BERTH_CONFORMANCE_CACHE="$CACHE" -- \
  bash "$HERE/run.sh" --no-setup --out "$OUT" \
    --timeout "${BERTH_CONFORMANCE_TEST_TIMEOUT:-600}" \
    --runtime berth="$RT" --runtime crun=/usr/bin/crun --runtime runc=/usr/sbin/runc \
    --gate crun "$@" || rc=$?
echo "vm_compare: results in $OUT; $(( $(date +%s) - start )) s in the VM; exit status $rc"
exit "$rc"
