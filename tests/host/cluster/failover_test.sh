#!/usr/bin/env bash
# failover_test.sh — nodes join under leases; a node killed is detected
# (lease expiry) and its containers rescheduled after the grace period; a
# node frozen past the grace comes back fenced, stops its stale copies and
# only then takes new work; drain, cordon and uncordon. Prints the
# measured detection and rescheduling times.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cl_setup
cl_start_etcd
GRACE=3
TTL=2
S=$CL_DIR/state
cl_bg sim-a.log "$SIM" --nodes 2 --id-prefix a- --lease-ttl $TTL --state-dir "$S"
cl_bg sim-b.log "$SIM" --nodes 1 --id-prefix b- --lease-ttl $TTL --state-dir "$S"; SIM_B=$LAST_PID
cl_bg sim-c.log "$SIM" --nodes 1 --id-prefix c- --lease-ttl $TTL --state-dir "$S"; SIM_C=$LAST_PID
cl_bg orch.log "$ORCH" --grace $GRACE --leader-ttl 3
ready_nodes() { [ "$("$CLUSTER" node list | awk '$2=="ready"' | wc -l)" -eq "$1" ]; }
wait_until 10 ready_nodes 4 || fail "4 nodes did not join"
echo "ok: 4 nodes registered"

cat >"$CL_DIR/web.json" <<'J'
{"name":"web","roles":[{"name":"app","template":"debian-12","count":8,"resources":{"cpus":1,"memory_mb":256,"disk_gb":1}}]}
J
"$CLUSTER" env create "$CL_DIR/web.json" --wait 10
for n in a-0000 a-0001 b-0000 c-0000; do
  [ "$(placed_on $n)" -eq 2 ] || fail "spread: $n has $(placed_on $n) containers, expected 2"
  wait_until 5 test "$(sim_running "$S" $n | wc -l)" -eq 2 || fail "node $n does not run its 2 containers"
done
echo "ok: 8 containers spread 2 per node and running"
# status: the leader, every node's lease and fence, containers per state.
status_has() { "$CLUSTER" status | grep -qE -- "$1"; }
status_has '^leader: [^(]' || fail "status: no leader: $("$CLUSTER" status)"
status_has '^nodes: 4, 4 ready$' || fail "status: nodes: $("$CLUSTER" status)"
status_has '^  b-0000 +ready +held +no +2$' || fail "status: b-0000: $("$CLUSTER" status)"
status_has '^containers: 8 placed of 8 desired, 8 on-live-node$' || fail "status: containers: $("$CLUSTER" status)"

# --- a node dies: detection, then rescheduling after the grace period ---
node_is() { "$CLUSTER" node list | awk -v n="$1" -v s="$2" '$1==n && $2==s {f=1} END {exit !f}'; }
all_moved_off() { [ "$(placed_on "$1")" -eq 0 ] && [ "$("$CLUSTER" env list | awk '{print $2}')" = "8/8" ]; }
t0=$(now_ms)
kill -9 $SIM_B
wait_until 15 node_is b-0000 suspect || fail "b-0000 never turned suspect"
t1=$(now_ms)
wait_until $((GRACE + 20)) all_moved_off b-0000 || fail "b-0000's containers were not rescheduled"
t2=$(now_ms)
node_is b-0000 fenced || fail "b-0000 not fenced after its containers moved"
status_has '^  b-0000 +fenced +expired +yes +0$' || fail "status: fenced b-0000: $("$CLUSTER" status)"
status_has '^containers: 8 placed of 8 desired, 8 on-live-node$' || fail "status: containers: $("$CLUSTER" status)"
echo "ok: status shows the leader, the nodes' leases and fences, the containers per state"
echo "ok: node death detected in $((t1 - t0)) ms (lease TTL ${TTL}s), rescheduled in $((t2 - t0)) ms (grace ${GRACE}s)"
echo "measure: detection_ms=$((t1 - t0)) rescheduled_ms=$((t2 - t0)) ttl_s=$TTL grace_s=$GRACE"

