#!/usr/bin/env bash
# berthd_test.sh — real berthd nodes in the cluster: three berthd (own
# state dirs, sockets and cgroup parents) join a real etcd under leases
# with the busybox template; an environment created with berth-cluster
# lands on them and its containers boot (berth list / exec on the nodes)
# with the environment's limits; a container whose init dies is started
# again by the agent; vertical scaling reaches the cgroup live; a template
# built on a node shows in its spec; kill -9 of one berthd gets its containers rescheduled and running on the
# others, while its stale copies run on (their monitors outlive berthd);
# restarted, it re-adopts them, finds itself fenced and destroys them
# before it takes new work; scale up and down create and destroy on the
# nodes; draining a node migrates its containers cold over the nodes'
# mutual-TLS API with their disks' contents (a copy that fails leaves the
# source's copy intact until a retry succeeds); a role naming a network
# lands only on the node that has it (n4,
# in a network namespace of its own) with addresses from it; an
# operator's own container is never touched. Prints the
# measured detection, rescheduling and running times; leaves no process,
# mount, loop device or cgroup behind.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cl_need_berthd
cl_setup
cl_start_etcd
chmod 711 "$CL_DIR"  # unprivileged containers traverse it to their rootfs
CG=berth.cltest-$$
TTL=3
GRACE=4
NODES="n1 n2 n3"
declare -A NPID NPORT

# A CA of the cluster and a certificate per node, for the nodes' API over
# TCP (server) and for copying disks from each other (client).
PKI=$CL_DIR/pki
mkdir -p "$PKI"
ssl() { openssl "$@" 2>>"$PKI/openssl.log"; }
ssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=berth test cluster CA" \
  -keyout "$PKI/ca.key" -out "$PKI/ca.crt"
for n in $NODES; do
  ssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$n/OU=node" -keyout "$PKI/$n.key" -out "$PKI/$n.csr"
  printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' >"$PKI/$n.ext"
  ssl x509 -req -days 2 -in "$PKI/$n.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial -extfile "$PKI/$n.ext" \
    -out "$PKI/$n.crt"
  NPORT[$n]=$(cl_free_port)
done

node_dir() { echo "$CL_DIR/$1"; }
# The berth CLI on node $1.
on() { local n=$1; shift; BERTH_SOCKET="$(node_dir "$n")/berthd.sock" "$BERTH" "$@"; }

start_node() {
  local n=$1 d
  d=$(node_dir "$n")
  # n3 takes its cluster settings from a file, the others from flags.
  local opts=(--cluster "$ETCD_URL" --node-id "$n" --labels region=test --capacity cpus=4,memory=4G,disk=100G
    --lease-ttl $TTL --usage-interval 2 --resync-interval 2)
  if [ "$n" = n3 ]; then
    cat >"$d/cluster.conf" <<C
# berthd cluster settings of node $n
ETCD="$ETCD_URL"
NODE_ID="$n"
LABELS="region=test"
CAPACITY="cpus=4,memory=4G,disk=100G"
LEASE_TTL="$TTL"
USAGE_INTERVAL="2"
RESYNC_INTERVAL="2"
NODE_ADDRESS="127.0.0.1:${NPORT[$n]}"
C
    opts=(--cluster-config "$d/cluster.conf")
  else
    opts+=(--node-address "127.0.0.1:${NPORT[$n]}")
  fi
  "$BERTHD" --state-dir "$d/state" --run-dir "$d/run" --socket "$d/berthd.sock" --cgroup-parent "$CG-$n" \
    --monitor "$BERTH_MONITOR" "${opts[@]}" --listen-tcp "127.0.0.1:${NPORT[$n]}" --tls-cert "$PKI/$n.crt" \
    --tls-key "$PKI/$n.key" --tls-client-ca "$PKI/ca.crt" >>"$CL_DIR/$n.log" 2>&1 &
  NPID[$n]=$!
  wait_until 10 on "$n" list || fail "berthd $n did not come up"
}

