# lib.sh — helpers of the cluster host tests: a throw-away etcd on
# loopback (own data dir, free ports), the cluster binaries, timing.
# Sourced by the tests; they set `set -euo pipefail` and call cl_setup.

B=${BERTH_BUILD:-/tmp/orch-build}/orchestrator
ORCH=${BERTH_ORCHESTRATOR:-$B/berth-orchestrator}
SIM=${BERTH_NODE_SIM:-$B/berth-node-sim}
CLUSTER=${BERTH_CLUSTER:-$B/berth-cluster}
CL_PIDS=()

# A free TCP port on 127.0.0.1.
cl_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Starts one etcd member; sets ETCD_URL and ETCD_PID. $1 = name, $2 = client
# port (both optional).
cl_start_etcd() {
  local name=${1:-e1} cport=${2:-} pport
  [ -n "$cport" ] || cport=$(cl_free_port)
  pport=$(cl_free_port)
  mkdir -p "$CL_DIR/$name"
  etcd --name "$name" --data-dir "$CL_DIR/$name/data" \
    --listen-client-urls "http://127.0.0.1:$cport" --advertise-client-urls "http://127.0.0.1:$cport" \
    --listen-peer-urls "http://127.0.0.1:$pport" --initial-advertise-peer-urls "http://127.0.0.1:$pport" \
    --initial-cluster "$name=http://127.0.0.1:$pport" >"$CL_DIR/$name/etcd.log" 2>&1 &
  ETCD_PID=$!
  CL_PIDS+=("$ETCD_PID")
  ETCD_URL="http://127.0.0.1:$cport"
  export BERTH_ETCD=$ETCD_URL
  local i
  for i in $(seq 1 100); do
    curl -sf "$ETCD_URL/health" 2>/dev/null | grep -q true && return 0
    sleep 0.1
  done
  echo "etcd did not start:"; tail -20 "$CL_DIR/$name/etcd.log"; return 1
}

# Runs a command in the background, logging to $CL_DIR/<log>; prints the pid.
cl_bg() {
  local log=$1; shift
  "$@" >"$CL_DIR/$log" 2>&1 &
  CL_PIDS+=("$!")
  LAST_PID=$!
}

cl_cleanup() {
  set +e
  local p
  for p in "${CL_PIDS[@]}"; do kill -CONT "$p" 2>/dev/null; kill "$p" 2>/dev/null; done
  sleep 0.3
  for p in "${CL_PIDS[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  [ -n "${CL_KEEP:-}" ] || rm -rf "$CL_DIR"
}

cl_setup() {
  command -v etcd >/dev/null || { echo "SKIP: etcd not installed (scripts/deps.sh)"; exit 77; }
  CL_DIR=$(mktemp -d /tmp/berth-cluster-test.XXXXXX)
  trap cl_cleanup EXIT
}

now_ms() { date +%s%3N; }

# Waits until the command succeeds (every 50 ms) for at most $1 seconds.
wait_until() {
  local secs=$1; shift
  local end=$(( $(now_ms) + secs * 1000 ))
  while [ "$(now_ms)" -lt "$end" ]; do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "timed out after ${secs}s waiting for: $*"; return 1
}

# Fails the test, showing the ends of the processes' logs first.
fail() {
  echo "FAIL: $*"
  local f
  for f in "$CL_DIR"/*.log; do
    [ -f "$f" ] || continue
    echo "--- ${f##*/} (last 15 lines)"
    tail -n 15 "$f"
  done
  exit 1
}

# Containers recorded by simulated node $2 in state dir $1 (one per line).
sim_running() { cat "$1/$2" 2>/dev/null || true; }
sim_has() { sim_running "$S" "$1" | grep -qx -- "$2"; }  # sim_has NODE CONTAINER (S: the sims' state dir)

# Number of containers placed on node $1 (from the orchestrator's records).
placed_on() {
  "$CLUSTER" node list | awk -v n="$1" '$1==n {print $NF}'
}

# A value read straight from etcd (for checks): $1 = key.
etcd_get() { ETCDCTL_API=3 etcdctl --endpoints "$ETCD_URL" get --print-value-only "$1"; }
etcd_get_prefix() { ETCDCTL_API=3 etcdctl --endpoints "$ETCD_URL" get --prefix --print-value-only "$1"; }
etcd_count() { ETCDCTL_API=3 etcdctl --endpoints "$ETCD_URL" get --prefix --keys-only "$1" | grep -c . || true; }

