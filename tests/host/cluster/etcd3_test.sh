#!/usr/bin/env bash
# etcd3_test.sh — the cluster on a three-member etcd: the member that leads
# etcd is killed; the orchestrator, the nodes and the CLI move to the other
# members, and a change is placed again (recovery time measured). Node
# leases survive (etcd's new leader renews them to a full TTL).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cl_setup
cl_start_etcd3
cl_bg sim.log "$SIM" --nodes 3 --lease-ttl 5 --state-dir "$CL_DIR/state"
cl_bg orch.log "$ORCH" --grace 10
wait_until 15 bash -c "[ \$('$CLUSTER' node list | grep -c ready) -eq 3 ]" || fail "nodes did not join"
cat >"$CL_DIR/e.json" <<'J'
{"name":"e","roles":[{"name":"r","template":"alpine","count":3,"resources":{"cpus":1,"memory_mb":128}}]}
J
"$CLUSTER" env create "$CL_DIR/e.json" --wait 10
L=$(cl_etcd_leader) || fail "no etcd leader"
t0=$(now_ms)
kill -9 "${ETCD_MEMBER_PIDS[$L]}"
echo "killed etcd member m$L (the etcd leader)"
scaled() { "$CLUSTER" env scale e r 6 --wait 10; }
wait_until 30 scaled || fail "no placement after the etcd member died"
t1=$(now_ms)
for n in sim-0000 sim-0001 sim-0002; do
  wait_until 10 test "$(sim_running "$CL_DIR/state" $n | wc -l)" -eq 2 || fail "$n does not run its 2 containers"
done
t2=$(now_ms)
"$CLUSTER" node list | grep -q suspect && fail "a node turned suspect during the etcd failover"
echo "ok: placing again $((t1 - t0)) ms after the etcd leader was killed; all nodes converged after $((t2 - t0)) ms"
echo "measure: etcd_member_recovery_ms=$((t1 - t0)) converged_ms=$((t2 - t0))"
echo "PASS etcd3_test"
