#!/usr/bin/env bash
# berthd_api_limits_test.sh — an API that one client cannot starve or
# exhaust, through berth and berthd's unix socket: a non-terminal exec
# with --timeout is killed with everything it started and keeps what it
# wrote; 64 execs of 60 s from one client (a uid) run while another
# client's list answers (its p99 printed and held under 50 ms; before the
# execs had threads of their own, the 17th exec and every list waited for
# the first 16 to end); the 65th exec of that client is refused with 429;
# an event stream whose client never reads ends with a "dropped" line
# once --event-backlog bytes wait, and berthd's memory stays bounded.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/berthd_lib.sh"
N=${BERTH_EXECS_N:-64} SECS=${BERTH_EXEC_SECS:-60}
trap 'cleanup' EXIT

start_berthd --event-backlog 65536 --max-execs-per-client "$N"
make_init_rootfs
"$BERTH" create c1 --rootfs "$TPL" >/dev/null
"$BERTH" start c1 >/dev/null
sleeps() { pgrep -x sleep -a | grep -c " $1\$" || true; }

# --- exec --timeout ------------------------------------------------------------
rc=0
out=$("$BERTH" exec --timeout 2 c1 -- sh -c 'echo before; sleep 1234 & sleep 1235' 2>"$WORK/err") || rc=$?
expect_eq "exec --timeout: the command is killed, exit 124" 124 "$rc"
expect_eq "... what it wrote before is kept" before "$out"
expect_contains "... and berth says why" "timed out after 2 s" "$(cat "$WORK/err")"
check "... with every process it started (none left)" test "$(sleeps 1234)$(sleeps 1235)" = 00
out=$("$BERTH" exec -t --timeout 2 c1 -- true 2>&1 || true)
expect_contains "--timeout is refused with -t" "--timeout is for a command without -t" "$out"

# --- many long execs of one client, and another client's list ---------------
EXECS=()
for _ in $(seq "$N"); do "$BERTH" exec c1 -- sleep "$SECS" >/dev/null 2>&1 & EXECS+=($!); done
for _ in $(seq 200); do [ "$(sleeps "$SECS")" -ge "$N" ] && break; sleep 0.1; done
expect_eq "$N execs of one client run at once" "$N" "$(sleeps "$SECS")"
out=$("$BERTH" exec c1 -- true 2>&1 || true)
expect_contains "exec $((N + 1)) of the same client: refused (429)" "$N execs of uid 0 are running" "$out"
for _ in $(seq 200); do
  curl -s -o /dev/null -w '%{time_total}\n' --unix-socket "$SOCK" http://berthd/v1/containers
done | sort -n > "$WORK/lat"
p50=$(awk 'NR == 100 {printf "%d", $1 * 1000}' "$WORK/lat") p99=$(awk 'NR == 198 {printf "%d", $1 * 1000}' "$WORK/lat")
echo "# list while $N execs run: p50 $p50 ms, p99 $p99 ms (200 requests)"
check "list answers while they run: p99 ${p99} ms < 50 ms" test "$p99" -lt 50
t0=$(now_ms)
"$BERTH" status c1 >/dev/null
check "status too ($(( $(now_ms) - t0 )) ms)" test $(( $(now_ms) - t0 )) -lt 1000
"$BERTH" stop c1 >/dev/null
wait "${EXECS[@]}" || true
expect_eq "the execs end with the container" 0 "$(sleeps "$SECS")"
"$BERTH" start c1 >/dev/null

# --- an event stream whose client never reads ----------------------------------
# The client asks for events and reads nothing until told (the kernel's
# buffers take their share first); then it reads what is left.
python3 - "$SOCK" "$WORK/go" > "$WORK/stream" <<'EOF' &
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"GET /v1/events HTTP/1.1\r\nHost: berthd\r\n\r\n")
while not os.path.exists(sys.argv[2]):
    time.sleep(0.1)
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
lines = data.split(b"\n")
print(len(lines))
print(lines[-2].decode() if len(lines) > 1 else "")
EOF
READER=$!
sleep 0.5
rss() { awk '/^VmRSS/ {print $2}' "/proc/$BPID/status"; }
rss0=$(rss)
# Each refused stop of a stopped container is an operation and its events.
"$BERTH" stop c1 >/dev/null
for _ in $(seq 1500); do echo 'url = "http://berthd/v1/containers/c1/stop"'; done > "$WORK/curl.cfg"
curl -s -X POST --unix-socket "$SOCK" -K "$WORK/curl.cfg" >/dev/null
rss1=$(rss)
echo "# berthd RSS before the events $rss0 KiB, after $rss1 KiB"
touch "$WORK/go"
wait "$READER"
expect_contains "the slow reader's stream ends with a dropped line" '"type":"dropped"' "$(tail -1 "$WORK/stream")"
# A sanitizer build keeps freed memory in quarantine: its RSS bounds nothing.
if ldd "$BERTHD" | grep -q libasan; then
  echo "# berthd is built with ASan: its RSS is no bound (the release tier checks it)"
else
  check "berthd's memory stays bounded ($rss0 -> $rss1 KiB)" test $(( rss1 - rss0 )) -lt 16384
fi
check "berthd still answers" bash -c "'$BERTH' status c1 >/dev/null"

"$BERTH" destroy c1 >/dev/null
echo "# passed $PASSED, failed $FAILED"
[ "$FAILED" -eq 0 ]
