#!/usr/bin/env bash
# partition_test.sh — cluster safety under partitions, with three real
# berthd nodes and a three-member etcd, each in a network namespace of the
# test's own, joined by a bridge in a hub namespace (198.18.60.0/24; the
# host's namespace is never touched). A checker samples every node's
# running set through its berthd API every 100 ms throughout and fails the
# test if a container ever runs on two nodes at once, or runs nowhere for
# longer than grace + lease TTL + start time. Scenarios:
#  1. an etcd member hung by SIGSTOP (the one every client starts with):
#     no node loses its lease or fences itself, writes go through;
#  2. a node cut off (nft drop on its link) for a little longer than its
#     fence delay, then healed before the orchestrator's grace ends: it
#     stops its containers, then boots the same ones again with their data;
#  3. a node cut off for good: it stops its containers before they are
#     placed elsewhere; once healed it destroys its stale copies;
#  4. the leading orchestrator (of two replicas, each in a namespace of
#     its own) cut off during a placement burst: it steps down before the
#     standby is elected, every container is placed once and runs, and
#     healed it stands by;
#  3b. a node's berthd killed as it is cut off and restarted still cut
#     off: it fences on its predecessor's clock at once.
# Prints the timings (partition -> fenced, -> running elsewhere; leader
# cut off -> stepped down, -> standby elected).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cl_need_berthd
command -v nft >/dev/null || { echo "SKIP: nft not installed"; exit 77; }
cl_setup
chmod 711 "$CL_DIR"  # unprivileged containers traverse it to their rootfs
CG=berth.cltest-$$
TTL=3            # node lease, s
GRACE=6          # orchestrator's grace, s
FENCE_STOP=2     # --fence-stop-timeout, s
START=10         # time allowed to create and boot a container elsewhere, s
NODES="n1 n2 n3"
P=bcl$$          # namespace prefix
HUB=$P-hub
NET=198.18.60
declare -A NPID NIP
EURL=() EPID=()

# (Background processes are started with nsenter itself, not through
# these functions, so that $! is the process.)
ns() { local n=$1; shift; nsenter --net="/run/netns/$P-$n" "$@"; }
hub() { nsenter --net="/run/netns/$HUB" "$@"; }
node_dir() { echo "$CL_DIR/$1"; }
on() { local n=$1; shift; BERTH_SOCKET="$(node_dir "$n")/berthd.sock" "$BERTH" "$@"; }
cluster() { hub "$CLUSTER" --etcd-timeout-ms 1000 "$@"; }

our_pids() { cl_node_pids; }
cleanup() {
  set +e
  local n p
  [ -n "${CHECKER:-}" ] && kill "$CHECKER" 2>/dev/null
  for n in $NODES; do [ -n "${NPID[$n]:-}" ] && kill -9 "${NPID[$n]}" 2>/dev/null && wait "${NPID[$n]}" 2>/dev/null; done
  cl_nodes_leftovers "$CG" $NODES
  for p in "${EPID[@]}"; do kill -CONT "$p" 2>/dev/null; done
  cl_cleanup
  for n in hub e0 e1 e2 o1 o2 $NODES; do ip netns delete "$P-$n" 2>/dev/null; done
}
trap cleanup EXIT

# --- the network: a hub with a bridge, one namespace per member and node ------
ip netns add "$HUB"
ip -n "$HUB" link set lo up
ip -n "$HUB" link add br0 type bridge
ip -n "$HUB" addr add "$NET.1/24" dev br0
ip -n "$HUB" link set br0 up
attach() { # attach NAME ADDRESS: a namespace on the hub's bridge
  ip netns add "$P-$1"
  ip -n "$P-$1" link set lo up
  ip -n "$HUB" link add "v-$1" type veth peer name eth0 netns "$P-$1"
  ip -n "$HUB" link set "v-$1" master br0 up
  ip -n "$P-$1" addr add "$2/24" dev eth0
  ip -n "$P-$1" link set eth0 up
}
for i in 0 1 2; do attach "e$i" "$NET.1$i"; done
for i in 1 2 3; do attach "n$i" "$NET.2$i"; NIP[n$i]=$NET.2$i; done
for i in 1 2; do attach "o$i" "$NET.3$i"; done

