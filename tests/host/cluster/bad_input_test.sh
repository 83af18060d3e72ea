#!/usr/bin/env bash
# bad_input_test.sh — environment files with unknown keys, impossible
# resources, unsatisfiable placement or a template no node has are refused
# with the reason and nothing is placed; a node or an environment record
# of garbage in etcd is reported, not fatal.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cl_setup
cl_start_etcd
cl_bg sim.log "$SIM" --nodes 2 --cpus 8 --memory-mb 16384 --templates debian-12
cl_bg orch.log "$ORCH" --grace 5
wait_until 10 bash -c "[ \$('$CLUSTER' node list | grep -c ready) -eq 2 ]" || fail "nodes did not join"

# berth-orchestrator refuses a malformed value or an unknown option by
# name, before it does anything (exit 2).
refuses() {  # refuses PROGRAM EXPECTED-TEXT ARGS...
  local prog=$1 want=$2 out rc
  shift 2
  set +e
  out=$(timeout 10 "$prog" "$@" 2>&1); rc=$?
  set -e
  [ $rc -eq 2 ] && [[ "$out" == *"$want"* ]] || fail "${prog##*/} $*: rc $rc, [$out], expected [$want]"
}
orch_refuses() { refuses "$ORCH" "$@"; }
orch_refuses '--grace: expected a number, got "abc"' --grace abc
orch_refuses '--leader-ttl: expected an integer, got "5s"' --leader-ttl 5s
orch_refuses 'unknown flag --gracee' --gracee 5
orch_refuses '--grace: expected a number from 0 (excluded) to 86400, got "0"' --grace 0
orch_refuses '--batch: expected an integer from 1 to 40, got "100"' --batch 100
orch_refuses '--debug: takes no value' --debug=yes
orch_refuses '--id: needs a value' --id
orch_refuses 'unexpected argument leader' leader
out=$("$ORCH" --help) && [[ "$out" == usage:* ]] || fail "berth-orchestrator --help: [$out]"
echo "ok: berth-orchestrator refuses malformed values and unknown options by name"

# berth-cluster likewise, for every verb: nothing is read or written.
cluster_refuses() { refuses "$CLUSTER" "$@"; }
cluster_refuses '--memory-mb: expected an integer, got "abc"' env scale a w 2 --memory-mb abc
cluster_refuses '--cpus: expected a number, got "1x"' env scale a w 2 --cpus 1x
cluster_refuses '--cpus: expected a number from 0 (excluded) to 100000, got "0"' env scale a w 2 --cpus 0
cluster_refuses '--wait: expected an integer, got "soon"' env create x.json --wait soon
cluster_refuses '--limit: expected an integer from 0 to 1073741824, got "-1"' events --limit -1
cluster_refuses 'unknown flag --forse' node remove n1 --forse
cluster_refuses '--force: not an option of node drain' node drain n1 --force
cluster_refuses '--wait: not an option of env list' env list --wait 3
cluster_refuses '--etcd-timeout-ms: expected an integer, got "5s"' --etcd-timeout-ms 5s node list
cluster_refuses 'unknown command frob' frob
cluster_refuses 'a command is required'
for help in "--help" "env --help" "env scale --help" "node drain n1 --help"; do
  out=$("$CLUSTER" $help 2>/dev/null) && [[ "$out" == usage:* ]] || fail "berth-cluster $help: [$out]"
done
echo "ok: berth-cluster refuses malformed values, unknown options and commands by name; --help on stdout"

refused() {  # refused NAME EXPECTED-TEXT JSON
  printf '%s' "$3" >"$CL_DIR/$1.json"
  set +e
  out=$("$CLUSTER" env create "$CL_DIR/$1.json" --wait 2 2>&1); rc=$?
  set -e
  [ $rc -ne 0 ] || fail "$1: accepted"
  echo "$out" | grep -qF "$2" || fail "$1: expected \"$2\" in: $out"
  echo "ok: $1: $out"
}
R='"resources":{"cpus":1,"memory_mb":256}'
refused unknown-key 'roles[0].replica: unknown key' \
  "{\"name\":\"a\",\"roles\":[{\"name\":\"w\",\"template\":\"debian-12\",\"count\":1,$R,\"replica\":2}]}"
refused impossible-resources 'roles[0] (w).resources: 64 cpus, 256 MiB, 0 GiB is larger than every node' \
  '{"name":"b","roles":[{"name":"w","template":"debian-12","count":1,"resources":{"cpus":64,"memory_mb":256}}]}'
refused negative 'roles[0].resources.cpus: must be more than 0' \
  '{"name":"c","roles":[{"name":"w","template":"debian-12","count":1,"resources":{"cpus":-1,"memory_mb":256}}]}'
refused unsatisfiable 'unsatisfiable placement: no node fits d.db.2' \
  "{\"name\":\"d\",\"roles\":[{\"name\":\"db\",\"template\":\"debian-12\",\"count\":3,$R,\"placement\":{\"anti_affinity\":true}}]}"
refused too-many 'unsatisfiable placement: no node fits e.w.16' \
  "{\"name\":\"e\",\"roles\":[{\"name\":\"w\",\"template\":\"debian-12\",\"count\":17,$R}]}"
refused no-template 'no node has template "centos-7"' \
  "{\"name\":\"f\",\"roles\":[{\"name\":\"w\",\"template\":\"centos-7\",\"count\":1,$R}]}"
refused labels 'label region is not mars' \
  "{\"name\":\"g\",\"roles\":[{\"name\":\"w\",\"template\":\"debian-12\",\"count\":1,$R,\"placement\":{\"labels\":{\"region\":\"mars\"}}}]}"
refused not-json 'line 1 column' '{"name":'
sleep 0.5
[ "$(etcd_count /berth/envs/)" -eq 0 ] || fail "a refused environment was stored"
[ "$(etcd_count /berth/containers/)" -eq 0 ] || fail "a refused environment placed containers"
echo "ok: nothing stored, nothing placed"

# Garbage written by a node or by hand: reported, the orchestrator goes on.
ETCDCTL_API=3 etcdctl --endpoints "$ETCD_URL" put /berth/nodes/bad/spec '{"id":"bad","capacity":"lots"' >/dev/null
ETCDCTL_API=3 etcdctl --endpoints "$ETCD_URL" put /berth/envs/junk 'not json' >/dev/null
"$CLUSTER" node list | grep -q '^bad .*invalid' || fail "garbage node spec not reported"
"$CLUSTER" cluster status | grep -q 'environment junk: invalid' || fail "garbage environment not reported"
cat >"$CL_DIR/ok.json" <<J
{"name":"ok","roles":[{"name":"w","template":"debian-12","count":4,$R}]}
J
"$CLUSTER" env create "$CL_DIR/ok.json" --wait 10 || fail "a good environment is not placed next to garbage"
set +e
"$CLUSTER" env create "$CL_DIR/ok.json" --wait 0 >"$CL_DIR/again.out" 2>&1; rc=$?
set -e
[ $rc -ne 0 ] && grep -q "already exists" "$CL_DIR/again.out" || fail "a second create of the same environment was not refused"
kill -0 "${CL_PIDS[-1]}" || fail "orchestrator died on garbage"
echo "PASS bad_input_test"
