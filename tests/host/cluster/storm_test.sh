#!/usr/bin/env bash
# storm_test.sh — the orchestrator's eviction rules with simulated nodes on
# a real etcd: more than --storm-fraction of the nodes dark at once evicts
# none and says so (log and event), and the nodes coming back find every
# container where it was; fewer dark nodes are evicted at no more than
# --evict-rate a second; an environment changed with env apply (count and
# resources) converges. Prints the fence times.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cl_setup
cl_start_etcd
GRACE=2
TTL=2
S=$CL_DIR/state
cl_bg sim-a.log "$SIM" --nodes 6 --id-prefix a- --lease-ttl $TTL --state-dir "$S"; SIM_A=$LAST_PID
cl_bg sim-b.log "$SIM" --nodes 3 --id-prefix b- --lease-ttl $TTL --state-dir "$S"; SIM_B=$LAST_PID
cl_bg sim-c.log "$SIM" --nodes 1 --id-prefix c- --lease-ttl $TTL --state-dir "$S"
cl_bg orch.log "$ORCH" --grace $GRACE --leader-ttl 3 --evict-rate 1 --storm-fraction 0.55
ready_nodes() { [ "$("$CLUSTER" node list | awk '$2=="ready"' | wc -l)" -eq "$1" ]; }
wait_until 15 ready_nodes 10 || fail "10 nodes did not join"
cat >"$CL_DIR/web.json" <<'J'
{"name":"web","roles":[{"name":"app","template":"debian-12","count":10,"resources":{"cpus":1,"memory_mb":256,"disk_gb":1}}]}
J
"$CLUSTER" env create "$CL_DIR/web.json" --wait 20 >/dev/null || fail "env create"
where() { ETCDCTL_API=3 etcdctl --endpoints "$ETCD_URL" get --prefix --print-value-only /berth/containers/ | jq -r '.id + " " + .node' | sort; }
before=$(where)
echo "ok: 10 containers on 10 simulated nodes"

# --- 6 of 10 dark at once: above the storm fraction, nobody is evicted ---------
kill -9 "$SIM_A"
wait_until 15 grep -q "6 of 10 nodes are dark at once: evictions stopped" "$CL_DIR/orch.log" ||
  fail "the orchestrator did not say it stopped evicting: $(tail -3 "$CL_DIR/orch.log")"
"$CLUSTER" events | grep -q '"kind":"evictions-stopped","dark":"6","nodes":"10"' || fail "no evictions-stopped event"
sleep $((GRACE + 2))  # well past the grace: still nobody fenced, nothing moved
[ "$("$CLUSTER" node list | awk '$2=="fenced"' | wc -l)" -eq 0 ] || fail "a node was fenced in a storm: $("$CLUSTER" node list)"
[ "$(where)" = "$before" ] || fail "containers moved during a storm"
cl_bg sim-a2.log "$SIM" --nodes 6 --id-prefix a- --lease-ttl $TTL --state-dir "$S"; SIM_A=$LAST_PID
wait_until 15 ready_nodes 10 || fail "the 6 nodes did not come back"
resumed() { "$CLUSTER" events | grep -q '"kind":"evictions-resumed"'; }
wait_until 10 resumed || fail "no evictions-resumed event"
[ "$(where)" = "$before" ] || fail "containers moved when the nodes came back"
echo "ok: 6 of 10 nodes dark: evictions stopped and said so (log, event); back, every container where it was"

# --- 3 of 10 dark: evicted, one a second (--evict-rate 1) -------------------------
t0=$(now_ms)
kill -9 "$SIM_B"
fenced() { [ "$("$CLUSTER" node list | awk '$2=="fenced"' | wc -l)" -eq "$1" ]; }
wait_until $((TTL + GRACE + 15)) fenced 3 || fail "the 3 dark nodes were not all fenced: $("$CLUSTER" node list)"
times=$("$CLUSTER" events | jq -r 'select(.kind == "fence") | .time' | while read -r t; do date -d "$t" +%s%3N; done | sort -n)
[ "$(echo "$times" | wc -l)" -eq 3 ] || fail "expected 3 fence events: $times"
first=$(echo "$times" | head -1); last=$(echo "$times" | tail -1)
[ $((last - first)) -ge 1800 ] || fail "3 fences within $((last - first)) ms at --evict-rate 1"
moved_off() { [ "$(placed_on b-0000)" -eq 0 ] && [ "$(placed_on b-0001)" -eq 0 ] && [ "$(placed_on b-0002)" -eq 0 ]; }
wait_until 10 moved_off || fail "the fenced nodes' containers were not moved"
echo "ok: 3 of 10 dark: fenced one a second ($((first - t0)) to $((last - t0)) ms after the kill), containers moved"

# --- env apply of a changed environment ---------------------------------------------
cat >"$CL_DIR/web.json" <<'J'
{"name":"web","roles":[{"name":"app","template":"debian-12","count":5,"resources":{"cpus":0.5,"memory_mb":128,"disk_gb":1}},
 {"name":"db","template":"debian-12","count":2,"resources":{"cpus":1,"memory_mb":512,"disk_gb":2},"placement":{"anti_affinity":true}}]}
J
"$CLUSTER" env apply "$CL_DIR/web.json" --wait 20 >/dev/null || fail "env apply"
recs=$(etcd_get_prefix /berth/containers/)
[ "$(echo "$recs" | jq -s 'map(select(.role == "app" and .resources.memory_mb == 128)) | length')" -eq 5 ] || fail "app: not 5 of 128 MiB: $recs"
[ "$(echo "$recs" | jq -s 'map(select(.role == "db")) | length')" -eq 2 ] || fail "db: not 2: $recs"
[ "$(echo "$recs" | jq -rs 'map(select(.role == "db") | .node) | unique | length')" -eq 2 ] || fail "db replicas share a node: $recs"
echo "ok: env apply: app scaled 10 -> 5 with new resources, db added with anti-affinity on 2 nodes"
"$CLUSTER" env delete web --wait 20 >/dev/null || fail "env delete"
echo "PASS storm_test"