# --- node remove: a dead node leaves the cluster; a live one is refused ---
set +e
out=$("$CLUSTER" node remove a-0000 2>&1); rc=$?
set -e
[ "$rc" -ne 0 ] && [[ "$out" == *"node a-0000 is alive (its lease is held)"* ]] || fail "remove of a live node: rc $rc [$out]"
[ -n "$(etcd_get /berth/nodes/a-0000/spec)" ] || fail "the refused remove deleted a-0000's spec"
set +e
out=$("$CLUSTER" node remove nosuch 2>&1); rc=$?
set -e
[ "$rc" -ne 0 ] && [[ "$out" == *"node nosuch: not found"* ]] || fail "remove of an unknown node: rc $rc [$out]"
"$CLUSTER" node remove b-0000 | grep -q "b-0000: removed" || fail "node remove b-0000"
[ "$(etcd_count /berth/nodes/b-0000/)" -eq 0 ] || fail "b-0000's keys left after remove"
[ "$(etcd_count /berth/assign/b-0000/)" -eq 0 ] || fail "b-0000's assignments left after remove"
"$CLUSTER" node list | grep -q "^b-0000 " && fail "node list still shows the removed b-0000"
[ "$("$CLUSTER" env list | awk '{print $2}')" = "8/8" ] || fail "containers lost with the removed node"
echo "ok: node remove: a dead node's keys gone, a live one refused, an unknown one named"

# --- a node frozen past the grace comes back: fencing ---
kill -STOP $SIM_C
t0=$(now_ms)
wait_until $((GRACE + 20)) all_moved_off c-0000 || fail "c-0000's containers were not rescheduled"
[ "$(sim_running "$S" c-0000 | wc -l)" -eq 2 ] || fail "frozen c-0000 should still hold its 2 stale copies"
"$CLUSTER" events | grep -q '"kind":"fence","node":"c-0000"' || fail "no fence event for c-0000"
kill -CONT $SIM_C
t1=$(now_ms)
wait_until 15 test ! -s "$S/c-0000" || fail "c-0000 did not stop its stale copies after coming back"
wait_until 15 node_is c-0000 ready || fail "c-0000 did not clear its fence"
t2=$(now_ms)
[ -z "$(etcd_get /berth/nodes/c-0000/fence)" ] || fail "fence key still there"
echo "ok: returning node stopped its stale copies and cleared its fence $((t2 - t1)) ms after it resumed"

# New work may land on it again.
"$CLUSTER" env scale web app 12 --wait 10
[ "$(placed_on c-0000)" -ge 1 ] || fail "c-0000 got no new work after its fence was cleared"
wait_until 5 test "$(sim_running "$S" c-0000 | wc -l)" -eq "$(placed_on c-0000)" || fail "c-0000 does not run what it was given"
echo "ok: fenced node accepted new work after clearing its fence"

# --- cordon, drain, uncordon ---
"$CLUSTER" node cordon a-0001
before=$(placed_on a-0001)
"$CLUSTER" env scale web app 14 --wait 10
[ "$(placed_on a-0001)" -eq "$before" ] || fail "a cordoned node got new containers"
"$CLUSTER" node drain a-0000 --wait 20
[ "$(placed_on a-0000)" -eq 0 ] || fail "drained node still has containers"
wait_until 5 test ! -s "$S/a-0000" || fail "drained node still runs containers"
[ "$("$CLUSTER" env list | awk '{print $2}')" = "14/14" ] || fail "containers lost in the drain"
"$CLUSTER" events | grep -q '"moved":\["web.app[^"]* (migrating its disk)' || fail "no move event for a cold migration"
"$CLUSTER" events | grep -q '"kind":"migrated".*"from":"a-0000"' || fail "no migrated event from the drained node"
[ "$(etcd_count /berth/assign/a-0000/)" -eq 0 ] || fail "the drained node keeps assignments after the migrations"
! etcd_get_prefix /berth/containers/ | grep -q '"from"' || fail "a container record still names a migration source"
"$CLUSTER" node uncordon a-0001
"$CLUSTER" node uncordon a-0000
wait_until 5 node_is a-0000 ready || fail "uncordon did not make a-0000 ready"
"$CLUSTER" env scale web app 20 --wait 10
[ "$(placed_on a-0000)" -ge 1 ] || fail "uncordoned node got no work"
echo "ok: cordon, drain, uncordon"

