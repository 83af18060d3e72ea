#!/usr/bin/env bash
# net_test.sh — berth-net in a namespace topology of its own: a "node"
# namespace (bridge, routes, berth's nftables table), container namespaces
# and an "upstream" namespace standing in for the outside. Addresses come
# from 198.18.0.0/15 and fd00:b::/32 (ULA). The host namespace's links,
# routes, sysctls and nftables are never touched; the trap removes every
# namespace and file made, even on failure.
set -euo pipefail
: "${BERTH_NET:?set BERTH_NET to the berth-net binary}"
PY=/usr/bin/python3
BB=/bin/busybox
P=bnt$(printf %04x $((RANDOM)))        # unique prefix of every name made here
WORK=$(mktemp -d /tmp/berth-net-test.XXXXXX)
STATE=$WORK/state
NODE=$P-node UP=$P-up
PASSED=0 FAILED=0
NSS=()

cleanup() {
  set +e
  for ns in "${NSS[@]}"; do ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null; done
  for ns in "${NSS[@]}"; do ip netns del "$ns" 2>/dev/null; done
  umount -R "$STATE/netns" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

ok() { PASSED=$((PASSED + 1)); echo "ok - $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL - $*"; }
check() { local d=$1; shift; if "$@" >"$WORK/out" 2>&1; then ok "$d"; else fail "$d"; sed 's/^/  | /' "$WORK/out"; fi; }
check_not() { local d=$1; shift; if "$@" >"$WORK/out" 2>&1; then fail "$d (succeeded)"; sed 's/^/  | /' "$WORK/out"; else ok "$d"; fi; }
# expect_error DESC NEEDLE CMD...: the command fails and its stderr holds NEEDLE
expect_error() {
  local d=$1 needle=$2; shift 2
  if "$@" >"$WORK/out" 2>&1; then fail "$d (succeeded)"; return; fi
  if grep -qF -- "$needle" "$WORK/out"; then ok "$d"; else fail "$d: [$needle] not in [$(cat "$WORK/out")]"; fi
}
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
bn() { nsenter --net=/run/netns/$NODE "$BERTH_NET" --state "$STATE" "$@"; }
ping_from() { in_ns "$1" "$BB" ping -c 1 -W 2 "${@:2}"; }
newns() { ip netns add "$1"; NSS+=("$1"); in_ns "$1" ip link set lo up; }

# ---------------------------------------------------------------- topology
newns $NODE
newns $UP
ip link add $P-u0 netns $NODE type veth peer name $P-u1 netns $UP
in_ns $NODE ip addr add 198.19.0.1/24 dev $P-u0
in_ns $NODE ip addr add fd00:b:ff::1/64 dev $P-u0 nodad
in_ns $NODE ip link set $P-u0 up
in_ns $UP ip addr add 198.19.0.2/24 dev $P-u1
in_ns $UP ip addr add fd00:b:ff::2/64 dev $P-u1 nodad
in_ns $UP ip link set $P-u1 up
# The upstream has no route back to 198.18.0.0/15 or fd00:b:1::/64: only
# NAT (or a port forward's conntrack) lets replies reach a container.
for c in 1 2 3 4 5 6 7 8; do newns $P-c$c; done

# ---------------------------------------------------------------- bad input
expect_error "bad CIDR names network and field" "network x: subnet" bn network create x --subnet 198.18.1.0/33
expect_error "host bits set" "has host bits set" bn network create x --subnet 198.18.1.1/24
expect_error "bridge name too long" "network x: bridge: interface name" bn network create x --subnet 198.18.9.0/24 --bridge abcdefghijklmnopq
expect_error "missing bridge" "network x: bridge: nosuchbr0 does not exist" bn network create x --subnet 198.18.9.0/24 --bridge nosuchbr0 --no-create-bridge
expect_error "routed network with a bridge" "a routed network has no bridge" bn network create x --mode routed --subnet 198.18.9.0/24 --bridge b0

# ---------------------------------------------------------------- bridged
check "create bridged network" bn network create $P-b --subnet 198.18.1.0/24 --subnet fd00:b:1::/64 --dns 198.18.1.1 --search test.example
expect_error "overlapping subnet refused" "network $P-o: subnet4: 198.18.1.128/25 overlaps 198.18.1.0/24 of network $P-b" \
  bn network create $P-o --subnet 198.18.1.128/25
check "attach c1 (automatic addresses)" bn attach $P-b c1 --netns /run/netns/$P-c1
check "attach c2 (static addresses, MAC)" bn attach $P-b c2 --netns /run/netns/$P-c2 --ip 198.18.1.20 --ip fd00:b:1::20 --mac 02:00:00:00:00:20
expect_error "duplicate static address" "198.18.1.20 is already leased to c2" bn attach $P-b c9 --netns /run/netns/$P-c7 --ip 198.18.1.20
expect_error "bad MAC" "is not a MAC address" bn attach $P-b c9 --netns /run/netns/$P-c7 --mac 01:00:00:00:00:01
expect_error "ifname too long" "ifname: interface name" bn attach $P-b c9 --netns /run/netns/$P-c7 --ifname abcdefghijklmnopq
check "failed attaches left no lease" test "$(bn network inspect $P-b | jq '.leases.attachments|length')" = 2
C1=$(bn network inspect $P-b | jq -r '.leases.attachments[]|select(.container=="c1").ipv4')
check "c1 got the first free address" test "$C1" = 198.18.1.2
check "c2 has its MAC" sh -c "ip netns exec $P-c2 cat /sys/class/net/eth0/address | grep -qx 02:00:00:00:00:20"
check "bridged: c1 -> c2 (IPv4, same L2: ttl 64)" sh -c "ip netns exec $P-c1 $BB ping -c1 -W2 198.18.1.20 | grep -q ttl=64"
check "bridged: c1 -> c2 (IPv6)" ping_from $P-c1 fd00:b:1::20
check "bridged: egress NAT to upstream (IPv4)" ping_from $P-c1 198.19.0.2
check "bridged: egress NAT to upstream (IPv6)" ping_from $P-c1 fd00:b:ff::2
FILES=$(bn files $P-b c1 --hostname web --domain test.example)
check "resolv.conf content" grep -qx "nameserver 198.18.1.1" <<<"$FILES"
check "hosts content" grep -qP "^198\.18\.1\.2\tweb\.test\.example web$" <<<"$FILES"

# ---------------------------------------------------------------- routed
check "create routed network" bn network create $P-r --mode routed --subnet 198.18.2.0/24 --subnet fd00:b:2::/64
check "attach c3" bn attach $P-r c3 --netns /run/netns/$P-c3
check "attach c4" bn attach $P-r c4 --netns /run/netns/$P-c4
C4=$(bn network inspect $P-r | jq -r '.leases.attachments[]|select(.container=="c4").ipv4')
C4_6=$(bn network inspect $P-r | jq -r '.leases.attachments[]|select(.container=="c4").ipv6')
check "routed: c3 has a /32" sh -c "ip netns exec $P-c3 ip -4 addr show eth0 | grep -q '/32'"
check "routed: c3 -> c4 only through the node's routing (ttl 63)" sh -c "ip netns exec $P-c3 $BB ping -c1 -W2 $C4 | grep -q ttl=63"
check "routed: no bridge or L2 peer: c3 learns only the node's MAC" sh -c \
  "ip netns exec $P-c3 ip neigh show $C4 | grep -q \"\$(ip netns exec $NODE cat /sys/class/net/\$(bn network inspect $P-r | jq -r '.leases.attachments[]|select(.container==\"c3\").host_if')/address)\""
check "routed: c3 -> c4 (IPv6)" ping_from $P-c3 "$C4_6"
check "routed: egress NAT to upstream (IPv4)" ping_from $P-c3 198.19.0.2
check "routed: egress NAT to upstream (IPv6)" ping_from $P-c3 fd00:b:ff::2
in_ns $P-c3 ip addr add 198.18.2.99/32 dev eth0
in_ns $P-c3 ip addr add fd00:b:2::99/128 dev eth0 nodad
check_not "routed: spoofed IPv4 source dropped" ping_from $P-c3 -I 198.18.2.99 198.19.0.2
check_not "routed: spoofed IPv6 source dropped" ping_from $P-c3 -I fd00:b:2::99 fd00:b:ff::2
check_not "routed: spoofed source dropped towards a neighbour" ping_from $P-c3 -I 198.18.2.99 "$C4"
check "routed: own source still passes" ping_from $P-c3 -I "$(bn network inspect $P-r | jq -r '.leases.attachments[]|select(.container=="c3").ipv4')" 198.19.0.2

# ---------------------------------------------------------------- routed on the LAN
# venet-style: containers take addresses of the node's LAN (the upstream's
# own on-link prefix); the node's uplink answers ARP/NDP for them, no NAT.
expect_error "uplink on a bridged network" "only a routed network has an uplink" bn network create x --subnet 198.18.9.0/24 --uplink $P-u0
expect_error "missing uplink" "network x: uplink: nosuch0 does not exist" bn network create x --mode routed --subnet 198.18.9.0/24 --uplink nosuch0
check "create routed network on the uplink's LAN" bn network create $P-v --mode routed --uplink $P-u0 --no-nat \
  --subnet 198.19.0.128/26 --subnet fd00:b:ff:0:1::/80
check "attach c8 on the LAN" bn attach $P-v c8 --netns /run/netns/$P-c8 --ip 198.19.0.140 --ip fd00:b:ff:0:1::140
check "LAN: upstream reaches c8 on-link through proxy ARP (IPv4)" ping_from $UP 198.19.0.140
check "LAN: upstream reaches c8 on-link through proxy NDP (IPv6)" ping_from $UP fd00:b:ff:0:1::140
check "LAN: upstream's neighbour entry for c8 is the node's uplink" sh -c "ip netns exec $UP ip neigh show 198.19.0.140 | grep -q \"\$(ip netns exec $NODE cat /sys/class/net/$P-u0/address)\""
check "detach c8 removes its proxy entries" sh -c "nsenter --net=/run/netns/$NODE $BERTH_NET --state $STATE detach $P-v c8 && [ -z \"\$(ip netns exec $NODE ip neigh show proxy)\" ]"
check "remove the LAN network" bn network rm $P-v

# ---------------------------------------------------------------- port forward
check "attach c5 with forwards" bn attach $P-b c5 --netns /run/netns/$P-c5 --port tcp:8080:80 --port udp:5353:53 --port tcp:8081:81
expect_error "host port already forwarded" "tcp host port 8080 already forwards to c5" bn attach $P-r c9 --netns /run/netns/$P-c7 --port 8080:80
in_ns $P-c5 $PY -c '
import socket,sys
t=socket.socket(socket.AF_INET6); t.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0); t.bind(("::",80)); t.listen(4)
u=socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0); u.bind(("::",53))
print("ready", flush=True)
for i in range(2):
  c,a=t.accept(); c.sendall(b"tcp-hello\n"); c.close()
