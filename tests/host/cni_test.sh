#!/usr/bin/env bash
# cni_test.sh — berth-cni driven exactly as a CNI runtime drives a plugin
# (CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_PATH in the
# environment, the network config on stdin, prevResult for CHECK), next to
# Debian's reference bridge + host-local plugins driven the same way. All
# inside namespaces of the test's own; the trap removes them.
set -euo pipefail
: "${BERTH_CNI:?set BERTH_CNI to the berth-cni binary}"
REF=/usr/lib/cni
BB=/bin/busybox
P=bct$(printf %04x $((RANDOM)))
WORK=$(mktemp -d /tmp/berth-cni-test.XXXXXX)
NODE=$P-node
PASSED=0 FAILED=0
NSS=()
mkdir -p "$WORK/bin"
cp "$BERTH_CNI" "$WORK/bin/berth-cni"

cleanup() {
  set +e
  for ns in "${NSS[@]}"; do ip netns del "$ns" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT

ok() { PASSED=$((PASSED + 1)); echo "ok - $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL - $*"; }
check() { local d=$1; shift; if "$@" >"$WORK/out" 2>&1; then ok "$d"; else fail "$d"; sed 's/^/  | /' "$WORK/out"; fi; }
newns() { ip netns add "$1"; NSS+=("$1"); }

# cni PLUGIN COMMAND ID NETNS CONFIG-FILE: runs a plugin from CNI_PATH in the
# node namespace as libcni does; stdout is the result (or the error object).
cni() {
  local plugin=$1 cmd=$2 id=$3 netns=$4 conf=$5
  nsenter --net=/run/netns/$NODE env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    CNI_COMMAND=$cmd CNI_CONTAINERID=$id CNI_NETNS=$netns CNI_IFNAME=eth0 \
    CNI_PATH="$WORK/bin:$REF" CNI_ARGS="IgnoreUnknown=1" \
    "$(PATH="$WORK/bin:$REF" command -v "$plugin")" <"$conf"
}
# with_prev CONFIG RESULT: the config with prevResult set, as for CHECK/DEL.
with_prev() { jq --slurpfile r "$2" '. + {prevResult: $r[0]}' "$1"; }

newns $NODE
for c in b1 b2 r1 r2; do newns $P-$c; done

cat >"$WORK/berth.json" <<JSON
{"cniVersion":"1.0.0","name":"$P-berth","type":"berth-cni","mode":"bridged","bridge":"$P-bbr",
 "subnet4":"198.18.5.0/24","subnet6":"fd00:b:5::/64","dns":{"nameservers":["198.18.5.1"]},
 "stateDir":"$WORK/state",
 "runtimeConfig":{"portMappings":[{"hostPort":8080,"containerPort":80,"protocol":"tcp"}]}}
JSON
cat >"$WORK/ref.json" <<JSON
{"cniVersion":"1.0.0","name":"$P-ref","type":"bridge","bridge":"$P-rbr","isGateway":true,"ipMasq":false,
 "ipam":{"type":"host-local","subnet":"198.18.6.0/24","dataDir":"$WORK/host-local"}}
JSON
jq 'del(.runtimeConfig)' "$WORK/berth.json" >"$WORK/berth-noport.json"

for plugin in berth-cni bridge; do
  conf=$WORK/berth.json; conf2=$WORK/berth-noport.json; a=b1; b=b2
  if [ $plugin = bridge ]; then conf=$WORK/ref.json; conf2=$conf; a=r1; b=r2; fi
  check "$plugin: VERSION lists 1.0.0" sh -c "echo '{\"cniVersion\":\"1.0.0\"}' | CNI_COMMAND=VERSION $(PATH="$WORK/bin:$REF" command -v $plugin) | jq -e '.supportedVersions | index(\"1.0.0\")'"
  check "$plugin: ADD $a" sh -c "$(declare -f cni); NODE=$NODE WORK=$WORK REF=$REF; cni $plugin ADD $P-$a /run/netns/$P-$a $conf >$WORK/$a.result"
  check "$plugin: ADD $b" sh -c "$(declare -f cni); NODE=$NODE WORK=$WORK REF=$REF; cni $plugin ADD $P-$b /run/netns/$P-$b $conf2 >$WORK/$b.result"
  check "$plugin: result is CNI 1.0 with an IPv4 address" jq -e '.cniVersion == "1.0.0" and (.ips[0].address | test("^198\\.18\\."))' "$WORK/$a.result"
  check "$plugin: result names the sandbox interface" jq -e --arg s /run/netns/$P-$a '[.interfaces[] | select(.sandbox == $s and .name == "eth0")] | length == 1' "$WORK/$a.result"
  if [ $plugin = berth-cni ]; then
    check "berth-cni: portMappings became a forward in inet berth" sh -c "ip netns exec $NODE nft list table inet berth | grep -q 'tcp dport 8080'"
  fi
  ipb=$(jq -r '.ips[0].address' "$WORK/$b.result"); ipb=${ipb%/*}
  check "$plugin: $a -> $b over the bridge" ip netns exec $P-$a $BB ping -c1 -W2 "$ipb"
  with_prev "$conf" "$WORK/$a.result" >"$WORK/$a.check.json"
  check "$plugin: CHECK $a with prevResult" cni $plugin CHECK $P-$a /run/netns/$P-$a "$WORK/$a.check.json"
  check "$plugin: DEL $a" cni $plugin DEL $P-$a /run/netns/$P-$a "$WORK/$a.check.json"
  check "$plugin: DEL $a again (idempotent)" cni $plugin DEL $P-$a /run/netns/$P-$a "$WORK/$a.check.json"
  check "$plugin: $a has no eth0 after DEL" sh -c "! ip netns exec $P-$a ip link show eth0"
  if cni $plugin CHECK $P-$a /run/netns/$P-$a "$WORK/$a.check.json" >"$WORK/out" 2>&1; then
    fail "$plugin: CHECK after DEL fails"
  else
    ok "$plugin: CHECK after DEL fails ($(jq -r .msg "$WORK/out" 2>/dev/null | head -c 80))"
  fi
done

# berth-cni specifics: routing between the two plugins' bridges; error objects.
check "berth-cni: routed between both plugins' bridges (b2 -> r2)" \
  ip netns exec $P-b2 $BB ping -c1 -W2 "$(jq -r '.ips[0].address' "$WORK/r2.result" | cut -d/ -f1)"
jq '.cniVersion = "9.9.9"' "$WORK/berth.json" >"$WORK/badver.json"
check "berth-cni: unsupported version is error code 1" sh -c "$(declare -f cni); NODE=$NODE WORK=$WORK REF=$REF; cni berth-cni ADD x /run/netns/$P-b1 $WORK/badver.json | jq -e '.code == 1'"
jq '.subnet4 = "198.18.5.0/33"' "$WORK/berth.json" >"$WORK/badcidr.json"
check "berth-cni: bad subnet is code 7 naming the field" sh -c "$(declare -f cni); NODE=$NODE WORK=$WORK REF=$REF; cni berth-cni ADD x /run/netns/$P-b1 $WORK/badcidr.json | jq -e '.code == 7 and (.msg | startswith(\"subnet4: \"))'"
check "berth-cni: missing CNI_NETNS on ADD is code 4" sh -c "$(declare -f cni); NODE=$NODE WORK=$WORK REF=$REF; cni berth-cni ADD x '' $WORK/berth.json | jq -e '.code == 4'"
# A routed berth network with bandwidth limits from runtimeConfig.
cat >"$WORK/routed.json" <<JSON
{"cniVersion":"1.0.0","name":"$P-routed","type":"berth-cni","mode":"routed","subnet4":"198.18.7.0/24",
 "stateDir":"$WORK/state","runtimeConfig":{"bandwidth":{"ingressRate":8000000,"egressRate":4000000}}}
JSON
check "berth-cni routed: ADD b1" sh -c "$(declare -f cni); NODE=$NODE WORK=$WORK REF=$REF; cni berth-cni ADD $P-b1 /run/netns/$P-b1 $WORK/routed.json >$WORK/routed.result"
check "berth-cni routed: a /32 address" jq -e '.ips[0].address | test("^198\\.18\\.7\\.[0-9]+/32$")' "$WORK/routed.result"
HOSTIF=$(jq -r '.interfaces[0].name' "$WORK/routed.result")
check "berth-cni routed: tbf limits traffic into the container (1 MB/s)" sh -c "ip netns exec $NODE tc qdisc show dev $HOSTIF | grep -q 'tbf.*rate 8Mbit'"
check "berth-cni routed: traffic out of it goes through an ifb at 4 Mbit/s" sh -c "ip netns exec $NODE tc qdisc show dev bi${HOSTIF#bv} | grep -q 'tbf.*rate 4Mbit'"
check "berth-cni routed: b1 -> b2 through the node" ip netns exec $P-b1 $BB ping -c1 -W2 "$(jq -r '.ips[0].address' "$WORK/b2.result" | cut -d/ -f1)"
check "berth-cni routed: DEL b1" cni berth-cni DEL $P-b1 /run/netns/$P-b1 "$WORK/routed.json"
check "berth-cni routed: ifb removed" sh -c "! ip netns exec $NODE ip link show bi${HOSTIF#bv}"

# Concurrent ADDs (as a runtime starting pods in parallel): the state lock
# serialises them, and no address is handed out twice.
for i in 1 2 3 4 5 6; do newns $P-p$i; done
for i in 1 2 3 4 5 6; do cni berth-cni ADD $P-p$i /run/netns/$P-p$i "$WORK/berth-noport.json" >"$WORK/p$i.result" & done
wait
check "6 concurrent ADDs: 6 distinct addresses" sh -c "cat $WORK/p[1-6].result | jq -r '.ips[0].address' | sort -u | wc -l | grep -qx 6"
check "6 concurrent ADDs: 6 leases on disk" jq -e '.attachments | length == 7' "$WORK/state/leases/$P-berth.json"
for i in 1 2 3 4 5 6; do cni berth-cni DEL $P-p$i /run/netns/$P-p$i "$WORK/berth-noport.json" & done
wait

check "DEL b2 (berth-cni)" cni berth-cni DEL $P-b2 /run/netns/$P-b2 "$WORK/berth-noport.json"
check "DEL r2 (bridge)" cni bridge DEL $P-r2 /run/netns/$P-r2 "$WORK/ref.json"
check "berth-cni left no lease" jq -e '.attachments | length == 0' "$WORK/state/leases/$P-berth.json"
check "no berth veths left on the node" sh -c "! ip netns exec $NODE ip -br link | grep -q '^bv'"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
