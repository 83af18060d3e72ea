#!/usr/bin/env bash
# berthd_debian_test.sh — the Debian 12 system container as a hosting
# provider uses it, through berth and berthd only (no hand-made bundle):
# the template built through the API (debootstrap, cached between runs),
# two unprivileged containers on a bridged network with limits, an SSH key
# and a root password; systemd reaches "running" with no failed unit,
# hostname, machine id, SSH from the node's namespace, ping between the
# guests, /proc/meminfo, free and df show the limits, ENOSPC past the
# disk, a fork bomb held by --pids, an OOM kill that leaves the guest up,
# reboot and poweroff from inside, a clean stop in the guest's journal,
# snapshot and rollback, kill -9 of berthd re-adopting the guests.
set -euo pipefail
# A first template build takes minutes: the hang report waits for more.
HANG_DUMP_AFTER=${HANG_DUMP_AFTER:-840}
source "$(dirname "${BASH_SOURCE[0]}")/berthd_lib.sh"

# The image store is shared with the other Debian tests (debootstrap takes
# minutes; an unchanged template is reused by the same build call).
CACHE=${BERTH_TEMPLATE_CACHE:-/var/tmp/berth-template-cache}
mkdir -p "$CACHE/store" "$STATE"
ln -s "$CACHE/store" "$STATE/images"
NS=berth-deb-$$
ip netns add "$NS"
in_ns() { ip netns exec "$NS" "$@"; }
deb_cleanup() {
  cleanup
  ip netns del "$NS" 2>/dev/null || true
}
trap deb_cleanup EXIT
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }

source "$ROOT_DIR/tests/lib/guest.sh"

# --- the template, through the API, in the host's network namespace -------
# (debootstrap reaches the archive only from there)
start_berthd
t0=$(date +%s)
out=$("$BERTH" image build-template debian berth/debian --packages openssh-server)
expect_contains "Debian template built through berthd ($(( $(date +%s) - t0 )) s)" "berth/debian sha256:" "$out"
kill "$BPID"; wait "$BPID" 2>/dev/null || true; BPID=

# --- berthd in a network namespace of the test's own -------------------------
export BERTHD_NETNS=$NS
start_berthd
in_ns ip link set lo up
node() { in_ns "$@"; }
vps_kill_berthd() { kill -9 "$BPID"; wait "$BPID" 2>/dev/null || true; start_berthd; }
vps_berthd_log() { cat "$WORK/berthd.log"; }
VPS_KEYS=$WORK
source "$ROOT_DIR/tests/lib/vps.sh"
vps_checks

# --- the end: nothing left ---------------------------------------------------
for c in deb1 deb2; do "$BERTH" stop "$c" >/dev/null; "$BERTH" destroy "$c" >/dev/null; done
"$BERTH" network rm lan >/dev/null
expect_eq "no container left" "" "$(ls "$STATE/containers")"
check "no disk mount left" bash -c "! grep -q ' $STATE/containers/' /proc/self/mountinfo"
check "no hold left in the shared store" bash -c "! ls '$CACHE/store/holds' | grep -qx -e deb1 -e deb2"

echo "# passed $PASSED, failed $FAILED"
[ "$FAILED" -eq 0 ]