our_pids() { cl_node_pids; }

nodes_cleanup() {
  set +e
  local n
  for n in $NODES n4; do [ -n "${NPID[$n]:-}" ] && kill -9 "${NPID[$n]}" 2>/dev/null && wait "${NPID[$n]}" 2>/dev/null; done
  cl_nodes_leftovers "$CG" $NODES n4
  ip netns delete "$NS" 2>/dev/null
}
NS=berth-cl-$$
trap 'nodes_cleanup; cl_cleanup' EXIT

# Cluster containers on node $1 in state $2 (any state when empty).
cluster_cts() {
  on "$1" list --format json | jq -r --arg s "${2:-}" '.[] | select(.config.cluster != null) | select($s == "" or .state == $s) | .name'
}
n_cluster() { cluster_cts "$1" "${2:-}" | grep -c . || true; }
total_running() {
  local n t=0
  for n in "$@"; do t=$((t + $(n_cluster "$n" running))); done
  echo $t
}
running_is() { local want=$1; shift; [ "$(total_running "$@")" -eq "$want" ]; }
cluster_is() { [ "$(n_cluster "$1")" -eq "$2" ]; }
booted() { on "$1" exec "$2" test -e /run/berth-booted; }
all_booted() { # all_booted NODE...: every cluster container of those nodes has run its rcS
  local n c
  for n in "$@"; do
    for c in $(cluster_cts "$n" running); do booted "$n" "$c" || return 1; done
  done
}
boot_report() {
  local n c
  for n in "$@"; do
    for c in $(cluster_cts "$n" running); do echo "$n/$c: $(on "$n" exec "$c" test -e /run/berth-booted 2>&1; echo "rc $?")"; done
  done
}
node_is() { "$CLUSTER" node list | awk -v n="$1" -v s="$2" '$1==n && $2==s {f=1} END {exit !f}'; }
ready_nodes() { [ "$("$CLUSTER" node list | awk '$2=="ready"' | wc -l)" -eq "$1" ]; }
env_full() { [ "$("$CLUSTER" env list | awk '$1=="web" {print $2}')" = "$1/$1" ]; }

# --- bad options: refused before anything is made; etcd down: berthd serves ----
bad() { # bad EXPECTED-TEXT ARGS...: berthd exits 2 naming the problem, makes nothing
  local want=$1 out rc; shift
  set +e
  out=$(timeout 10 "$BERTHD" --state-dir "$CL_DIR/bad/state" --run-dir "$CL_DIR/bad/run" --socket "$CL_DIR/bad/sock" "$@" 2>&1)
  rc=$?
  set -e
  [ "$rc" -eq 2 ] && [[ "$out" == *"$want"* ]] && [ ! -e "$CL_DIR/bad" ] || fail "berthd $*: rc $rc, [$out], expected [$want]"
}
bad "--node-id: expected" --cluster "$ETCD_URL" --node-id Bad.Node
bad "--node-id: expected" --cluster "$ETCD_URL"
bad "--node-id: needs --cluster" --node-id n9
bad "--capacity: cpus: expected a positive number" --cluster "$ETCD_URL" --node-id n9 --capacity cpus=lots
bad "--capacity: unknown resource \"gpus\"" --cluster "$ETCD_URL" --node-id n9 --capacity gpus=1
bad "--labels: expected key=value" --cluster "$ETCD_URL" --node-id n9 --labels region
bad "--lease-ttl: expected an integer from 2 to 1000000000" --cluster "$ETCD_URL" --node-id n9 --lease-ttl 0
bad "--node-address 127.0.0.1:1: needs --listen-tcp" --cluster "$ETCD_URL" --node-id n9 --node-address 127.0.0.1:1
bad "--node-address: " --cluster "$ETCD_URL" --node-id n9 --node-address 127.0.0.1
printf 'ETCD="%s"\nNODE_ID="n9"\nZONE="a"\n' "$ETCD_URL" >"$CL_DIR/bad.conf"
bad "bad.conf: line 3: ZONE: unknown key" --cluster-config "$CL_DIR/bad.conf"
bad "--cluster-config" --cluster-config "$CL_DIR/missing.conf"
# KEY="" leaves a setting unset (a file written from a template), and
# every file is read, in order: the node id of the first file is refused
# although a second one follows.
printf 'ETCD="%s"\nNODE_ID="Bad.Node"\nLABELS=""\nETCD_CACERT=""\n' "$ETCD_URL" >"$CL_DIR/base.conf"
printf 'NODE_ADDRESS=""\nETCD_USER=""\n' >"$CL_DIR/more.conf"
bad '--node-id: expected 1-63 characters of [a-z0-9_-] starting with a letter or digit, got "Bad.Node"' \
  --cluster-config "$CL_DIR/base.conf" --cluster-config "$CL_DIR/more.conf"