d,a=u.recvfrom(100); u.sendto(b"udp-"+d, a)
' >"$WORK/srv.out" 2>&1 &
for _ in $(seq 50); do grep -q ready "$WORK/srv.out" 2>/dev/null && break; sleep 0.1; done
TCPGET='import socket,sys; s=socket.create_connection((sys.argv[1],int(sys.argv[2])),timeout=3); print(s.recv(100).decode().strip())'
check "port forward tcp 8080 reached from upstream (IPv4)" sh -c "ip netns exec $UP $PY -c '$TCPGET' 198.19.0.1 8080 | grep -qx tcp-hello"
check "port forward tcp 8080 reached from upstream (IPv6)" sh -c "ip netns exec $UP $PY -c '$TCPGET' fd00:b:ff::1 8080 | grep -qx tcp-hello"
check "port forward udp 5353 reached from upstream" sh -c "ip netns exec $UP $PY -c '
import socket; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.settimeout(3); s.sendto(b\"ping\",(\"198.19.0.1\",5353)); print(s.recv(100).decode())' | grep -qx udp-ping"
wait

# ---------------------------------------------------------------- bandwidth
RATE=40   # Mbit/s each way
check "attach c6 with in/out limits" bn attach $P-b c6 --netns /run/netns/$P-c6 --rate-in ${RATE}mbit --rate-out ${RATE}mbit
in_ns $UP iperf3 -s -1 -D -B 198.19.0.2 -p 5201 --pidfile "$WORK/iperf.pid"
sleep 0.3
in_ns $P-c6 iperf3 -c 198.19.0.2 -p 5201 -t 3 -O 1 -J >"$WORK/up.json" || true
in_ns $UP iperf3 -s -1 -D -B 198.19.0.2 -p 5201 --pidfile "$WORK/iperf.pid"
sleep 0.3
in_ns $P-c6 iperf3 -c 198.19.0.2 -p 5201 -t 3 -O 1 -R -J >"$WORK/down.json" || true
within10() { # within10 MBPS_MEASURED
  awk -v m="$1" -v r=$RATE 'BEGIN { exit !(m >= r * 0.9 && m <= r * 1.1) }'
}
OUT_M=$(jq '.end.sum_received.bits_per_second / 1e6' "$WORK/up.json" 2>/dev/null || echo 0)
IN_M=$(jq '.end.sum_received.bits_per_second / 1e6' "$WORK/down.json" 2>/dev/null || echo 0)
echo "# bandwidth: limit $RATE Mbit/s, out of c6 $OUT_M Mbit/s, into c6 $IN_M Mbit/s"
check "limit out of the container holds within 10% ($OUT_M Mbit/s)" within10 "$OUT_M"
check "limit into the container holds within 10% ($IN_M Mbit/s)" within10 "$IN_M"

# ---------------------------------------------------------------- restart, repair
bn network inspect $P-b | jq -S .leases >"$WORK/leases.before"
check "repair on a healthy node changes nothing" sh -c "[ -z \"\$(nsenter --net=/run/netns/$NODE $BERTH_NET --state $STATE repair)\" ]"
bn network inspect $P-b | jq -S .leases >"$WORK/leases.after"
check "leases intact after a restart" cmp -s "$WORK/leases.before" "$WORK/leases.after"
NEW=$(bn attach $P-b c7 --netns /run/netns/$P-c7 | jq -r .ipv4)
check "a new lease after the restart skips the old ones ($NEW)" sh -c "[ -n '$NEW' ] && ! grep -qF '\"$NEW\"' $WORK/leases.before"
# A crash: a container's namespace vanished without a detach, an orphan
# veth stayed on the node, and someone flushed berth's table.
ip netns del $P-c7
in_ns $NODE ip link add bv00000000dead type veth peer name $P-x
# ... and a crash between storing c2's lease and making its links.
in_ns $NODE ip link del "$(bn network inspect $P-b | jq -r '.leases.attachments[]|select(.container=="c2").host_if')"
in_ns $NODE nft flush table inet berth
bn repair >"$WORK/repair.out"
check "repair released the dead container's lease" grep -qx "released lease $P-b/c7" "$WORK/repair.out"
check "repair removed the orphan veth" grep -qx "removed link bv00000000dead" "$WORK/repair.out"
check "repair remade the links of a live container's lease" grep -qx "restored links of $P-b/c2" "$WORK/repair.out"
check "c1 -> c2 again after repair" ping_from $P-c1 198.18.1.20
check "orphan veth gone" sh -c "! ip netns exec $NODE ip link show bv00000000dead"
C5=$(bn network inspect $P-b | jq -r '.leases.attachments[]|select(.container=="c5").ipv4')
check "repair reconciled the nftables table" sh -c "ip netns exec $NODE nft list table inet berth | grep -q 'dnat ip to $C5:80'"
check "port forward works again after repair" sh -c "ip netns exec $P-c5 $PY -c 'import socket; t=socket.socket(); t.bind((\"0.0.0.0\",81)); t.listen(1); c,a=t.accept(); c.sendall(b\"again\\n\")' & sleep 0.3; ip netns exec $UP $PY -c '$TCPGET' 198.19.0.1 8081 | grep -qx again"

# ---------------------------------------------------------------- exhausted pool
check "create a tiny network" bn network create $P-t --subnet 198.18.3.0/29
for i in 1 2 3 4 5; do ip netns add $P-t$i; NSS+=($P-t$i); bn attach $P-t t$i --netns /run/netns/$P-t$i >/dev/null; done
ip netns add $P-t6; NSS+=($P-t6)
expect_error "exhausted pool" "network $P-t: ipv4: address pool 198.18.3.0/29 is exhausted" bn attach $P-t t6 --netns /run/netns/$P-t6
expect_error "network with containers cannot be removed" "still attached" bn network rm $P-t
for i in 1 2 3 4 5; do bn detach $P-t t$i; done
check "released addresses are handed out again" sh -c "nsenter --net=/run/netns/$NODE $BERTH_NET --state $STATE attach $P-t t6 --netns /run/netns/$P-t6 | jq -e '.ipv4 == \"198.18.3.2\"'"
check "detach t6" bn detach $P-t t6
check "detach is idempotent" bn detach $P-t t6

# ---------------------------------------------------------------- berth-made netns
check "attach with a namespace berth makes" bn attach $P-r own1
check "its namespace is pinned under the state dir" test -e "$STATE/netns/own1"
check "detach removes the pinned namespace" sh -c "nsenter --net=/run/netns/$NODE $BERTH_NET --state $STATE detach $P-r own1 && ! test -e $STATE/netns/own1"

# ---------------------------------------------------------------- teardown
for c in c1 c2 c5 c6; do bn detach $P-b $c; done
for c in c3 c4; do bn detach $P-r $c; done
check "no berth links left on the node" sh -c "! ip netns exec $NODE ip -br link | grep -E '^(bv|bi)'"
check "remove networks" sh -c "nsenter --net=/run/netns/$NODE sh -c '$BERTH_NET --state $STATE network rm $P-b && $BERTH_NET --state $STATE network rm $P-r && $BERTH_NET --state $STATE network rm $P-t'"
check "bridge removed" sh -c "! ip netns exec $NODE ip link show bb-$P-b"
check "berth's nftables table removed" sh -c "! ip netns exec $NODE nft list table inet berth"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
