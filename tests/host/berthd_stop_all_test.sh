#!/usr/bin/env bash
# berthd_stop_all_test.sh — a node's shutdown through berth: 200 busybox
# system containers in two boot orders stopped by `berth stop --all`
# (what berth-containers.service runs), timed: every container stopped
# cleanly by its halt signal, the higher boot order entirely before the
# lower, well inside the unit's 10-minute stop timeout; then `berth
# autostart` brings back only the autostart ones, a restart of berthd
# starts nothing an operator stopped, and a stop that fails (a hung
# monitor) is named at the end without holding up the others.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/berthd_lib.sh"
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }
N=${BERTH_STOP_ALL_N:-200}

start_berthd
make_init_rootfs
for i in $(seq "$N"); do
  order=$(( i % 2 )) auto=no
  [ "$i" -le 10 ] && auto=yes
  printf '%s\n' "ct$i --rootfs $TPL --boot-order $order --autostart $auto"
done | xargs -P 4 -L 1 sh -c '"$0" create "$@" >/dev/null' "$BERTH"
expect_eq "$N containers made" "$N" "$(ls "$STATE/containers" | wc -l)"
t0=$(now_ms)
seq "$N" | xargs -P 8 -I{} "$BERTH" start ct{} >/dev/null
echo "# $N started in $(( $(now_ms) - t0 )) ms"
expect_eq "all running" "$N" "$("$BERTH" list --format json | jq '[.[] | select(.state == "running")] | length')"

"$BERTH" events --type stopped > "$WORK/events" 2>/dev/null &
EPID=$!
sleep 0.5
t0=$(now_ms)
out=$("$BERTH" stop --all 2>&1)
took=$(( $(now_ms) - t0 ))
echo "# stop --all of $N: $took ms"
check "stop --all within the unit's stop timeout (600 s): $took ms" test "$took" -lt 600000
expect_eq "every container said stopped" "$N" "$(grep -c ': done$' <<<"$out")"
expect_eq "none running" 0 "$("$BERTH" list --format json | jq '[.[] | select(.state != "stopped")] | length')"
sleep 0.5
kill "$EPID" 2>/dev/null; wait "$EPID" 2>/dev/null || true; EPID=
# Each container's event names it; the order-1 ones (odd numbers) all come
# before the first order-0 one.
order_seq=$(grep -o '"name":"ct[0-9]*"' "$WORK/events" | grep -o '[0-9]*' | awk '{print $1 % 2}' | uniq | tr -d '\n')
expect_eq "boot order 1 entirely before boot order 0" 10 "$order_seq"
expect_eq "halted by their signal, none killed" 0 "$(grep -c '"signal":9' "$WORK/events" || true)"

out=$("$BERTH" autostart)
expect_eq "berth autostart" "autostart: done" "$out"
expect_eq "only the 10 autostart containers started" 10 \
  "$("$BERTH" list --format json | jq '[.[] | select(.state == "running")] | length')"
"$BERTH" stop ct1 >/dev/null
kill -9 "$BPID"; wait "$BPID" 2>/dev/null || true
start_berthd
expect_eq "after a crash of berthd, what the operator stopped stays stopped" stopped "$(field ct1 .state)"
expect_eq "the others run on" 9 "$("$BERTH" list --format json | jq '[.[] | select(.state == "running")] | length')"

# A stop that fails (ct3's monitor hangs: nothing reports its exit) holds up
# none of the others, and is named at the end.
mon=$(field ct3 .monitor_pid)
kill -STOP "$mon"
set +e; out=$("$BERTH" stop --all --timeout 5 2>&1); rc=$?; set -e
kill -CONT "$mon"
expect_eq "stop --all with a failure exits 1" 1 "$rc"
expect_contains "... and names it" "1 of 9 failed: ct3 (" "$out"
expect_eq "the other 8 stopped" 8 "$("$BERTH" list --format json |
  jq '[.[] | (.name | ltrimstr("ct") | tonumber) as $i | select($i >= 2 and $i <= 10 and $i != 3 and .state == "stopped")] | length')"
for _ in $(seq 100); do [ "$(field ct3 .state)" = stopped ] && break; sleep 0.1; done
expect_eq "ct3 stopped once its monitor went on" stopped "$(field ct3 .state)"

echo "# passed $PASSED, failed $FAILED"
[ "$FAILED" -eq 0 ]