echo "ok: bad cluster options and config files refused, nothing made"
dead=$(cl_free_port)
"$BERTHD" --state-dir "$CL_DIR/lone/state" --run-dir "$CL_DIR/lone/run" --socket "$CL_DIR/lone/sock" --cgroup-parent "$CG-lone" \
  --monitor "$BERTH_MONITOR" --cluster "http://127.0.0.1:$dead" --node-id lone >"$CL_DIR/lone.log" 2>&1 &
lone=$!
wait_until 10 env BERTH_SOCKET="$CL_DIR/lone/sock" "$BERTH" list || fail "berthd with etcd unreachable does not serve its API"
# The API comes up before the first join attempt has failed: wait for it.
wait_until 15 grep -q "127.0.0.1:$dead" "$CL_DIR/lone.log" || fail "berthd did not say etcd was unreachable: $(cat "$CL_DIR/lone.log")"
kill "$lone"; wait "$lone" 2>/dev/null || true
rm -f "$CL_DIR/lone.log"
echo "ok: with etcd unreachable berthd serves its local API and says why it cannot join"

# --- three nodes with the busybox template -----------------------------------
for n in $NODES; do
  mkdir -p "$(node_dir "$n")/state"
  "$BERTH_IMAGE" --store "$(node_dir "$n")/state/images" build-template busybox berth/busybox >/dev/null
done
cl_bg orch.log "$ORCH" --grace $GRACE --leader-ttl 3
for n in $NODES; do start_node "$n"; done
wait_until 20 ready_nodes 3 || fail "3 berthd nodes did not join"
for n in n1 n3; do
  spec=$(etcd_get /berth/nodes/$n/spec)
  echo "$spec" | jq -e '.templates == ["berth/busybox"] and .labels.region == "test" and .capacity.memory_mb == 4096' >/dev/null ||
    fail "$n's spec: $spec"
done
echo "ok: 3 berthd nodes joined with the busybox template (n3 configured from a file)"

# An operator's own container on n1: the agent must leave it alone.
on n1 create mine --template berth/busybox --disk 64M >/dev/null
on n1 start mine >/dev/null

# --- an environment lands on the nodes and runs --------------------------------
cat >"$CL_DIR/web.json" <<'J'
{"name":"web","roles":[{"name":"app","template":"berth/busybox","count":4,"resources":{"cpus":0.5,"memory_mb":64,"disk_gb":1}}]}
J
t0=$(now_ms)
# Through the berth CLI's cluster verbs (they run berth-cluster).
"$BERTH" env create "$CL_DIR/web.json" --wait 30 >/dev/null || fail "berth env create"
t1=$(now_ms)
# --wait returns once every node reports its containers running: they are.
running_is 4 n1 n2 n3 || fail "env create --wait returned with $(total_running n1 n2 n3) of 4 containers running"
"$BERTH" cluster status | grep -q "^leader: " || fail "berth cluster status"
"$BERTH" cluster status | grep -q "^reported by their nodes: 4 running$" || fail "status: reports: $("$BERTH" cluster status)"
show=$("$CLUSTER" env show web)
[ "$(echo "$show" | awk '$1 ~ /^web\.app\./ && $4 == "running"' | wc -l)" -eq 4 ] || fail "env show: not 4 running: $show"
echo "$show" | grep -q "^failover: a container rescheduled off a lost node starts again from its template" ||
  fail "env show does not state the failover rule: $show"
