#!/usr/bin/env bash
# berthd_systemd_test.sh — runs inside the VM with systemd as PID 1 (pure
# cgroup v2): berthd's units verify clean, socket activation starts berthd,
# a busybox system container created and started through it survives
# `systemctl restart berthd` (same init), users in the groups sysusers
# makes are operator (berth) and admin (berth-admin), and a node-stop-like
# stop/start of the units halts it in order and brings the autostart
# container back. Then the cluster from the units: a real etcd over TLS
# with a user, berth-orchestrator.service (Type=notify, leader in its
# STATUS=, restarted by its watchdog when hung) and berthd joining with
# the options of /etc/berth/berthd.env; an environment runs on the node.
set -euo pipefail
: "${BERTHD:?}" "${BERTH:?}" "${BERTH_MONITOR:?}"
ROOT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../lib/assert.sh
. "$ROOT_DIR/tests/lib/assert.sh"
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

# --- the cluster from the units: etcd over TLS with a user, the orchestrator
# (Type=notify, watchdog), berthd joining through /etc/berth/berthd.env.
if [ -n "${BERTH_ORCHESTRATOR:-}" ] && command -v etcd >/dev/null; then
  PKI=/etc/berth/pki
  source "$ROOT_DIR/tests/lib/pki.sh"
  new_ca ca "berth vm etcd CA"
  new_cert etcd ca etcd 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth'
  new_cert client ca /O=berth 'extendedKeyUsage=clientAuth'  # no CN: etcd's gateway refuses one with auth on
  chgrp berth-orchestrator $PKI/client.key && chmod 0640 $PKI/client.key
  E=https://127.0.0.1:2379
  systemd-run --quiet --unit berth-test-etcd etcd --name e1 --data-dir /var/tmp/berth-etcd \
    --listen-client-urls $E --advertise-client-urls $E --listen-peer-urls http://127.0.0.1:2380 \
    --initial-advertise-peer-urls http://127.0.0.1:2380 --initial-cluster e1=http://127.0.0.1:2380 \
    --client-cert-auth --trusted-ca-file $PKI/ca.crt --cert-file $PKI/etcd.crt --key-file $PKI/etcd.key
  ctl() { ETCDCTL_API=3 etcdctl --endpoints $E --cacert $PKI/ca.crt --cert $PKI/client.crt --key $PKI/client.key "$@"; }
  for _ in $(seq 100); do ctl endpoint health >/dev/null 2>&1 && break; sleep 0.2; done
  { ctl user add root:rootpw && ctl user grant-role root root && ctl role add berth &&
    ctl role grant-permission berth --prefix=true readwrite /berth/ && ctl user add berth:berthpw &&
    ctl user grant-role berth berth && ctl auth enable; } >/dev/null 2>&1 && ok "etcd over TLS with auth" || fail "etcd auth setup"
  TLSOPTS="--etcd-cacert $PKI/ca.crt --etcd-cert $PKI/client.crt --etcd-key $PKI/client.key --etcd-user berth"
  install -m 0600 /dev/stdin /etc/berth/orchestrator.env <<EOF2
BERTH_ETCD=$E
BERTH_ETCD_PASSWORD=berthpw
BERTH_ORCHESTRATOR_OPTS=$TLSOPTS --grace 5 --leader-ttl 2
EOF2
  # The binary where cmake --install puts it: the unit's PrivateTmp hides
  # a build tree under /tmp.
  install -D -m 0755 "$BERTH_ORCHESTRATOR" /usr/local/bin/berth-orchestrator
  sed "s|@CMAKE_INSTALL_FULL_BINDIR@|/usr/local/bin|; s|@CMAKE_INSTALL_FULL_DOCDIR@|/usr/share/doc/berth|" \
    "$ROOT_DIR/systemd/berth-orchestrator.service.in" > $U/berth-orchestrator.service
  # Its man page as cmake --install puts it (the unit's Documentation=).
  install -D -m 0644 "$ROOT_DIR/docs/man/berth-orchestrator.8" /usr/local/share/man/man8/berth-orchestrator.8
  if out=$(systemd-analyze verify $U/berth-orchestrator.service 2>&1); then ok "orchestrator unit verifies clean"
  else fail "systemd-analyze verify orchestrator: $out"; fi
  systemctl daemon-reload
  systemctl start berth-orchestrator.service || journalctl -u berth-orchestrator.service --no-pager | tail -5
  expect_eq "orchestrator active once it said READY=1 (Type=notify)" "active notify" \
    "$(systemctl is-active berth-orchestrator.service) $(systemctl show -P Type berth-orchestrator.service)"
  expect_eq "orchestrator runs as its own user" berth-orchestrator "$(ps -o user:32= -p "$(systemctl show -P MainPID berth-orchestrator.service)")"
  expect_eq "orchestrator watchdog armed" 30s "$(systemctl show -P WatchdogUSec berth-orchestrator.service)"
  for _ in $(seq 100); do [ "$(systemctl show -P StatusText berth-orchestrator.service)" = leader ] && break; sleep 0.1; done
  expect_eq "orchestrator's STATUS= says it leads" leader "$(systemctl show -P StatusText berth-orchestrator.service)"
  # berthd joins from its unit, with the options in /etc/berth/berthd.env.
  install -m 0600 /dev/stdin /etc/berth/cluster.conf <<EOF2