# Vertical scaling: new resources for every container, kept where they fit.
"$CLUSTER" env scale web app 20 --cpus 2 --memory-mb 512 --wait 10
[ "$("$CLUSTER" env show web | grep -c '2 cpus, 512 MiB')" -eq 20 ] || fail "vertical scale not applied to all 20"
echo "ok: vertical scale"

# --- an operator's move: to the node asked for, cold; refused when it cannot ---
cl_bg sim-m.log "$SIM" --nodes 1 --id-prefix m- --lease-ttl $TTL --state-dir "$S"
cl_bg sim-t.log "$SIM" --nodes 1 --id-prefix t- --cpus 1 --lease-ttl $TTL --state-dir "$S"
wait_until 10 node_is m-0000 ready || fail "m-0000 did not join"
wait_until 10 node_is t-0000 ready || fail "t-0000 did not join"
c=$(etcd_get_prefix /berth/containers/ | jq -r 'select(.node == "a-0001") | .id' | head -1)
[ -n "$c" ] || fail "no container on a-0001 to move"
"$CLUSTER" move "$c" m-0000 --wait 10 | grep -q "^$c: on m-0000" || fail "move $c to m-0000"
[ "$(etcd_get "/berth/containers/$c" | jq -r '.node + " " + (.from // "")')" = "m-0000 " ] || fail "$c not recorded on m-0000"
[ "$(etcd_count /berth/moves/)" -eq 0 ] || fail "the move request was left behind"
wait_until 5 sim_has m-0000 "$c" || fail "m-0000 does not run $c"
wait_until 5 eval '! sim_has a-0001 "$c"' || fail "a-0001 still runs $c"
"$CLUSTER" events | grep -q "\"$c from a-0001 to m-0000 (migrating its disk)\"" || fail "no move event for $c"
set +e
out=$("$CLUSTER" move "$c" t-0000 --wait 10 2>&1); rc=$?
set -e
[ "$rc" -ne 0 ] && [[ "$out" == *"refused by the orchestrator"* ]] || fail "a move to a node too small: rc $rc [$out]"
"$CLUSTER" events | grep -q '"kind":"move-refused".*"reason":"no node fits' || fail "no move-refused event with the reason"
[ "$(etcd_get "/berth/containers/$c" | jq -r .node)" = m-0000 ] || fail "a refused move moved $c"
set +e
out=$("$CLUSTER" move "$c" nosuch 2>&1); rc=$?
set -e
[ "$rc" -ne 0 ] && [[ "$out" == *"no node nosuch"* ]] || fail "a move to an unknown node: rc $rc [$out]"
set +e
out=$("$CLUSTER" move web.app.99 m-0000 2>&1); rc=$?
set -e
[ "$rc" -ne 0 ] && [[ "$out" == *"no container web.app.99"* ]] || fail "a move of an unknown container: rc $rc [$out]"
echo "ok: move: to the node asked for with its disk; a node too small, an unknown node or container refused"

# No node holds more than its capacity, no container is assigned twice.
n_assign=$(etcd_count /berth/assign/)
[ "$n_assign" -eq 20 ] || fail "$n_assign assignment keys for 20 containers"
"$CLUSTER" env delete web --wait 10
[ "$(etcd_count /berth/assign/)" -eq 0 ] || fail "assignments left after env delete"
echo "PASS failover_test"