wait_until 30 all_booted n1 n2 n3 || fail "containers did not boot: $(boot_report n1 n2 n3)"
for n in $NODES; do
  [ "$(n_cluster "$n")" -eq "$(placed_on "$n")" ] || fail "$n runs $(n_cluster "$n") cluster containers, $(placed_on "$n") placed there"
done
nd=n1
for n in $NODES; do [ -n "$(cluster_cts "$n" running)" ] && { nd=$n; break; }; done
c=$(cluster_cts "$nd" running | head -1)
cfg=$(on "$nd" status "$c" --format json)
echo "$cfg" | jq -e '.config.ram == "67108864" and .config.cpulimit == "50" and .config.disk == "1073741824" and (.config.cluster | startswith("web.app."))' >/dev/null ||
  fail "container $c on $nd: limits not from the environment: $cfg"
f=/sys/fs/cgroup/memory/$CG-$nd/$c/memory.limit_in_bytes
[ -f "$f" ] || f=/sys/fs/cgroup/$CG-$nd/$c/memory.max
[ "$(cat "$f")" = 67108864 ] || fail "memory limit of $c not in its cgroup ($f: $(cat "$f"))"
[ "$(on "$nd" exec "$c" df -k / | awk 'NR==2 {print $2}')" -gt 900000 ] || fail "disk of $c is not the environment's 1 GiB"
echo "ok: env of 4 placed and running on berthd nodes in $((t1 - t0)) ms (placement: $(for n in $NODES; do printf '%s=%s ' $n "$(placed_on $n)"; done))"

# --- the agent keeps assigned containers running; vertical scaling; templates ----
init=$(on "$nd" status "$c" --format json | jq -r .init_pid)
kill -9 "$init"
t0=$(now_ms)
restarted() { [ "$(on "$nd" status "$c" --format json | jq -r '.state + " " + (.init_pid|tostring)')" != "running $init" ] &&
  [ "$(on "$nd" status "$c" --format json | jq -r .state)" = running ]; }
wait_until 30 restarted || fail "$c on $nd was not started again after its init died"
echo "ok: a crashed cluster container started again by the agent's resync in $(($(now_ms) - t0)) ms"
"$CLUSTER" env scale web app 4 --memory-mb 128 --wait 30 >/dev/null || fail "vertical scale"
ram_is() { [ "$(on "$nd" status "$c" --format json | jq -r .config.ram)" = 134217728 ]; }
wait_until 30 ram_is || fail "vertical scale did not reach $c on $nd"
[ "$(cat "$f")" = 134217728 ] || fail "new memory limit of $c not applied live ($(cat "$f"))"
echo "ok: vertical scale applied live on the node (RAM 128 MiB in $c's cgroup)"
on n2 image build-template busybox berth/busybox2 >/dev/null
has_template() { etcd_get /berth/nodes/n2/spec | jq -e '.templates | index("berth/busybox2")' >/dev/null; }
wait_until 30 has_template || fail "n2's spec did not pick up its new template"
echo "ok: a template built on n2 shows in its spec"

# --- drain: cold migration with the disk's contents, over mutual TLS ----------
src=n1
for n in $NODES; do [ "$(placed_on "$n")" -gt "$(placed_on "$src")" ] && src=$n; done
dests=$(for n in $NODES; do [ "$n" = "$src" ] || echo "$n"; done)
nmig=$(placed_on "$src")
[ "$nmig" -ge 1 ] || fail "no container on $src to migrate"
# Another node's certificate may export a container only while it is
# being migrated to that node: before the drain, refused, and it runs on.
c=$(cluster_cts "$src" running | head -1)
id=$(on "$src" status "$c" --format json | jq -r .config.cluster)
other=$(echo $dests | awk '{print $1}')
code=$(curl -sS -o "$CL_DIR/export.out" -w '%{http_code}' --max-time 10 --cacert "$PKI/ca.crt" --cert "$PKI/$other.crt" \
  --key "$PKI/$other.key" -X POST -d "{\"cluster\":\"$id\"}" "https://127.0.0.1:${NPORT[$src]}/v1/containers/$c/export" || true)