# --- etcd: three members ---------------------------------------------------------
initial=""
for i in 0 1 2; do initial+="${initial:+,}m$i=http://$NET.1$i:2380"; done
for i in 0 1 2; do
  cl_etcd_member "m$i" "http://$NET.1$i:2379" "http://$NET.1$i:2380" "$initial" nsenter --net="/run/netns/$P-e$i"
  EPID+=("$LAST_PID")
  EURL+=("http://$NET.1$i:2379")
done
export BERTH_ETCD
BERTH_ETCD=$(IFS=,; echo "${EURL[*]}")
ETCD_URL=${EURL[1]}
healthy() { hub etcdctl --endpoints "$BERTH_ETCD" endpoint health >/dev/null 2>&1; }
wait_until 30 healthy || fail "etcd members did not come up"
# Every client starts with member 0: make it a follower, so that hanging
# it tests the clients' failover, not etcd's election.
leader_url() { hub etcdctl --endpoints "$BERTH_ETCD" endpoint status | awk -F', ' '$5 == "true" {print $1}'; }
if [ "$(leader_url)" = "${EURL[0]}" ]; then
  id1=$(hub etcdctl --endpoints "${EURL[1]}" endpoint status | awk -F', ' '{print $2}')
  hub etcdctl --endpoints "${EURL[0]}" move-leader "$id1" >/dev/null || fail "move-leader"
fi
wait_until 10 test -n "$(leader_url)" || fail "no etcd leader"
[ "$(leader_url)" != "${EURL[0]}" ] || fail "member 0 still leads"
echo "ok: 3 etcd members in namespaces of their own on $NET.0/24, member 0 a follower"

# --- orchestrator and three berthd nodes --------------------------------------------
# Two replicas: o1 leads, o2 stands by.
LEADER_TTL=3
leader_is() { [ "$(hub etcdctl --endpoints "$BERTH_ETCD" get --print-value-only /berth/leader)" = "$1" ]; }
for o in o1 o2; do
  cl_bg "$o.log" nsenter --net="/run/netns/$P-$o" "$ORCH" --id "$o" --grace $GRACE --leader-ttl $LEADER_TTL --etcd-timeout-ms 1000
  [ "$o" = o2 ] || wait_until 10 leader_is o1 || fail "o1 did not take the lead"
done
start_node() {
  local n=$1 d
  d=$(node_dir "$n")
  # nsenter, not ip netns exec: that one mounts a sysfs of its own over
  # /sys, hiding the cgroup hierarchies.
  nsenter --net="/run/netns/$P-$n" "$BERTHD" --state-dir "$d/state" --run-dir "$d/run" --socket "$d/berthd.sock" --cgroup-parent "$CG-$n" \
    --monitor "$BERTH_MONITOR" --cluster "$BERTH_ETCD" --node-id "$n" --capacity cpus=4,memory=4G,disk=100G \
    --lease-ttl $TTL --fence-stop-timeout $FENCE_STOP --usage-interval 2 --resync-interval 2 >>"$CL_DIR/$n.log" 2>&1 &
  NPID[$n]=$!
  wait_until 10 on "$n" list || fail "berthd $n did not come up"
}
for n in $NODES; do
  mkdir -p "$(node_dir "$n")/state"
  "$BERTH_IMAGE" --store "$(node_dir "$n")/state/images" build-template busybox berth/busybox >/dev/null
  start_node "$n"
done
ready_nodes() { [ "$(cluster node list | awk '$2=="ready"' | wc -l)" -eq "$1" ]; }
wait_until 30 ready_nodes 3 || fail "3 berthd nodes did not join"
grep -h "self-fence" "$CL_DIR/n1.log" | head -1
spec_grace=$(hub etcdctl --endpoints "$BERTH_ETCD" get --print-value-only /berth/nodes/n1/spec | jq -r .fence_grace_ms)
[ "$spec_grace" -gt 0 ] && [ "$spec_grace" -lt $((GRACE * 1000)) ] || fail "n1's spec: fence_grace_ms $spec_grace, expected below the grace"
echo "ok: 3 berthd nodes joined; each fences $TTL s after its last renewal and needs a grace of $spec_grace ms (the orchestrator's: $((GRACE * 1000)) ms)"

# An operator's own container on n1: never touched, partitioned or not.
on n1 create mine --template berth/busybox --disk 64M >/dev/null
on n1 start mine >/dev/null

