#!/usr/bin/env bash
# berthd_systemd_test.sh — runs inside the VM with systemd as PID 1 (pure
# cgroup v2): berthd's units verify clean, socket activation starts berthd,
# a busybox system container created and started through it survives
# `systemctl restart berthd` (same init), users in the groups sysusers
# makes are operator (berth) and admin (berth-admin), and a node-stop-like
# stop/start of the units halts it in order and brings the autostart
# container back.
set -euo pipefail
: "${BERTHD:?}" "${BERTH:?}" "${BERTH_MONITOR:?}"
ROOT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PASSED=0 FAILED=0
ok() { PASSED=$((PASSED + 1)); echo "ok - $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL - $*"; }
expect_eq() { if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: expected [$2], got [$3]"; fi; }
export BERTH_SOCKET=/run/berthd/berthd.sock
field() { "$BERTH" status "$1" --format json | jq -r "$2"; }

expect_eq "systemd is PID 1" systemd "$(cat /proc/1/comm)"
# The units as installed, pointing at this build's binaries.
U=/run/systemd/system
bindir=$(dirname "$BERTHD")
sed "s|@CMAKE_INSTALL_FULL_BINDIR@/berthd|$BERTHD --monitor $BERTH_MONITOR|; s|@CMAKE_INSTALL_FULL_DOCDIR@|/usr/share/doc/berth|" \
  "$ROOT_DIR/systemd/berthd.service.in" > $U/berthd.service
sed "s|@CMAKE_INSTALL_FULL_BINDIR@|$bindir|" "$ROOT_DIR/systemd/berth-containers.service.in" > $U/berth-containers.service
cp "$ROOT_DIR/systemd/berthd.socket" $U/
systemd-sysusers "$ROOT_DIR/systemd/berth.sysusers"
systemd-tmpfiles --create "$ROOT_DIR/systemd/berth.tmpfiles"
systemd-analyze verify $U/berthd.service $U/berthd.socket $U/berth-containers.service && ok "systemd-analyze verify clean" ||
  fail "systemd-analyze verify"
systemctl daemon-reload
systemctl start berthd.socket
expect_eq "socket group berth, mode 0660" "srw-rw---- root berth" "$(stat -c '%A %U %G' $BERTH_SOCKET)"
expect_eq "berthd not started before the first request" inactive "$(systemctl is-active berthd.service || true)"
"$BERTH" list >/dev/null
expect_eq "socket activation started berthd" active "$(systemctl is-active berthd.service)"
expect_eq "watchdog armed" 30s "$(systemctl show -P WatchdogUSec berthd.service)"

TPL=/var/tmp/berth-tpl
"$ROOT_DIR/scripts/mkrootfs.sh" $TPL >/dev/null
ln -sf ../bin/busybox $TPL/sbin/init
printf '::sysinit:/bin/touch /run/booted\n::respawn:/bin/sleep 1000000\n' > $TPL/etc/inittab
"$BERTH" create ct1 --rootfs $TPL --ram 64M --autostart yes >/dev/null
"$BERTH" start ct1 >/dev/null
INIT=$(field ct1 .init_pid)
expect_eq "running" running "$(field ct1 .state)"
expect_eq "memory.max in pure v2" 67108864 "$(cat /sys/fs/cgroup/berth.containers/ct1/memory.max)"
systemctl restart berthd.service
"$BERTH" list >/dev/null
expect_eq "same init after systemctl restart berthd" "$INIT" "$(field ct1 .init_pid)"
expect_eq "exec after restart" ok "$("$BERTH" exec ct1 -- echo ok)"

# Who may do what on the socket, with the groups sysusers made: group
# berth is operator, group berth-admin admin (berth(1), ACCESS).
useradd -M -N -G berth ops1
useradd -M -N -G berth,berth-admin adm1
as_user() { local u=$1; shift; runuser -u "$u" -- env BERTH_SOCKET=$BERTH_SOCKET "$BERTH" "$@" 2>&1; }
expect_eq "group berth: an operator lists" ct1 "$(as_user ops1 list --format json | jq -r '.[].name')"
expect_eq "group berth: no exec in a container copied from a host directory (root there is the node's)" 1 \
  "$(as_user ops1 exec ct1 -- echo ok | grep -c "may not exec container ct1: it is privileged or a host directory's")"
out=$(as_user ops1 create u1 --rootfs $TPL || true)
expect_eq "group berth: a --rootfs of a host directory refused, naming the uid and its role" 1 \
  "$(grep -c "uid $(id -u ops1) pid [0-9]* (operator) may not set rootfs: only an admin may" <<<"$out")"
out=$(as_user ops1 stop --all || true)
expect_eq "group berth: stop --all is an admin's" 1 "$(grep -c "it needs the admin role" <<<"$out")"
as_user adm1 create u1 --rootfs $TPL >/dev/null
expect_eq "group berth-admin: an admin creates from a host directory" stopped "$(field u1 .state)"
"$BERTH" destroy u1 >/dev/null
userdel ops1
userdel adm1

# Node stop: berth-containers stops first (stop --all), then berthd.
systemctl start berth-containers.service
systemctl stop berth-containers.service berthd.service berthd.socket
expect_eq "init halted at node stop" 1 "$( [ ! -e /proc/"$INIT" ] && echo 1 )"
systemctl start berthd.socket berth-containers.service
"$BERTH" list >/dev/null
for _ in $(seq 200); do [ "$(field ct1 .state)" = running ] && break; sleep 0.1; done
expect_eq "autostart container back after node start" running "$(field ct1 .state)"
"$BERTH" destroy ct1 >/dev/null
systemctl stop berthd.service berthd.socket
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