[ "$code" = 403 ] || fail "node $other exported $c of $src outside a migration: $code $(cat "$CL_DIR/export.out")"
[ "$(on "$src" status "$c" --format json | jq -r .state)" = running ] || fail "$c stopped by a refused export"
echo "ok: node $other's certificate refused the export of $id, which is not being migrated to it ($code); it runs on"
declare -A MARK
for c in $(cluster_cts "$src" running); do
  id=$(on "$src" status "$c" --format json | jq -r .config.cluster)
  MARK[$id]="$id-$RANDOM$RANDOM"
  on "$src" exec "$c" sh -c "echo ${MARK[$id]} >/mark && rm /etc/os-release" || fail "write into $c on $src"
done
# A copy that fails: berth/busybox on the other nodes is made another
# image (one more layer), which the copied changes do not fit.
for n in $dests; do
  on "$n" create retag --template berth/busybox --disk 64M >/dev/null
  on "$n" start retag >/dev/null && on "$n" stop retag --force >/dev/null
  on "$n" commit retag berth/busybox >/dev/null || fail "commit on $n"
  on "$n" destroy retag >/dev/null
done
"$CLUSTER" node drain "$src" --wait 1 >/dev/null 2>&1 || true
refused() { grep -q "not from berth/busybox as here (2 layers)" "$CL_DIR/$1.log"; }
any_refused() { local n; for n in $dests; do refused "$n" && return 0; done; return 1; }
wait_until 60 any_refused || fail "no destination refused the copy: $(tail -5 "$CL_DIR"/n?.log)"
sleep 1
[ "$(n_cluster "$src")" -eq "$nmig" ] || fail "a failed copy: $src keeps $(n_cluster "$src") of its $nmig containers"
[ "$(n_cluster "$src" running)" -eq 0 ] || fail "a container migrating off $src still runs there"
for n in $dests; do
  for c in $(cluster_cts "$n"); do
    id=$(on "$n" status "$c" --format json | jq -r .config.cluster)
    [ -z "${MARK[$id]:-}" ] || fail "a failed copy left $id half-made on $n"
  done
done
echo "ok: a copy that fails (the destination's template is another image) leaves $src's $nmig stopped copies intact"
# The same template again on the destinations (rebuilt: other layer
# digests, the same OS template): the retries go through.
t0=$(now_ms)
for n in $dests; do on "$n" image build-template busybox berth/busybox >/dev/null; done
migrated() { [ "$(placed_on "$src")" -eq 0 ] && [ "$(n_cluster "$src")" -eq 0 ] && [ "$(etcd_count /berth/assign/$src/)" -eq 0 ]; }
wait_until 90 migrated || fail "the drain of $src did not finish: $(n_cluster "$src") containers there, $(placed_on "$src") placed"
# shellcheck disable=SC2086
wait_until 60 running_is 4 $dests || fail "migrated containers not running on $dests"
t1=$(now_ms)
for id in "${!MARK[@]}"; do
  to=$(etcd_get "/berth/containers/$id" | jq -r .node)
  c=$(on "$to" list --format json | jq -r --arg id "$id" '.[] | select(.config.cluster == $id) | .name')
  [ "$(on "$to" exec "$c" cat /mark)" = "${MARK[$id]}" ] || fail "$id on $to lost its data in the migration"
  ! on "$to" exec "$c" test -e /etc/os-release || fail "$id on $to: a file deleted before the migration is back"