ETCD="$E"
NODE_ID="vm1"
ETCD_CACERT="$PKI/ca.crt"
ETCD_CERT="$PKI/client.crt"
ETCD_KEY="$PKI/client.key"
ETCD_USER="berth:berthpw"
LEASE_TTL="3"
EOF2
  # The node's template first: a node's spec lists what it has at its join.
  systemctl start berthd.socket
  "$BERTH" image build-template busybox berth/busybox >/dev/null || fail "busybox template"
  systemctl stop berthd.service berthd.socket
  echo "BERTHD_OPTS=--cluster-config /etc/berth/cluster.conf" > /etc/berth/berthd.env
  systemctl start berthd.socket
  "$BERTH" list >/dev/null
  BC=("$BERTH_CLUSTER" --etcd $E $TLSOPTS:berthpw)
  for _ in $(seq 100); do "${BC[@]}" node list 2>/dev/null | grep -q "^vm1 *ready" && break; sleep 0.2; done
  expect_eq "berthd from its unit joined the cluster over TLS" 1 "$("${BC[@]}" node list | grep -c "^vm1 *ready")"
  printf '{"name":"web","roles":[{"name":"app","template":"berth/busybox","count":1,"resources":{"cpus":0.5,"memory_mb":64}}]}\n' \
    > /var/tmp/web.json
  out=$("${BC[@]}" env create /var/tmp/web.json --wait 60 2>&1 || true)
  expect_eq "env create --wait: placed and running" "web: 1 containers placed and running" "$(tail -1 <<<"$out")"
  expect_eq "the container runs on the node" 1 "$("$BERTH" list --format json | jq '[.[] | select(.config.cluster == "web.app.0" and .state == "running")] | length')"
  # A hung replica: systemd's watchdog restarts it (a short interval here).
  mkdir -p $U/berth-orchestrator.service.d
  printf '[Service]\nWatchdogSec=3s\nTimeoutAbortSec=2s\n' > $U/berth-orchestrator.service.d/short.conf
  systemctl daemon-reload
  systemctl restart berth-orchestrator.service
  pid=$(systemctl show -P MainPID berth-orchestrator.service)
  kill -STOP "$pid"
  for _ in $(seq 200); do
    [ "$(systemctl show -P NRestarts berth-orchestrator.service)" -ge 1 ] && [ "$(systemctl is-active berth-orchestrator.service)" = active ] && break
    sleep 0.1
  done
  expect_eq "a hung orchestrator is restarted by the watchdog" "1 active" \
    "$(systemctl show -P NRestarts berth-orchestrator.service) $(systemctl is-active berth-orchestrator.service)"
  [ "$(systemctl show -P MainPID berth-orchestrator.service)" != "$pid" ] && ok "a new orchestrator process" || fail "same orchestrator pid"
  out=$("${BC[@]}" env delete web --wait 60 2>&1 || true)
  expect_eq "env delete --wait" "web: deleted" "$(tail -1 <<<"$out")"
  systemctl stop berth-orchestrator.service berthd.service berthd.socket berth-test-etcd.service
  rm -f /etc/berth/berthd.env
fi
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
