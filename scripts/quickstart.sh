#!/usr/bin/env bash
# quickstart.sh — installs dependencies, builds berth, and runs its main
# job on the embedded single-node default: berthd (the node supervisor) on
# a state directory of its own, a busybox OS template built offline, and a
# system container made from it with a 1 GiB disk quota, RAM, CPU and
# process limits and an address on a bridged network, that boots its own
# init and is shown working from inside. berthd runs in a network namespace
# of its own (the node's side of the demo network), so the host's links,
# routes and firewall are not touched. Everything it made is removed on exit.
# What it shows is also checked: it exits non-zero, naming the check, when
# the container does not behave as shown (CI runs it as a test).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh"
"$root/scripts/build.sh" "$root/build" >/dev/null
bin=$root/build/supervisor
work=$(mktemp -d /tmp/berth-quickstart.XXXXXX)
chmod 711 "$work"   # unprivileged containers must reach their disk below it
export BERTH_SOCKET=$work/berthd.sock
berth() { "$bin/berth" "$@"; }
daemon=
netns=berth-quickstart-$$
cleanup() {
  set +e
  berth destroy demo >/dev/null 2>&1
  [ -n "$daemon" ] && kill "$daemon" && wait "$daemon" 2>/dev/null
  # berthd's (now empty) cgroup parent, in every hierarchy.
  find /sys/fs/cgroup -maxdepth 2 -type d -name berth-quickstart -exec rmdir {} + 2>/dev/null
  { grep -o " $work/[^ ]*" /proc/self/mountinfo || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
  rm -rf "$work"
  ip netns del "$netns" 2>/dev/null
}
trap cleanup EXIT

ip netns add "$netns"
ip -n "$netns" link set lo up
# nsenter --net: berthd joins only the network namespace; its mounts stay
# in this one.
nsenter --net="/run/netns/$netns" "$bin/berthd" --state-dir "$work/state" --run-dir "$work/run" --socket "$BERTH_SOCKET" \
  --cgroup-parent berth-quickstart --monitor "$bin/berth-monitor" >"$work/berthd.log" 2>&1 &
daemon=$!
for _ in $(seq 100); do [ -S "$BERTH_SOCKET" ] && break; sleep 0.1; done
[ -S "$BERTH_SOCKET" ] || { cat "$work/berthd.log"; exit 1; }

echo "== berth image build-template busybox berth/busybox"
berth image build-template busybox berth/busybox
echo "== berth network create lan (bridged, 198.18.0.0/24)"
berth network create lan --mode bridged --subnet 198.18.0.0/24 --dns 198.18.0.1
echo "== berth create demo (1 GiB disk, 256 MiB RAM, 1 CPU, 200 processes, an address on lan; unprivileged)"
berth create demo --template berth/busybox --disk 1G --ram 256M --cpus 1 --pids 200 --net lan
berth start demo
echo "== inside the container"
inside=$(berth exec demo -- sh -c 'echo "hello from $(hostname): PID 1 is $(cat /proc/1/comm), booted at $(cat /run/berth-booted)";
  echo "root is uid $(id -u) inside, $(cat /proc/self/uid_map | awk "{print \$2}") on the host";
  echo "  nproc: $(nproc) (--cpus 1);  $(grep MemTotal /proc/meminfo) (--ram 256M, through lxcfs)";
  echo "  free (sysinfo(2), answered by the monitor), in KiB:"; free | sed "s/^/  /";
  df -h / | sed "s/^/  /"; ps -o pid,user,comm | sed "s/^/  /";
  ip -4 -o addr show eth0 | awk "{print \"  eth0: \" \$4}"; ip route | sed "s/^/  route: /";
  ping -c 1 -W 2 198.18.0.1 | grep -m1 "bytes from" | sed "s/^/  ping the node: /"')
echo "$inside"
echo "== berth status demo"
status=$(berth status demo)
echo "$status"
# What the demo showed, checked.
failed=0
shown() {
  if grep -Eq -- "$2" <<<"$3"; then return 0; fi
  echo "quickstart: FAILED: $1 (no /$2/ in what it showed)" >&2
  failed=1
}
shown "the container's own init is PID 1" "PID 1 is init" "$inside"
shown "root inside is unprivileged" "root is uid 0 inside, [1-9][0-9]* on the host" "$inside"
shown "nproc says --cpus 1" "nproc: 1 " "$inside"
shown "/proc/meminfo says --ram 256M" "MemTotal: +262144 kB" "$inside"
shown "free says --ram 256M" "Mem: +262144 " "$inside"
shown "df says the 1 GiB quota" "overlay +(9[0-9][0-9](\\.[0-9])?M|1\\.0G) " "$inside"
shown "eth0 has its address on lan" "eth0: 198\\.18\\.0\\.[0-9]+/24" "$inside"
shown "the node answers a ping" "ping the node: 64 bytes from 198\\.18\\.0\\.1" "$inside"
shown "status says running" "^state +running" "$status"
shown "status shows the RAM limit" "^ram +256M" "$status"
[ "$failed" = 0 ] || exit 1
echo "== berth stop demo; berth destroy demo"
berth stop demo
berth destroy demo
berth network rm lan
echo "done: the container, its disk, its address and its cgroup are gone"
