#!/usr/bin/env bash
# berthd_debian_suites_test.sh — the other Debian guests through berth and
# berthd: Debian 13 (trixie, whose systemd 257 boots only on cgroup v2:
# on this hybrid host it gets the cgroup2 tree as /sys/fs/cgroup) and
# Debian 11 (bullseye, systemd 247), each built with build-template
# --suite (cached between runs), booted unprivileged to "running" with no
# failed unit, rebooted from inside, and stopped cleanly.
set -euo pipefail
HANG_DUMP_AFTER=${HANG_DUMP_AFTER:-840}
source "$(dirname "${BASH_SOURCE[0]}")/berthd_lib.sh"
source "$ROOT_DIR/tests/lib/guest.sh"
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }
CACHE=${BERTH_TEMPLATE_CACHE:-/var/tmp/berth-template-cache}
mkdir -p "$CACHE/store" "$STATE"
ln -s "$CACHE/store" "$STATE/images"
start_berthd

for pair in trixie:13 bullseye:11; do
  suite=${pair%%:*} version=${pair#*:} c=deb$version
  t0=$(date +%s)
  out=$("$BERTH" image build-template debian "berth/debian-$suite" --suite "$suite" --packages openssh-server 2>&1)
  expect_contains "$suite template built through berthd ($(( $(date +%s) - t0 )) s)" "berth/debian-$suite sha256:" "$out"
  "$BERTH" create "$c" --template "berth/debian-$suite" --disk 1G --ram 256M >/dev/null
  "$BERTH" start "$c" >/dev/null
  check "$suite: systemd is running, no failed unit" system_running "$c"
  expect_eq "$suite: Debian $version inside" "$version" "$("$BERTH" exec "$c" sh -c '. /etc/os-release; echo $VERSION_ID')"
  expect_eq "$suite: PID 1 is systemd" systemd "$("$BERTH" exec "$c" cat /proc/1/comm)"
  expect_eq "$suite: /sys/fs/cgroup is a cgroup2 tree of its own" cgroup2fs "$("$BERTH" exec "$c" stat -f -c %T /sys/fs/cgroup)"
  expect_eq "$suite: hostname" "$c" "$("$BERTH" exec "$c" hostname)"
  p=$(field "$c" .init_pid)
  "$BERTH" exec "$c" systemctl reboot || true
  for _ in $(seq 120); do
    [ "$(field "$c" .state)" = running ] && [ "$(field "$c" .init_pid)" != "$p" ] && break
    sleep 0.25
  done
  check "$suite: reboot inside restarts it" test "$(field "$c" .init_pid)" != "$p"
  check "$suite: running again after the reboot" system_running "$c"
  "$BERTH" stop "$c" >/dev/null
  expect_eq "$suite: stopped" stopped "$(field "$c" .state)"
  "$BERTH" destroy "$c" >/dev/null
done

echo "# passed $PASSED, failed $FAILED"
[ "$FAILED" -eq 0 ]