done
"$CLUSTER" events | grep -q '"kind":"migrated".*"from":"'"$src"'"' || fail "no migrated event"
! etcd_get_prefix /berth/containers/ | grep -q '"from"' || fail "a container record still names a migration source"
grep -q "bytes of disk changes copied" "$CL_DIR"/n?.log || fail "no copy in the destinations' logs"
echo "ok: drain of $src migrated its $nmig containers with their disks over mutual TLS in $((t1 - t0)) ms after the fix"
echo "measure: migrate_ms=$((t1 - t0)) containers=$nmig"
"$CLUSTER" node uncordon "$src" >/dev/null

# --- kill -9 of a berthd: detection, rescheduling, running elsewhere ------------
victim=n1
for n in $NODES; do [ "$(placed_on "$n")" -gt "$(placed_on "$victim")" ] && victim=$n; done
others=$(for n in $NODES; do [ "$n" = "$victim" ] || echo "$n"; done)
moved=$(placed_on "$victim")
[ "$moved" -ge 1 ] || fail "no container on $victim"
t0=$(now_ms)
kill -9 "${NPID[$victim]}"; wait "${NPID[$victim]}" 2>/dev/null || true
NPID[$victim]=
wait_until 20 node_is "$victim" suspect || fail "$victim never turned suspect"
t1=$(now_ms)
all_moved_off() { [ "$(placed_on "$victim")" -eq 0 ] && env_full 4; }
wait_until $((GRACE + 30)) all_moved_off || fail "$victim's containers were not rescheduled"
t2=$(now_ms)
# shellcheck disable=SC2086
wait_until 60 running_is 4 $others || fail "rescheduled containers not running on $others"
# shellcheck disable=SC2086
wait_until 30 all_booted $others || fail "rescheduled containers did not boot"
t3=$(now_ms)
node_is "$victim" fenced || fail "$victim not fenced after its containers moved"
stale=$(ls "$(node_dir "$victim")/run/monitors" | wc -l)
[ "$stale" -ge "$moved" ] || fail "$victim's $moved stale copies should still run without berthd ($stale monitors)"
echo "ok: berthd kill -9 detected in $((t1 - t0)) ms (lease TTL ${TTL}s), $moved containers rescheduled in $((t2 - t0)) ms (grace ${GRACE}s), running and booted on the others in $((t3 - t0)) ms"
echo "measure: detection_ms=$((t1 - t0)) rescheduled_ms=$((t2 - t0)) running_ms=$((t3 - t0)) ttl_s=$TTL grace_s=$GRACE"

# --- the node comes back: fenced, its stale copies destroyed -------------------
t0=$(now_ms)
start_node "$victim"
wait_until 30 cluster_is "$victim" 0 || fail "$victim did not remove its stale copies"
wait_until 15 node_is "$victim" ready || fail "$victim did not clear its fence"
t1=$(now_ms)
[ -z "$(etcd_get /berth/nodes/$victim/fence)" ] || fail "fence key still there"
grep -q "was fenced; stale containers stopped, fence cleared" "$CL_DIR/$victim.log" || fail "no fencing line in $victim's log"
echo "ok: restarted $victim destroyed its $moved stale copies and cleared its fence in $((t1 - t0)) ms"

# --- scale up: new work lands on the returned node; scale down removes ----------
"$CLUSTER" env scale web app 6 --wait 30 >/dev/null || fail "scale to 6"
wait_until 60 running_is 6 n1 n2 n3 || fail "6 containers not running after scale up ($(total_running n1 n2 n3))"
[ "$(placed_on "$victim")" -ge 1 ] || fail "$victim got no new work after its fence was cleared"
[ "$(n_cluster "$victim" running)" -eq "$(placed_on "$victim")" ] || fail "$victim does not run what it was given"
echo "ok: scale up to 6, $(placed_on "$victim") on the returned node"
"$CLUSTER" env scale web app 2 --wait 30 >/dev/null || fail "scale to 2"
total_cts() { local n t=0; for n in $NODES; do t=$((t + $(n_cluster "$n"))); done; echo $t; }
total_is() { [ "$(total_cts)" -eq "$1" ]; }
wait_until 60 total_is 2 || fail "scale down left $(total_cts) cluster containers on the nodes"
[ "$(total_running n1 n2 n3)" -eq 2 ] || fail "scale down: $(total_running n1 n2 n3) running"
echo "ok: scale down to 2 destroyed the others on their nodes"

