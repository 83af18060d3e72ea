#!/usr/bin/env bash
# cluster.sh — the orchestrator at scale on a real etcd: simulated nodes
# (berth-node-sim, the node agent's etcd protocol, containers recorded
# instead of run) join, environments totalling C containers are placed by
# the real scheduler, then the F nodes of one simulator are killed and
# their containers rescheduled. Reports placements per second, etcd writes
# per placement, orchestrator RSS, and the failure detection and
# rescheduling times. Measures; never fails on a time.
#
#   bench/cluster.sh            # 1000 nodes, 20000 containers, 100 killed
#   bench/cluster.sh --short    # 50 nodes, 500 containers, 5 killed (CI)
#   options: --nodes N --containers C --fail F --grace S --ttl S
#            --evict-rate NODES_PER_S (50) --commit-threads N (8)
#            --status-interval S (the nodes' container reports; 0: none)
#            --build DIR (default <repo>/build, or $BERTH_BUILD)
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

NODES=1000 CONTAINERS=20000 FAIL=100 GRACE=10 TTL=5 EVICT=50 THREADS=8 STATUS=
BUILD=${BERTH_BUILD:-$REPO/build}
while [ $# -gt 0 ]; do
  case $1 in
    --short) NODES=50 CONTAINERS=500 FAIL=5 ;;
    --nodes) NODES=$2; shift ;;
    --containers) CONTAINERS=$2; shift ;;
    --fail) FAIL=$2; shift ;;
    --grace) GRACE=$2; shift ;;
    --ttl) TTL=$2; shift ;;
    --evict-rate) EVICT=$2; shift ;;
    --commit-threads) THREADS=$2; shift ;;
    --status-interval) STATUS=$2; shift ;;
    --build) BUILD=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option $1" ;;
  esac
  shift
done
ORCH=$BUILD/orchestrator/berth-orchestrator SIM=$BUILD/orchestrator/berth-node-sim
[ -x "$ORCH" ] && [ -x "$SIM" ] || die "build berth-orchestrator and berth-node-sim in $BUILD first"
command -v etcd >/dev/null || die "etcd is not installed (scripts/deps.sh)"

DIR=$(mktemp -d /tmp/berth-bench-cluster.XXXXXX)
PIDS=()
cleanup() {
  set +e
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  sleep 0.5
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  rm -rf "$DIR"
}
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
now_ms() { date +%s%3N; }
# stall WHAT: called when a wait runs past its bound; says where, keeps the logs.
stall() {
  echo "$PROG: stalled: $1 (logs kept in $DIR)" >&2
  tail -5 "$DIR"/*.log >&2
  trap - EXIT
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  exit 1
}
# until_true SECONDS WHAT COMMAND...: polls every 50 ms.
until_true() {
  local end=$(( $(now_ms) + $1 * 1000 )) what=$2
  shift 2
  until "$@"; do
    [ "$(now_ms)" -lt "$end" ] || stall "$what"
    sleep 0.05
  done
}
CP=$(port) PP=$(port)
E=http://127.0.0.1:$CP
etcd --name b1 --data-dir "$DIR/etcd" --listen-client-urls "$E" --advertise-client-urls "$E" \
  --listen-peer-urls "http://127.0.0.1:$PP" --initial-advertise-peer-urls "http://127.0.0.1:$PP" \
  --initial-cluster "b1=http://127.0.0.1:$PP" --quota-backend-bytes $((4 << 30)) >"$DIR/etcd.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do curl -sf "$E/health" | grep -q true && break; sleep 0.1; done

b64() { printf '%s' "$1" | base64 -w0; }
# count PREFIX: keys under a prefix (a count-only range on the gateway).
count() {
  local end
  end=$(python3 -c 'import sys,base64; p=sys.argv[1].encode(); print(base64.b64encode(p[:-1]+bytes([p[-1]+1])).decode())' "$1")
  curl -s -X POST "$E/v3/kv/range" -d "{\"key\":\"$(b64 "$1")\",\"range_end\":\"$end\",\"count_only\":true}" |
    sed -n 's/.*"count":"\([0-9]*\)".*/\1/p' | grep . || echo 0
}
revision() { curl -s -X POST "$E/v3/kv/range" -d "{\"key\":\"$(b64 x)\"}" | sed -n 's/.*"revision":"\([0-9]*\)".*/\1/p'; }
# Key writes (puts and deletes, each op of a transaction counted) from
# etcd's own counters.
key_writes() { curl -s "$E/metrics" | awk '/^etcd_mvcc_(put|delete)_total /{n += $2} END {printf "%d\n", n}'; }

# Capacity: 64 cpus per node; containers of 1 cpu, 1 GiB, 10 GiB disk.
SIMOPTS=(--etcd "$E" --cpus 64 --memory-mb 262144 --disk-gb 4000 --lease-ttl "$TTL" --usage-interval 30)
[ -z "$STATUS" ] || SIMOPTS+=(--status-interval "$STATUS")
"$SIM" "${SIMOPTS[@]}" --nodes $((NODES - FAIL)) --id-prefix n- >"$DIR/sim-live.log" 2>&1 &
PIDS+=($!)
"$SIM" "${SIMOPTS[@]}" --nodes "$FAIL" --id-prefix f- >"$DIR/sim-fail.log" 2>&1 &
SIM_FAIL=$!
PIDS+=($SIM_FAIL)
t0=$(now_ms)
joined() { [ "$(count /berth/nodes/)" -ge $((NODES * 2)) ]; }  # spec + alive per node
until_true 120 "nodes joining" joined
t_join=$(( $(now_ms) - t0 ))

