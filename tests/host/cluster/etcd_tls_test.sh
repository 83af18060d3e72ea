#!/usr/bin/env bash
# etcd_tls_test.sh — the cluster on an etcd that asks for client
# certificates (--client-cert-auth) and has auth enabled: berth-orchestrator,
# a berthd node and berth-cluster reach it with --etcd-cacert, --etcd-cert,
# --etcd-key and --etcd-user, and a container is placed and runs on the
# node. Refused with a clear error: no client certificate, a certificate of
# another CA, a CA that did not sign etcd's certificate, a certificate with
# a CommonName (etcd's gateway refuses it once auth is on), a wrong
# password (also for berthd, which serves its local API meanwhile), a user
# without the role; files that are missing or do not match are refused by
# name at start-up with exit 2. An etcd restart (every token forgotten) is
# survived. Leaves no process, mount or cgroup.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cl_need_berthd
command -v etcdctl >/dev/null || { echo "SKIP: etcdctl not installed (etcd-client, scripts/deps.sh)"; exit 77; }
cl_setup
chmod 711 "$CL_DIR"  # unprivileged containers traverse it to their rootfs
CG=berth.cltls-$$
NPID= RPID=

PKI=$CL_DIR/pki
source "$(dirname "$0")/../../lib/pki.sh"
new_ca ca "berth test etcd CA"
new_ca other "another CA"
new_cert etcd ca etcd 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth'
# etcd's JSON gateway refuses client certificates with a CommonName once
# auth is on (it cannot pass the name on as the user): the clients' have
# none; "named" has one.
new_cert client ca /O=berth 'extendedKeyUsage=clientAuth'
new_cert named ca berth 'extendedKeyUsage=clientAuth'
new_cert stranger other /O=berth 'extendedKeyUsage=clientAuth'

# One etcd member on https with client certificates required.
cport=$(cl_free_port) pport=$(cl_free_port)
mkdir -p "$CL_DIR/e1"
ETCD_URL="https://127.0.0.1:$cport"
export BERTH_ETCD=$ETCD_URL
ctl() {
  ETCDCTL_API=3 etcdctl --endpoints "$ETCD_URL" --cacert "$PKI/ca.crt" --cert "$PKI/client.crt" --key "$PKI/client.key" "$@"
}
start_etcd() {
  etcd --name e1 --data-dir "$CL_DIR/e1/data" \
    --listen-client-urls "$ETCD_URL" --advertise-client-urls "$ETCD_URL" \
    --listen-peer-urls "http://127.0.0.1:$pport" --initial-advertise-peer-urls "http://127.0.0.1:$pport" \
    --initial-cluster "e1=http://127.0.0.1:$pport" \
    --client-cert-auth --trusted-ca-file "$PKI/ca.crt" --cert-file "$PKI/etcd.crt" --key-file "$PKI/etcd.key" \
    >>"$CL_DIR/e1/etcd.log" 2>&1 &
  ETCD_PID=$!
  CL_PIDS+=("$ETCD_PID")
  wait_until 10 ctl endpoint health || { tail -20 "$CL_DIR/e1/etcd.log"; fail "etcd did not start"; }
}
start_etcd
# A root (auth needs one), a user berth whose role may use /berth/ only,
# and a user nobody without a role.
{
  ctl user add root:rootpw
  ctl user grant-role root root
  ctl role add berth
  ctl role grant-permission berth --prefix=true readwrite /berth/
  ctl user add berth:berthpw
  ctl user grant-role berth berth
  ctl user add nobody:nobodypw
  ctl auth enable
} >"$CL_DIR/etcdctl.log" 2>&1 || { cat "$CL_DIR/etcdctl.log"; fail "etcdctl could not set up auth"; }
TLS=(--etcd-cacert "$PKI/ca.crt" --etcd-cert "$PKI/client.crt" --etcd-key "$PKI/client.key")
AUTH=(--etcd-user berth:berthpw)
cluster() { "$CLUSTER" "${TLS[@]}" "${AUTH[@]}" "$@"; }

nodes_cleanup() {
  set +e
  for p in $NPID $RPID; do kill -9 "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  cl_nodes_leftovers "$CG" n1 n9
}
trap 'nodes_cleanup; cl_cleanup' EXIT

# expect_refused WHAT PATTERN CMD...: CMD fails and says PATTERN.
expect_refused() {
  local what=$1 pattern=$2 rc=0 out
  shift 2
  out=$("$@" 2>&1) || rc=$?
  [ $rc -ne 0 ] || fail "$what: accepted (exit 0): $out"
  grep -q -- "$pattern" <<<"$out" || fail "$what: exit $rc without \"$pattern\": $out"
  echo "ok: $what: exit $rc: $(head -1 <<<"$out")"
  LAST_RC=$rc
}

# --- bad files and users, refused by name before anything starts -------------
t0=$(now_ms)
expect_refused "missing key file" "--etcd-key $CL_DIR/none.key" \
  "$CLUSTER" --etcd-cacert "$PKI/ca.crt" --etcd-cert "$PKI/client.crt" --etcd-key "$CL_DIR/none.key" node list
