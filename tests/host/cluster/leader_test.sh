#!/usr/bin/env bash
# leader_test.sh — an orchestrator started while etcd is down waits with
# backoff (no crash) and is elected when etcd comes; a standby takes over
# when the leader is killed (time measured); the CLI fails clearly while
# etcd is down; two schedulers racing on one etcd never double-book a node.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cl_setup
CL_KEEP=${CL_KEEP:-}
PORT=$(cl_free_port)
export BERTH_ETCD=http://127.0.0.1:$PORT

# --- etcd down ---
set +e
out=$("$CLUSTER" node list 2>&1); rc=$?
set -e
[ $rc -eq 1 ] || fail "berth-cluster with etcd down: exit $rc"
echo "$out" | grep -q "Connection refused\|Couldn't connect" || fail "unclear error with etcd down: $out"
echo "ok: CLI with etcd down: $out"
cl_bg orch1.log "$ORCH" --id orch-1 --leader-ttl 3; O1=$LAST_PID
sleep 1.5
kill -0 $O1 || fail "orchestrator died while etcd was down"
grep -q "etcd not reachable" "$CL_DIR/orch1.log" || fail "orchestrator did not say etcd is unreachable"
cl_start_etcd e1 $PORT
leader_is() { [ "$(etcd_get /berth/leader)" = "$1" ]; }
wait_until 10 leader_is orch-1 || fail "orch-1 not elected once etcd came up"
echo "ok: orchestrator waited for etcd with backoff, then was elected"

# --- failover ---
cl_bg orch2.log "$ORCH" --id orch-2 --leader-ttl 3; O2=$LAST_PID
cl_bg sim.log "$SIM" --nodes 3 --lease-ttl 3
wait_until 10 bash -c "[ \$('$CLUSTER' node list | grep -c ready) -eq 3 ]" || fail "nodes did not join"
cat >"$CL_DIR/e.json" <<'J'
{"name":"e","roles":[{"name":"r","template":"alpine","count":3,"resources":{"cpus":1,"memory_mb":128}}]}
J
"$CLUSTER" env create "$CL_DIR/e.json" --wait 10
sleep 0.5
grep -q standby "$CL_DIR/orch2.log" || fail "orch-2 is not a standby"
t0=$(now_ms)
kill -9 $O1
wait_until 15 leader_is orch-2 || fail "orch-2 did not take over"
t1=$(now_ms)
"$CLUSTER" env scale e r 6 --wait 10 || fail "the new leader does not place"
t2=$(now_ms)
echo "ok: leader killed; standby took over in $((t1 - t0)) ms (leader lease TTL 3 s); placing again $((t2 - t0)) ms after the kill"
echo "measure: takeover_ms=$((t1 - t0)) leader_ttl_s=3"
kill $O2; wait $O2 || true
[ -z "$(etcd_get /berth/leader)" ] || fail "a stopped leader left its key"
echo "ok: a stopped leader hands over at once (lease revoked)"

# --- two schedulers racing on small nodes ---
P=/race/
cl_bg race-sim.log "$SIM" --prefix $P --nodes 3 --id-prefix r- --cpus 4 --memory-mb 4096 --lease-ttl 5
wait_until 10 bash -c "[ \$('$CLUSTER' --prefix $P node list | grep -c ready) -eq 3 ]" || fail "race nodes did not join"
# 5 environments of 4 x 1 cpu = 20 cpus wanted, 12 available: written
# straight to etcd (the CLI would refuse them as unsatisfiable).
for i in 1 2 3 4 5; do
  ETCDCTL_API=3 etcdctl --endpoints "$ETCD_URL" put ${P}envs/r$i \
    "{\"name\":\"r$i\",\"roles\":[{\"name\":\"w\",\"template\":\"alpine\",\"count\":4,\"resources\":{\"cpus\":1,\"memory_mb\":64}}]}" >/dev/null
done
cl_bg race1.log "$ORCH" --prefix $P --no-election --id s1 --commit-threads 1 --batch 1; R1=$LAST_PID
cl_bg race2.log "$ORCH" --prefix $P --no-election --id s2 --commit-threads 1 --batch 1; R2=$LAST_PID
placed_total() { [ "$(etcd_count ${P}containers/)" -eq 12 ]; }
wait_until 15 placed_total || fail "racing schedulers placed $(etcd_count ${P}containers/) of 12"
sleep 1
kill $R1 $R2; wait $R1 $R2 || true
[ "$(etcd_count ${P}containers/)" -eq 12 ] || fail "overbooked: $(etcd_count ${P}containers/) containers on 12 cpus"
[ "$(etcd_count ${P}assign/)" -eq 12 ] || fail "$(etcd_count ${P}assign/) assignments for 12 containers"
for n in r-0000 r-0001 r-0002; do
  c=$(etcd_count ${P}assign/$n/)
  [ "$c" -le 4 ] || fail "node $n double-booked: $c containers on 4 cpus"
done
c1=$(sed -n 's/.* \([0-9]*\) conflicts.*/\1/p' "$CL_DIR/race1.log")
c2=$(sed -n 's/.* \([0-9]*\) conflicts.*/\1/p' "$CL_DIR/race2.log")
p1=$(sed -n 's/.*stopped: \([0-9]*\) placed.*/\1/p' "$CL_DIR/race1.log")
p2=$(sed -n 's/.*stopped: \([0-9]*\) placed.*/\1/p' "$CL_DIR/race2.log")
echo "ok: two schedulers racing placed $p1 + $p2 = 12 containers on 3 nodes of 4 cpus, $c1 + $c2 transactions refused, no node overbooked"
echo "PASS leader_test"