"$ORCH" --etcd "$E" --grace "$GRACE" --leader-ttl 5 --evict-rate "$EVICT" --commit-threads "$THREADS" >"$DIR/orch.log" 2>&1 &
ORCH_PID=$!
PIDS+=($ORCH_PID)
until_true 30 "orchestrator election" grep -q '"leading' "$DIR/orch.log"

# Environments of 1000 containers (the last one takes the remainder).
ENVS=$(( (CONTAINERS + 999) / 1000 ))
ETCD_PID=${PIDS[0]}
cpu_s() { awk '{printf "%.1f", ($14 + $15) / 100}' /proc/$1/stat; }
oc0=$(cpu_s $ORCH_PID) ec0=$(cpu_s $ETCD_PID)
rev0=$(revision)
kw0=$(key_writes)
t0=$(now_ms)
for i in $(seq 1 "$ENVS"); do
  n=$(( i < ENVS ? 1000 : CONTAINERS - (ENVS - 1) * 1000 ))
  v="{\"name\":\"env$i\",\"roles\":[{\"name\":\"app\",\"template\":\"debian-12\",\"count\":$n,\"resources\":{\"cpus\":1,\"memory_mb\":1024,\"disk_gb\":10}}]}"
  curl -s -X POST "$E/v3/kv/put" -d "{\"key\":\"$(b64 /berth/envs/env$i)\",\"value\":\"$(b64 "$v")\"}" >/dev/null
done
all_placed() { [ "$(count /berth/containers/)" -ge "$CONTAINERS" ]; }
until_true 180 "placement" all_placed
t_place=$(( $(now_ms) - t0 ))
rev1=$(revision)
kw1=$(key_writes)
oc1=$(cpu_s $ORCH_PID) ec1=$(cpu_s $ETCD_PID)
# Every node has run what it was given?
t0=$(now_ms)
all_assigned() { [ "$(count /berth/assign/)" -ge "$CONTAINERS" ]; }
until_true 60 "assignments" all_assigned
rss_kb=$(awk '/VmRSS/ {print $2}' /proc/$ORCH_PID/status)
hwm_kb=$(awk '/VmHWM/ {print $2}' /proc/$ORCH_PID/status)
on_failing=$(count /berth/assign/f-)

# Kill the simulator of FAIL nodes: detection, then rescheduling.
t0=$(now_ms)
lines0=$(wc -l <"$DIR/orch.log")
early=$(grep -c 'lease gone, suspect' "$DIR/orch.log" || true)
kill -9 $SIM_FAIL
dark_failed() { tail -n +$((lines0 + 1)) "$DIR/orch.log" | grep -o 'node f-[0-9]*: lease gone' | sort -u | wc -l; }
all_dark() { [ "$(dark_failed)" -ge "$FAIL" ]; }
until_true 60 "failure detection" all_dark
t_detect=$(( $(now_ms) - t0 ))
while [ "$(count /berth/assign/f-)" -gt 0 ] || [ "$(count /berth/containers/)" -lt "$CONTAINERS" ]; do
  sleep 0.05
  [ $(( $(now_ms) - t0 )) -lt $(( (GRACE + 120) * 1000 )) ] || { echo "rescheduling did not finish" >&2; break; }
done
t_resched=$(( $(now_ms) - t0 ))
left=$(count /berth/assign/f-)
kill "$ORCH_PID"; wait "$ORCH_PID" 2>/dev/null || true
stats=$(sed -n 's/.*"msg":"stopped: \([^"]*\)".*/\1/p' "$DIR/orch.log")

writes=$((rev1 - rev0))
pps=$(python3 -c "print(f'{$CONTAINERS / max($t_place, 1) * 1000:.0f}')")
wpp=$(python3 -c "print(f'{$writes / $CONTAINERS:.3f}')")
kwrites=$((kw1 - kw0))
kwpp=$(python3 -c "print(f'{$kwrites / $CONTAINERS:.2f}')")
cat <<T
## bench/cluster.sh — $NODES simulated nodes, $CONTAINERS containers, $FAIL nodes killed

| measure | value |
|---|---|
| nodes joined (spec + alive under a lease) | $NODES in $t_join ms |
| containers placed | $CONTAINERS in $t_place ms |
| placements per second | $pps |
| etcd writes (revisions) during placement | $writes (one per placement transaction of up to ~40 containers over several nodes, plus the environments, events and node usage reports) |
| etcd writes per placement | $wpp |
| etcd key writes during placement (puts and deletes, each op of a transaction) | $kwrites: $kwpp per placement (the container's record, the node's copy of its assignment, the node's allocation per transaction, events, and the nodes' usage and container reports) |
| CPU time during placement: orchestrator / etcd | $(python3 -c "print(f'{$oc1 - $oc0:.1f} s / {$ec1 - $ec0:.1f} s')") |
| orchestrator RSS after placement (peak) | $((rss_kb / 1024)) MiB ($((hwm_kb / 1024)) MiB) |
| containers on the $FAIL killed nodes | $on_failing |
| all $FAIL nodes suspect (lease TTL ${TTL} s) | $t_detect ms after the kill |
| all their containers rescheduled (grace ${GRACE} s, eviction rate $EVICT nodes/s) | $t_resched ms after the kill (goal: grace + 10 s = $(( (GRACE + 10) * 1000 )) ms) |
| containers left on dead nodes | $left |
| nodes seen suspect before the kill (missed keepalives under load) | $early |
| orchestrator totals | $stats |
T