[ "$LAST_RC" -eq 2 ] || fail "a missing key file: exit $LAST_RC, expected 2"
expect_refused "key of another certificate" "--etcd-key $PKI/stranger.key: key values mismatch" \
  "$ORCH" --etcd-cacert "$PKI/ca.crt" --etcd-cert "$PKI/client.crt" --etcd-key "$PKI/stranger.key"
[ "$LAST_RC" -eq 2 ] || fail "a key of another certificate: exit $LAST_RC, expected 2"
expect_refused "certificate without key" "--etcd-key: required with --etcd-cert" \
  "$ORCH" --etcd-cacert "$PKI/ca.crt" --etcd-cert "$PKI/client.crt"
expect_refused "CA file that is a key" "--etcd-cacert $PKI/ca.key" \
  "$CLUSTER" --etcd-cacert "$PKI/ca.key" node list
expect_refused "plain http with a CA" "plain http with --etcd-cacert" \
  "$CLUSTER" "${TLS[@]}" --etcd "http://127.0.0.1:$cport" node list
expect_refused "user without password" "--etcd-user berth: no password" \
  env -u BERTH_ETCD_PASSWORD "$CLUSTER" "${TLS[@]}" --etcd-user berth node list
mkdir -p "$CL_DIR/bad"
rc=0
"$BERTHD" --state-dir "$CL_DIR/bad/state" --run-dir "$CL_DIR/bad/run" --socket "$CL_DIR/bad/berthd.sock" \
  --cgroup-parent "$CG-bad" --cluster "$ETCD_URL" --node-id bad "${TLS[@]/$PKI\/client.key/$CL_DIR/none.key}" \
  >"$CL_DIR/bad.log" 2>&1 || rc=$?
[ $rc -eq 2 ] && grep -q -- "--etcd-key $CL_DIR/none.key" "$CL_DIR/bad.log" ||
  fail "berthd with a missing --etcd-key: exit $rc: $(cat "$CL_DIR/bad.log")"
rm -f "$CL_DIR/bad.log"
echo "ok: berthd refuses a missing --etcd-key with exit 2"

# --- refused by etcd, with the flag or endpoint named --------------------------
expect_refused "no client certificate" "refused the TLS handshake (no --etcd-cert given; it asks for a client certificate)" \
  "$CLUSTER" --etcd-cacert "$PKI/ca.crt" "${AUTH[@]}" node list
expect_refused "certificate of another CA" "$ETCD_URL refused the TLS handshake (--etcd-cert $PKI/stranger.crt is not from a CA it accepts)" \
  "$CLUSTER" --etcd-cacert "$PKI/ca.crt" --etcd-cert "$PKI/stranger.crt" --etcd-key "$PKI/stranger.key" "${AUTH[@]}" node list
expect_refused "etcd's certificate from a CA not given" "its certificate is not trusted (--etcd-cacert $PKI/other.crt)" \
  "$CLUSTER" --etcd-cacert "$PKI/other.crt" --etcd-cert "$PKI/client.crt" --etcd-key "$PKI/client.key" "${AUTH[@]}" node list
expect_refused "a certificate with a CommonName" "refused --etcd-cert $PKI/named.crt: its subject has a CommonName" \
  "$CLUSTER" --etcd-cacert "$PKI/ca.crt" --etcd-cert "$PKI/named.crt" --etcd-key "$PKI/named.key" "${AUTH[@]}" node list
expect_refused "wrong password" "--etcd-user berth: etcdserver: authentication failed" \
  "$CLUSTER" "${TLS[@]}" --etcd-user berth:nope node list
expect_refused "no user with auth enabled" "user name is empty" \
  "$CLUSTER" "${TLS[@]}" node list
expect_refused "a user without the role" "permission denied" \
  "$CLUSTER" "${TLS[@]}" --etcd-user nobody:nobodypw node list
expect_refused "orchestrator with a wrong password" "--etcd-user berth: etcdserver: authentication failed" \
  timeout 20 "$ORCH" "${TLS[@]}" --etcd-user berth:nope
[ "$LAST_RC" -eq 1 ] || fail "the orchestrator refused by etcd: exit $LAST_RC, expected 1"
# berthd refused by etcd says why, naming the option, serves its local
# API outside the cluster, and joins once etcd's side is mended (here: the
# user it names is made, with the role).
r=$CL_DIR/n9
mkdir -p "$r"
cat >"$r/cluster.conf" <<C
ETCD="$ETCD_URL"
NODE_ID="n9"
ETCD_CACERT="$PKI/ca.crt"
ETCD_CERT="$PKI/client.crt"
ETCD_KEY="$PKI/client.key"
ETCD_USER="late:latepw"
C
"$BERTHD" --state-dir "$r/state" --run-dir "$r/run" --socket "$r/berthd.sock" --cgroup-parent "$CG-n9" \
  --monitor "$BERTH_MONITOR" --cluster-config "$r/cluster.conf" >"$CL_DIR/n9.log" 2>&1 &
RPID=$!
wait_until 10 grep -q -- "--etcd-user late: etcdserver: authentication failed" "$CL_DIR/n9.log" ||
  fail "berthd refused by etcd did not say why"