"$BERTH" env delete web --wait 30 >/dev/null || fail "berth env delete"
"$BERTH" cluster events | grep -q '"kind"' || fail "berth cluster events"
wait_until 60 total_is 0 || fail "env delete left $(total_cts) cluster containers"
[ "$(on n1 status mine --format json | jq -r .state)" = running ] || fail "the operator's own container was touched"
echo "ok: env delete removed every cluster container; the operator's own one runs on"

# --- a role's network: placed where the network is, an address from it ----------
# n4 runs in a network namespace of its own (its network's bridge lives
# there, never in the host's); it reaches etcd on the host's loopback
# through a unix socket relay.
ip netns add "$NS"
ip -n "$NS" link set lo up
eport=${ETCD_URL##*:}
rport=$(cl_free_port)
cl_bg relay-host.log python3 "$(dirname "$0")/relay.py" unix "$CL_DIR/etcd.sock" "$eport"
wait_until 10 test -S "$CL_DIR/etcd.sock" || fail "the etcd relay did not start"
cl_bg relay-ns.log nsenter --net="/run/netns/$NS" python3 "$(dirname "$0")/relay.py" tcp "$rport" "$CL_DIR/etcd.sock"
d4=$(node_dir n4)
mkdir -p "$d4/state"
"$BERTH_IMAGE" --store "$d4/state/images" build-template busybox berth/busybox >/dev/null
# nsenter, not ip netns exec: that one mounts a sysfs of its own over
# /sys, hiding the cgroup hierarchies.
nsenter --net="/run/netns/$NS" "$BERTHD" --state-dir "$d4/state" --run-dir "$d4/run" --socket "$d4/berthd.sock" --cgroup-parent "$CG-n4" \
  --monitor "$BERTH_MONITOR" --cluster "http://127.0.0.1:$rport" --node-id n4 --labels region=test \
  --capacity cpus=4,memory=4G,disk=100G --lease-ttl $TTL --usage-interval 2 --resync-interval 2 >>"$CL_DIR/n4.log" 2>&1 &
NPID[n4]=$!
wait_until 10 on n4 list || fail "berthd n4 did not come up"
wait_until 20 ready_nodes 4 || fail "n4 did not join through the relay"
on n4 network create lan --subnet 198.18.7.0/24 >/dev/null || fail "network lan on n4"
has_lan() { etcd_get /berth/nodes/n4/spec | jq -e '.networks == ["lan"]' >/dev/null; }
wait_until 20 has_lan || fail "n4's spec does not list its network: $(etcd_get /berth/nodes/n4/spec)"
etcd_get /berth/nodes/n1/spec | jq -e '.networks == null' >/dev/null || fail "n1 lists networks it does not have"
cat >"$CL_DIR/db.json" <<'J'
{"name":"db","roles":[{"name":"pg","template":"berth/busybox","count":2,"network":"lan","resources":{"cpus":0.25,"memory_mb":32}}]}
J
"$BERTH" env create "$CL_DIR/db.json" --wait 30 >/dev/null || fail "env create db"
wait_until 60 running_is 2 n4 || fail "db's 2 containers not running on n4 ($(n_cluster n4 running))"
for n in $NODES; do [ "$(n_cluster "$n")" -eq 0 ] || fail "a db container landed on $n, which has no network lan"; done
wait_until 30 all_booted n4 || fail "db containers did not boot: $(boot_report n4)"
addrs=""
for c in $(cluster_cts n4 running); do
  a=$(on n4 exec "$c" ip -4 addr show eth0 | awk '/inet /{print $2}')
  [[ "$a" == 198.18.7.*/24 ]] || fail "$c has no address of lan on eth0: [$a]"
  addrs="$addrs $a"
done
a1=$(echo $addrs | awk '{print $1}'); a2=$(echo $addrs | awk '{print $2}')
[ "$a1" != "$a2" ] || fail "both db containers have $a1"
c1=$(cluster_cts n4 running | head -1)
on n4 exec "$c1" ping -c 1 -W 2 "${a2%/*}" >/dev/null || fail "$c1 does not reach ${a2%/*} on lan"
echo "ok: a role on network lan placed only on n4, the node that has it; addresses$addrs; they reach each other"
# A container its node cannot start: the node's reason reaches the operator.
cat >"$CL_DIR/tiny.json" <<'J'
{"name":"tiny","roles":[{"name":"x","template":"berth/busybox","count":1,"resources":{"cpus":0.25,"memory_mb":2}}]}
J
set +e
out=$("$BERTH" env create "$CL_DIR/tiny.json" --wait 4 2>&1); rc=$?
set -e
[ "$rc" -eq 1 ] && [[ "$out" == *"tiny.x.0 on n"*": failed: "*"memory_mb: 2 is below berthd's minimum of 4 MiB"* ]] &&
  [[ "$out" == *"0 of 1 containers running after 4 s"* ]] || fail "env create --wait of a container no node can start: rc $rc [$out]"
show=$("$CLUSTER" env show tiny)
echo "$show" | grep -q "^tiny\.x\.0 .* failed " && echo "$show" | grep -q "^error: tiny.x.0: .*below berthd's minimum" ||
  fail "env show does not give the node's failure: $show"
"$BERTH" env delete tiny --wait 30 >/dev/null || fail "env delete tiny"
echo "ok: a container its node refuses to start is named by env create --wait and env show with the node's reason"
cat >"$CL_DIR/nonet.json" <<'J'
{"name":"nonet","roles":[{"name":"x","template":"berth/busybox","count":1,"network":"nope","resources":{"cpus":0.25,"memory_mb":32}}]}
J
set +e
out=$("$BERTH" env create "$CL_DIR/nonet.json" 2>&1); rc=$?
set -e
[ "$rc" -ne 0 ] && [[ "$out" == *'roles[0] (x).network: no node has network "nope"'* ]] || fail "env with an unknown network: rc $rc [$out]"
[ -z "$(etcd_get /berth/envs/nonet)" ] || fail "the refused environment was stored"
echo "ok: an environment naming a network no node has is refused, nothing stored"
"$BERTH" env delete db --wait 30 >/dev/null || fail "env delete db"
wait_until 60 cluster_is n4 0 || fail "env delete left $(n_cluster n4) containers on n4"
on n4 network rm lan >/dev/null || fail "network rm lan on n4"
kill "${NPID[n4]}"; wait "${NPID[n4]}" 2>/dev/null || true; NPID[n4]=
# berthd's pin directory stays a mount of its own while berthd is down (its
# containers' namespaces would be pinned there): the node is gone for good.
umount "$d4/run/netns"
ip netns delete "$NS"

# --- nothing left behind ----------------------------------------------------------
on n1 destroy mine >/dev/null
for n in $NODES; do kill "${NPID[$n]}"; wait "${NPID[$n]}" 2>/dev/null || true; NPID[$n]=; done
[ -z "$(our_pids)" ] || fail "processes left: $(our_pids)"
[ -z "$(awk -v w="$CL_DIR/" 'index($5, w) == 1' /proc/self/mountinfo)" ] || fail "mounts left"
[ -z "$(losetup -a 2>/dev/null | grep -F "$CL_DIR/" || true)" ] || fail "loop devices left"
left=$(find /sys/fs/cgroup -maxdepth 3 -type d -name "$CG-*" 2>/dev/null | while read -r d; do
  find "$d" -mindepth 1 -type d; done)
[ -z "$left" ] || fail "container cgroups left: $left"
echo "PASS berthd_test"