cluster_cts() {
  on "$1" list --format json | jq -r --arg s "${2:-}" '.[] | select(.config.cluster != null) | select($s == "" or .state == $s) | .config.cluster'
}
n_cluster() { cluster_cts "$1" "${2:-}" | grep -c . || true; }
local_name() { on "$1" list --format json | jq -r --arg id "$2" '.[] | select(.config.cluster == $id) | .name'; }
total_running() { local n t=0; for n in $NODES; do t=$((t + $(n_cluster "$n" running))); done; echo $t; }
running_is() { [ "$(total_running)" -eq "$1" ]; }
node_of() { hub etcdctl --endpoints "$BERTH_ETCD" get --print-value-only "/berth/containers/$1" | jq -r .node; }
node_is() { cluster node list | awk -v n="$1" -v s="$2" '$1==n && $2==s {f=1} END {exit !f}'; }
cat >"$CL_DIR/db.json" <<'J'
{"name":"db","roles":[{"name":"pg","template":"berth/busybox","count":3,"resources":{"cpus":0.25,"memory_mb":32,"disk_gb":1}}]}
J
cluster env create "$CL_DIR/db.json" --wait 30 >/dev/null || fail "env create"
wait_until 60 running_is 3 || fail "3 containers not running ($(total_running))"

BOUND=$(( (GRACE + TTL + START) * 1000 ))
socks=()
for n in $NODES; do socks+=("$n=$(node_dir "$n")/berthd.sock"); done
python3 "$(dirname "$0")/checker.py" --bound-ms $BOUND --state "$CL_DIR/changes" "${socks[@]}" >"$CL_DIR/checker.out" 2>&1 &
CHECKER=$!
echo "ok: 3 containers running, one per node; the checker samples every 100 ms (bound: grace + TTL + $START s start = $BOUND ms)"
checker_ok() { ! grep -q VIOLATION "$CL_DIR/checker.out" || fail "checker: $(grep VIOLATION "$CL_DIR/checker.out" | head -3)"; }

# --- 1. a hung etcd member -------------------------------------------------------------
kill -STOP "${EPID[0]}"
t0=$(now_ms)
cluster env scale db pg 4 --wait 30 >/dev/null || fail "env scale with member 0 hung"
t1=$(now_ms)
wait_until 60 running_is 4 || fail "4 containers not running with member 0 hung ($(total_running))"
sleep $((TTL + 1))  # a lease's worth of renewals, each starting at the hung member or not
! grep -q "fencing itself" "$CL_DIR"/n?.log || fail "a node fenced itself while only one etcd member hung"
nodes=$(cluster node list) || fail "node list with member 0 hung"
[ "$(echo "$nodes" | awk '$2=="ready"' | wc -l)" -eq 3 ] || fail "a node lost its lease while one etcd member hung: $nodes"
kill -CONT "${EPID[0]}"
checker_ok
echo "ok: etcd member 0 hung (SIGSTOP): scale went through in $((t1 - t0)) ms, no node lost its lease or fenced itself"

# --- 2. a short partition: fenced, then the same containers back with their data ------------
victim() { local n v=n1; for n in $NODES; do [ "$(n_cluster "$n" running)" -gt "$(n_cluster "$v" running)" ] && v=$n; done; echo $v; }
cut_off() { ns "$1" nft -f - <<'N'
table inet partition {
  chain in { type filter hook input priority 0; iifname "eth0" drop; }
  chain out { type filter hook output priority 0; oifname "eth0" drop; }
}
N
}
heal() { ns "$1" nft delete table inet partition; }
v=$(victim)
mine=$(cluster_cts "$v" running)
for id in $mine; do on "$v" exec "$(local_name "$v" "$id")" sh -c "echo $id-kept >/mark" || fail "write into $id on $v"; done
t0=$(now_ms)
cut_off "$v"
stopped_on() { [ "$(n_cluster "$1" running)" -eq 0 ]; }
wait_until $((TTL + FENCE_STOP + 3)) stopped_on "$v" || fail "$v did not fence itself: $(grep -i fence "$CL_DIR/$v.log" | tail -3)"
t1=$(now_ms)
heal "$v"
back() { local id; for id in $mine; do [ "$(on "$v" status "$(local_name "$v" "$id")" --format json | jq -r .state)" = running ] || return 1; done; }
wait_until 30 back || fail "$v did not boot its own containers again after the partition healed"
t2=$(now_ms)
for id in $mine; do
  [ "$(node_of "$id")" = "$v" ] || fail "$id was moved off $v during a partition shorter than the grace"
  [ "$(on "$v" exec "$(local_name "$v" "$id")" cat /mark)" = "$id-kept" ] || fail "$id on $v lost its data"