BERTH_SOCKET="$r/berthd.sock" "$BERTH" list >/dev/null || fail "berthd refused by etcd does not serve its API"
grep -q -- "authentication failed.*; trying again in 5 s" "$CL_DIR/n9.log" || fail "berthd refused by etcd does not say it retries"
{ ctl --user root:rootpw user add late:latepw && ctl --user root:rootpw user grant-role late berth; } >>"$CL_DIR/etcdctl.log" 2>&1 ||
  fail "etcdctl could not add user late"
t_fix=$(now_ms)
n9_alive() { [ -n "$(ctl --user root:rootpw get /berth/nodes/n9/alive --print-value-only)" ]; }
wait_until 30 n9_alive || fail "berthd did not join once its etcd user was made: $(tail -3 "$CL_DIR/n9.log")"
echo "ok: berthd refused by etcd: $(grep -o -- 'cluster: .*authentication failed' "$CL_DIR/n9.log" | head -1); joined $(($(now_ms) - t_fix)) ms after its user was made"
kill "$RPID"
wait "$RPID" 2>/dev/null || true
RPID=
ctl --user root:rootpw del --prefix /berth/nodes/n9/ >/dev/null
rm -f "$CL_DIR/n9.log"
t1=$(now_ms)
echo "ok: bad files and refusals in $((t1 - t0)) ms"

# --- the cluster over TLS with a user -------------------------------------------
d=$CL_DIR/n1
mkdir -p "$d/state"
"$BERTH_IMAGE" --store "$d/state/images" build-template busybox berth/busybox >/dev/null
cl_bg orch.log "$ORCH" "${TLS[@]}" "${AUTH[@]}" --grace 4 --leader-ttl 3
# The node takes its password from its settings file, not its command line.
cat >"$d/cluster.conf" <<C
ETCD="$ETCD_URL"
NODE_ID="n1"
ETCD_CACERT="$PKI/ca.crt"
ETCD_CERT="$PKI/client.crt"
ETCD_KEY="$PKI/client.key"
ETCD_USER="berth:berthpw"
LEASE_TTL="10"
C
chmod 600 "$d/cluster.conf"
"$BERTHD" --state-dir "$d/state" --run-dir "$d/run" --socket "$d/berthd.sock" --cgroup-parent "$CG-n1" \
  --monitor "$BERTH_MONITOR" --cluster-config "$d/cluster.conf" >>"$CL_DIR/n1.log" 2>&1 &
NPID=$!
on() { BERTH_SOCKET="$d/berthd.sock" "$BERTH" "$@"; }
wait_until 10 on list || fail "berthd n1 did not come up"
t2=$(now_ms)
wait_until 20 bash -c "$(declare -p TLS AUTH); '$CLUSTER' \"\${TLS[@]}\" \"\${AUTH[@]}\" node list | grep -q '^n1 *ready'" ||
  fail "n1 did not join over TLS: $(cluster node list 2>&1)"
t3=$(now_ms)
cat >"$CL_DIR/e.json" <<'J'
{"name":"e","roles":[{"name":"r","template":"berth/busybox","count":1,"resources":{"cpus":0.5,"memory_mb":64,"disk_gb":1}}]}
J
cluster env create "$CL_DIR/e.json" --wait 30 >/dev/null || fail "env create over TLS"
running() { on list --format json | jq -e '[.[] | select(.config.cluster != null and .state == "running")] | length == 1'; }
wait_until 60 running || fail "the container is not running on n1: $(on list 2>&1)"
t4=$(now_ms)
grep -q '"etcd.*refused\|authentication failed' "$CL_DIR/orch.log" "$CL_DIR/n1.log" && fail "refusals in the logs"
[ "$(ctl --user berth:berthpw get --prefix --keys-only /berth/nodes/n1/ | grep -c .)" -gt 0 ] || fail "n1 has no keys in etcd"
echo "ok: orchestrator and berthd over TLS with user berth: n1 joined $((t3 - t2)) ms after its start, its container running $((t4 - t3)) ms later"
echo "measure: tls_join_ms=$((t3 - t2)) tls_place_run_ms=$((t4 - t3))"

# Tokens etcd forgot (it restarted: its simple tokens live in memory) are
# replaced: the node and the orchestrator go on, a scale-up runs.
kill "$ETCD_PID"
wait "$ETCD_PID" 2>/dev/null || true
t5=$(now_ms)
start_etcd
cluster env scale e r 2 --wait 30 >/dev/null || fail "env scale after etcd restarted"
running2() { on list --format json | jq -e '[.[] | select(.config.cluster != null and .state == "running")] | length == 2'; }
wait_until 60 running2 || fail "the second container is not running on n1: $(on list 2>&1)"
t6=$(now_ms)
cluster node list | grep -q '^n1 *ready' || fail "n1 not ready after etcd restarted: $(cluster node list 2>&1)"
echo "ok: etcd restarted (tokens forgotten): scaled up and running $((t6 - t5)) ms after the restart began"
echo "PASS etcd_tls_test"
