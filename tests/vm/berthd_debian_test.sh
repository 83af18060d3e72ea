#!/usr/bin/env bash
# berthd_debian_test.sh — the Debian system container on pure cgroup v2,
# with berthd run by systemd as nodes run it. On the host: the Debian
# template is built (or found) in the shared store and exported as an OCI
# layout; in the VM (systemd as PID 1): berthd from its units, the layout
# imported into the node's store (the VM has no route to Debian's
# archive), then through berth only: the node's checks of two guests on a
# bridged network that the host tier runs too (tests/lib/vps.sh: boot to
# "running", identity, SSH, ping, networkd, limits, power, snapshot,
# kill -9 of berthd), then what pure cgroup v2 adds: the guest's services
# in cgroups of their own below the container's (delegated to the guest's
# root), an exec in a leaf cgroup of its own (as LXC's .lxc), `systemctl restart berthd` keeping
# the guests, and `berth stop` removing the container's cgroup tree.
set -euo pipefail
: "${BERTHD:?}" "${BERTH:?}" "${BERTH_MONITOR:?}" "${BERTH_IMAGE:?}"
here=$(cd "$(dirname "$0")" && pwd)
CACHE=${BERTH_TEMPLATE_CACHE:-/var/tmp/berth-template-cache}

if [ "${1:-}" != --in-vm ]; then
  mkdir -p "$CACHE"
  "$BERTH_IMAGE" --quiet --store "$CACHE/store" build-template debian berth/debian --packages openssh-server >/dev/null
  rm -rf "$CACHE/debian-oci"
  "$BERTH_IMAGE" --store "$CACHE/store" export-oci berth/debian "$CACHE/debian-oci" >/dev/null
  exec "$here/run-in-vm.sh" --systemd -t 1200 -e BERTHD -e BERTH -e BERTH_MONITOR -e BERTH_IMAGE \
    -e BERTH_TEMPLATE_CACHE="$CACHE" -- bash "$here/berthd_debian_test.sh" --in-vm
fi

ROOT_DIR=$(cd "$here/../.." && pwd)
# shellcheck source=../lib/assert.sh
. "$ROOT_DIR/tests/lib/assert.sh"
export BERTH_SOCKET=/run/berthd/berthd.sock
field() { "$BERTH" status "$1" --format json | jq -r "$2"; }
source "$ROOT_DIR/tests/lib/guest.sh"

expect_eq "systemd is PID 1" systemd "$(cat /proc/1/comm)"
expect_eq "pure cgroup v2" cgroup2fs "$(stat -f -c %T /sys/fs/cgroup)"
modprobe loop
# The node's state on a tmpfs (the VM's overlay root refuses trusted.overlay.*).
mkdir -p /var/lib/berth && mount -t tmpfs -o size=3g tmpfs /var/lib/berth
"$BERTH_IMAGE" --store /var/lib/berth/images import-oci "$CACHE/debian-oci" berth/debian >/dev/null
U=/run/systemd/system
sed "s|@CMAKE_INSTALL_FULL_BINDIR@/berthd|$BERTHD --monitor $BERTH_MONITOR|; s|@CMAKE_INSTALL_FULL_DOCDIR@|/usr/share/doc/berth|" \
  "$ROOT_DIR/systemd/berthd.service.in" > $U/berthd.service
cp "$ROOT_DIR/systemd/berthd.socket" $U/
systemd-sysusers "$ROOT_DIR/systemd/berth.sysusers"
systemd-tmpfiles --create "$ROOT_DIR/systemd/berth.tmpfiles"
systemctl daemon-reload
systemctl start berthd.socket
expect_contains "the template is in the node's store" berth/debian "$("$BERTH" image ls)"

# The node's checks of two guests, as in the host tier.
node() { "$@"; }
vps_kill_berthd() {
  kill -9 "$(systemctl show -p MainPID --value berthd.service)"
  # berthd.socket takes the next call and starts berthd again.
  "$BERTH" list >/dev/null
}
vps_berthd_log() { journalctl -u berthd.service --no-pager -o cat; }
STATE=/var/lib/berth VPS_KEYS=$(mktemp -d)
source "$ROOT_DIR/tests/lib/vps.sh"
t_node=$(date +%s)
vps_checks
echo "# the node's checks took $(( $(date +%s) - t_node )) s (TCG)"

# --- pure cgroup v2: the guest's systemd below a delegated cgroup ------------
cg=/sys/fs/cgroup/berth.containers/deb1
expect_eq "memory.max of the container" 536870912 "$(cat $cg/memory.max)"
expect_eq "pids.max of the container" 300 "$(cat $cg/pids.max)"
check "systemd made its init.scope below the container's cgroup" test -d "$cg/init.scope"
check "... and its services' slice" test -d "$cg/system.slice"
expect_eq "the delegated cgroup is the guest root's" "$(field deb1 .config.idmap_base)" "$(stat -c %u $cg)"
check "controllers enabled by systemd inside" grep -q memory "$cg/cgroup.subtree_control"
expect_eq "inside, /sys/fs/cgroup is cgroup2" cgroup2fs "$("$BERTH" exec deb1 stat -f -c %T /sys/fs/cgroup)"
expect_eq "an exec runs in a leaf of its own beside the guest's units" "0::/.berth-exec" "$("$BERTH" exec deb1 cat /proc/self/cgroup)"
check "... owned by the host (the guest's units are the guest's)" test "$(stat -c %u "$cg/.berth-exec")" = 0

p1=$(field deb1 .init_pid)
systemctl restart berthd.service
"$BERTH" list >/dev/null
expect_eq "same init after systemctl restart berthd" "$p1" "$(field deb1 .init_pid)"
for c in deb1 deb2; do "$BERTH" stop "$c" >/dev/null; done
expect_eq "stopped" stopped "$(field deb1 .state)"
check "its cgroup tree is gone" test ! -e "$cg"
for c in deb1 deb2; do "$BERTH" destroy "$c" >/dev/null; done
"$BERTH" network rm lan >/dev/null
check "no bridge left" bash -c "! ip link show | grep -q ' bb-lan'"
systemctl stop berthd.service berthd.socket
echo "# passed $PASSED, failed $FAILED"
[ "$FAILED" -eq 0 ]