done
[ "$(on n1 status mine --format json | jq -r .state)" = running ] || fail "the operator's own container was touched"
checker_ok
echo "ok: $v cut off $((t1 - t0)) ms before all its $(echo $mine | wc -w) containers were stopped; healed, it booted the same ones with their data in $((t2 - t1)) ms"
echo "measure: short_partition_to_fenced_ms=$((t1 - t0)) healed_to_running_ms=$((t2 - t1))"

# --- 3. a long partition: fenced, then placed elsewhere ------------------------------------
wait_until 30 ready_nodes 3 || fail "nodes not ready before the long partition"
v=$(victim)
mine=$(cluster_cts "$v" running)
others=$(for n in $NODES; do [ "$n" = "$v" ] || echo "$n"; done)
echo "$(now_ms) partition $v" >>"$CL_DIR/changes"
t0=$(now_ms)
cut_off "$v"
wait_until $((TTL + FENCE_STOP + 3)) stopped_on "$v" || fail "$v did not fence itself"
t1=$(now_ms)
elsewhere() {
  local id n
  for id in $mine; do
    n=$(node_of "$id")
    [ "$n" != "$v" ] && cluster_cts "$n" running | grep -qx "$id" || return 1
  done
}
wait_until $((GRACE + TTL + START + 10)) elsewhere || fail "$v's containers not running elsewhere"
t2=$(now_ms)
# The first samples of the checker's log (100 ms apart) give the times.
fenced_at=0
for id in $mine; do
  at=$(awk -v n="$v" -v id="$id" -v t="$t0" '$1 >= t && $2 == n && $3 == id && $4 == "down" {print $1; exit}' "$CL_DIR/changes")
  [ -n "$at" ] && [ "$at" -gt "$fenced_at" ] && fenced_at=$at
done
up_at=0
for id in $mine; do
  at=$(awk -v n="$v" -v id="$id" -v t="$t0" '$1 >= t && $2 != n && $3 == id && $4 == "up" {print $1; exit}' "$CL_DIR/changes")
  [ -n "$at" ] && [ "$at" -gt "$up_at" ] && up_at=$at
done
[ "$fenced_at" -gt 0 ] && [ "$up_at" -gt "$fenced_at" ] || fail "checker's log: fenced at $fenced_at, up elsewhere at $up_at"
node_is "$v" fenced || node_is "$v" suspect || fail "$v not fenced by the orchestrator"
checker_ok
echo "ok: $v cut off for good: all its containers stopped $((fenced_at - t0)) ms after the partition, running elsewhere after $((up_at - t0)) ms (margin $((up_at - fenced_at)) ms; grace ${GRACE}s, TTL ${TTL}s)"
echo "measure: partition_to_fenced_ms=$((fenced_at - t0)) partition_to_running_elsewhere_ms=$((up_at - t0)) ttl_s=$TTL grace_s=$GRACE fence_grace_ms=$spec_grace"
heal "$v"
gone() { [ "$(n_cluster "$v")" -eq 0 ]; }
wait_until 30 gone || fail "$v kept its stale copies after the partition healed: $(cluster_cts "$v")"
wait_until 30 node_is "$v" ready || fail "$v did not clear its fence"
[ "$(on n1 status mine --format json | jq -r .state)" = running ] || fail "the operator's own container was touched"
running_is 4 || fail "$(total_running) running after the heal, expected 4"
echo "ok: healed, $v destroyed its stale copies and is ready again; the operator's own container ran throughout"

