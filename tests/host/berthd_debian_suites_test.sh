#!/usr/bin/env bash
# berthd_debian_suites_test.sh — the other Debian guests through berth and
# berthd: Debian 13 (trixie, whose systemd 257 boots only on cgroup v2:
# on this hybrid host it gets the cgroup2 tree as /sys/fs/cgroup) and
# Debian 11 (bullseye, systemd 247), each built with build-template
# --suite (cached between runs, in the host's network namespace where
# the archive is reachable), then, with berthd in a network namespace of
# the test's own, booted unprivileged on a bridged network to "running"
# with no failed unit, their own networkd configuring the address berth
# chose, rebooted from inside (address still there), and stopped cleanly.
set -euo pipefail
HANG_DUMP_AFTER=${HANG_DUMP_AFTER:-840}
source "$(dirname "${BASH_SOURCE[0]}")/berthd_lib.sh"
source "$ROOT_DIR/tests/lib/guest.sh"
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }
CACHE=${BERTH_TEMPLATE_CACHE:-/var/tmp/berth-template-cache}
mkdir -p "$CACHE/store" "$STATE"
ln -s "$CACHE/store" "$STATE/images"
NS=berth-suites-$$
ip netns add "$NS"
trap 'cleanup; ip netns del "$NS" 2>/dev/null || true' EXIT
start_berthd
for pair in trixie:13 bullseye:11; do
  suite=${pair%%:*}
  t0=$(date +%s)
  out=$("$BERTH" image build-template debian "berth/debian-$suite" --suite "$suite" --packages openssh-server 2>&1)
  expect_contains "$suite template built through berthd ($(( $(date +%s) - t0 )) s)" "berth/debian-$suite sha256:" "$out"
done
kill "$BPID"; wait "$BPID" 2>/dev/null || true; BPID=
BERTHD_NETNS=$NS start_berthd
ip netns exec "$NS" ip link set lo up
"$BERTH" network create lan --mode bridged --subnet 198.18.7.0/24 --dns 198.18.7.1 >/dev/null

for pair in trixie:13 bullseye:11; do
  suite=${pair%%:*} version=${pair#*:} c=deb$version
  "$BERTH" create "$c" --template "berth/debian-$suite" --disk 1G --ram 256M --net lan >/dev/null
  "$BERTH" start "$c" >/dev/null
  check "$suite: systemd is running, no failed unit" system_running "$c"
  expect_eq "$suite: Debian $version inside" "$version" "$("$BERTH" exec "$c" sh -c '. /etc/os-release; echo $VERSION_ID')"
  expect_eq "$suite: PID 1 is systemd" systemd "$("$BERTH" exec "$c" cat /proc/1/comm)"
  expect_eq "$suite: /sys/fs/cgroup is a cgroup2 tree of its own" cgroup2fs "$("$BERTH" exec "$c" stat -f -c %T /sys/fs/cgroup)"
  expect_eq "$suite: hostname" "$c" "$("$BERTH" exec "$c" hostname)"
  addr=$(field "$c" '.addresses[0]')
  check "$suite: its networkd configured eth0" network_online "$c"
  expect_contains "$suite: the address berth chose inside" "$addr/24" "$("$BERTH" exec "$c" ip -4 addr show eth0)"
  check "$suite: the bridge's gateway answers" "$BERTH" exec "$c" ping -c 1 -W 2 198.18.7.1
  p=$(field "$c" .init_pid)
  "$BERTH" exec "$c" systemctl reboot || true
  for _ in $(seq 120); do
    [ "$(field "$c" .state)" = running ] && [ "$(field "$c" .init_pid)" != "$p" ] && break
    sleep 0.25
  done
  check "$suite: reboot inside restarts it" test "$(field "$c" .init_pid)" != "$p"
  check "$suite: running again after the reboot" system_running "$c"
  check "$suite: configured by its networkd after the reboot" network_online "$c"
  expect_contains "$suite: the same address after the reboot" "$addr/24" "$("$BERTH" exec "$c" ip -4 addr show eth0)"
  "$BERTH" stop "$c" >/dev/null
  expect_eq "$suite: stopped" stopped "$(field "$c" .state)"
  "$BERTH" destroy "$c" >/dev/null
done

"$BERTH" network rm lan >/dev/null
echo "# passed $PASSED, failed $FAILED"
[ "$FAILED" -eq 0 ]