# The binaries of a test with real berthd nodes, from the environment.
cl_need_berthd() {
  : "${BERTHD:?set BERTHD to the berthd binary}"
  : "${BERTH:?set BERTH to the berth CLI}"
  : "${BERTH_MONITOR:?set BERTH_MONITOR to the berth-monitor binary}"
  : "${BERTH_RUNTIME:?set BERTH_RUNTIME to the berth-runtime binary}"
  : "${BERTH_IMAGE:?set BERTH_IMAGE to the berth-image binary}"
}

# Starts etcd member $1 in the background with client URL $2, peer URL $3
# and initial cluster $4; the rest, when given, is a command that runs it
# (nsenter --net=...). Adds it to CL_PIDS and sets LAST_PID.
cl_etcd_member() {
  local name=$1 client=$2 peer=$3 initial=$4
  shift 4
  mkdir -p "$CL_DIR/$name"
  "$@" etcd --name "$name" --data-dir "$CL_DIR/$name/data" \
    --listen-client-urls "$client" --advertise-client-urls "$client" \
    --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" \
    --initial-cluster "$initial" --initial-cluster-state new >"$CL_DIR/$name/etcd.log" 2>&1 &
  CL_PIDS+=("$!")
  LAST_PID=$!
}

# Processes started from the node directories of a berthd test
# ($CL_DIR/nN/run/: monitors, containers' inits, lxcfs).
cl_node_pids() {
  local p
  for p in /proc/[0-9]*; do
    { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -q -- "$CL_DIR/n[0-9]/run/" && echo "${p#/proc/}"
  done
  return 0
}

# What berthd nodes $2... (their berthd already killed) left behind: their
# processes, containers, mounts and loop devices under $CL_DIR, and the
# cgroups named $1-*.
cl_nodes_leftovers() {
  local cg=$1 n p m l d id
  shift
  for p in $(cl_node_pids); do kill -9 "$p" 2>/dev/null; done
  sleep 0.2
  for n in "$@"; do
    d=$CL_DIR/$n/run/runtime
    [ -d "$d" ] || continue
    for id in $(ls "$d"); do "$BERTH_RUNTIME" --root "$d" delete --force "$id" >/dev/null 2>&1; done
  done
  for m in $(awk -v w="$CL_DIR/" 'index($5, w) == 1 {print $5}' /proc/self/mountinfo | sort -r); do umount -l "$m"; done
  for l in $(losetup -a 2>/dev/null | awk -F: -v w="$CL_DIR/" 'index($0, w) {print $1}'); do losetup -d "$l"; done
  for d in $(find /sys/fs/cgroup -maxdepth 3 -type d -name "$cg-*" 2>/dev/null); do
    find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
}

# Starts a three-member etcd cluster; sets ETCD_URLS (comma-separated),
# ETCD_URL (the first), ETCD_MEMBER_PIDS and ETCD_MEMBER_URLS.
cl_start_etcd3() {
  local i cports=() pports=() initial=""
  for i in 1 2 3; do cports+=("$(cl_free_port)"); pports+=("$(cl_free_port)"); done
  for i in 0 1 2; do initial+="${initial:+,}m$i=http://127.0.0.1:${pports[$i]}"; done
  ETCD_MEMBER_PIDS=() ETCD_MEMBER_URLS=()
  for i in 0 1 2; do
    cl_etcd_member "m$i" "http://127.0.0.1:${cports[$i]}" "http://127.0.0.1:${pports[$i]}" "$initial"
    ETCD_MEMBER_PIDS+=("$LAST_PID")
    ETCD_MEMBER_URLS+=("http://127.0.0.1:${cports[$i]}")
  done
  ETCD_URLS=$(IFS=,; echo "${ETCD_MEMBER_URLS[*]}")
  ETCD_URL=${ETCD_MEMBER_URLS[0]}
  export BERTH_ETCD=$ETCD_URLS
  for i in $(seq 1 100); do
    curl -sf "$ETCD_URL/health" 2>/dev/null | grep -q true && return 0
    sleep 0.1
  done
  echo "etcd cluster did not start"; return 1
}

# Index (0-2) of the member that leads the etcd cluster.
cl_etcd_leader() {
  local i
  for i in 0 1 2; do
    ETCDCTL_API=3 etcdctl --endpoints "${ETCD_MEMBER_URLS[$i]}" endpoint status -w fields 2>/dev/null |
      awk '/"Leader"/ {l=$3} /"MemberID"/ {m=$3} END {exit !(l==m && l!="")}' && { echo $i; return 0; }
  done
  return 1
}