# --- 3b. berthd killed while cut off, restarted still cut off -------------------------------
# Its containers run on under their monitors while berthd is dead; the new
# berthd fences on its predecessor's clock (the last renewal it sent), not
# a full fence delay from its own start, so they stop before the
# orchestrator may place them elsewhere.
wait_until 30 ready_nodes 3 || fail "nodes not ready before the restart while cut off"
v=$(victim)
mine=$(cluster_cts "$v" running)
t0=$(now_ms)
cut_off "$v"
kill -9 "${NPID[$v]}"; wait "${NPID[$v]}" 2>/dev/null || true; NPID[$v]=
sleep 5  # past its fence delay ($TTL s): nobody fences while berthd is dead
start_node "$v"
t1=$(now_ms)
# Within less than its own fence delay ($TTL s) of its start: the deadline
# it fences on is its predecessor's, which has passed.
wait_until $((TTL - 1)) stopped_on "$v" || fail "$v restarted while cut off did not fence at once: $(grep -i fence "$CL_DIR/$v.log" | tail -3)"
t2=$(now_ms)
grep -q "the fence clock counts from then" "$CL_DIR/$v.log" || fail "$v did not take its predecessor's last renewal"
wait_until $((GRACE + TTL + START + 10)) elsewhere || fail "$v's containers not running elsewhere after the restart"
t3=$(now_ms)
heal "$v"
wait_until 30 gone || fail "$v kept its stale copies after the partition healed: $(cluster_cts "$v")"
wait_until 30 node_is "$v" ready || fail "$v did not clear its fence"
checker_ok
echo "ok: $v's berthd killed as it was cut off and restarted $((t1 - t0)) ms later: its containers stopped $((t2 - t1)) ms after the restart, running elsewhere $((t3 - t0)) ms after the cut"

# --- 4. the leading orchestrator cut off during a placement burst ---------------------------
wait_until 30 ready_nodes 3 || fail "nodes not ready before the leader's partition"
leader_is o1 || fail "o1 does not lead before its partition"
grep -q '"standby: another replica leads"' "$CL_DIR/o2.log" || fail "o2 is not standing by"
cluster env scale db pg 9 >/dev/null || fail "env scale to 9"
t0=$(now_ms)
cut_off o1
wait_until 20 leader_is o2 || fail "o2 did not take the lead after o1 was cut off"
cluster env scale db pg 9 --wait 60 >/dev/null || fail "9 containers not placed and running under o2: $(cluster env show db)"
t1=$(now_ms)
running_is 9 || fail "$(total_running) running, expected 9"
placed=$(hub etcdctl --endpoints "$BERTH_ETCD" get --prefix --keys-only /berth/containers/ | grep -c . || true)
[ "$placed" -eq 9 ] || fail "$placed containers placed, expected 9"
# When each said what it did (their log lines' times; the same host clock).
ms_of() {
  local t
  t=$(jq -rR "fromjson? | select(.msg | test(\"$2\")) | .time" "$CL_DIR/$1.log" | tail -1)
  [ -n "$t" ] && date -d "$t" +%s%3N
}
down=$(ms_of o1 "stepping down before it can expire") || fail "o1 did not step down on its own: $(grep -i leader "$CL_DIR/o1.log" | tail -3)"
up=$(ms_of o2 "^elected leader as o2") || fail "o2 did not log its election"
[ "$down" -lt "$up" ] || fail "o1 stepped down at $down, after o2 was elected at $up"
heal o1
wait_until 20 grep -q '"standby: another replica leads"' "$CL_DIR/o1.log" || fail "o1 does not stand by once healed"
leader_is o2 || fail "o2 lost the lead when o1 came back"
checker_ok
echo "ok: leader o1 cut off during a burst to 9: stepped down $((down - t0)) ms after the cut, $((up - down)) ms before o2 was elected ($((up - t0)) ms); 9 placed once and running after $((t1 - t0)) ms; healed, o1 stands by"
echo "measure: leader_cut_to_step_down_ms=$((down - t0)) step_down_to_new_leader_ms=$((up - down)) leader_ttl_s=$LEADER_TTL"

# --- the checker's verdict; nothing left behind -------------------------------------------
kill "$CHECKER"
set +e; wait "$CHECKER"; rc=$?; set -e
CHECKER=
cat "$CL_DIR/checker.out"
[ "$rc" -eq 0 ] || fail "the checker saw a violation"
cluster env delete db --wait 30 >/dev/null || fail "env delete"
total_cts() { local n t=0; for n in $NODES; do t=$((t + $(n_cluster "$n"))); done; echo $t; }
none_left() { [ "$(total_cts)" -eq 0 ]; }
wait_until 60 none_left || fail "env delete left $(total_cts) cluster containers on the nodes"
on n1 stop mine --force >/dev/null; on n1 destroy mine >/dev/null
for n in $NODES; do kill "${NPID[$n]}"; wait "${NPID[$n]}" 2>/dev/null || true; NPID[$n]=; done
for n in $NODES; do [ ! -d "$(node_dir "$n")/run/netns" ] || umount "$(node_dir "$n")/run/netns" 2>/dev/null || true; done
[ -z "$(our_pids)" ] || fail "processes left: $(our_pids)"
echo "PASS partition_test"
