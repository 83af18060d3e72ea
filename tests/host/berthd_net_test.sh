#!/usr/bin/env bash
# berthd_net_test.sh — berthd's container networking with real kernel
# objects. berthd runs in a network namespace of the test's own (its
# bridges, veths and nft table live there, never in the host's), on
# 198.18.0.0/15: networks through the CLI, two busybox containers on a
# bridged network pinging each other and the gateway, a routed container
# reaching the node, resolv.conf and hosts inside, addresses in status and
# list, addresses kept across a restart of the container and of berthd,
# released by destroy, repair after kill -9 of berthd, bad input refused,
# and nothing left behind.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/berthd_lib.sh"

NS=berth-nt-$$
ip netns add "$NS"
in_ns() { ip netns exec "$NS" "$@"; }
net_cleanup() {
  cleanup
  ip netns del "$NS" 2>/dev/null || true
}
trap net_cleanup EXIT

# berthd joins the test's network namespace only (nsenter --net keeps the
# mount namespace, so its disks and pins are the test's to see).
start_berthd() {
  nsenter --net="/run/netns/$NS" "$BERTHD" --state-dir "$STATE" --run-dir "$RUN" --socket "$SOCK" \
    --cgroup-parent "$CG" --monitor "$BERTH_MONITOR" >>"$WORK/berthd.log" 2>&1 &
  BPID=$!
  for _ in $(seq 100); do
    "$BERTH" list >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "berthd did not come up"; cat "$WORK/berthd.log"; return 1
}
check() { local what=$1; shift; if "$@" >/dev/null 2>&1; then ok "$what"; else fail "$what"; fi; }
pings() { "$BERTH" exec "$1" ping -c 1 -W 2 "$2" >/dev/null 2>&1; }
# The error and exit status of a command that must fail.
refused() { set +e; out=$("$@" 2>&1); rc=$?; set -e; }
berth_links() { in_ns ip -o link show | awk -F': ' '{print $2}' | grep -E '^(bv|bi)[0-9a-f]{12}' | sed 's/@.*//' || true; }
pinned() { [ "$(grep -c " $RUN/netns/$1 " /proc/self/mountinfo || true)" -gt 0 ]; }
not_pinned() { ! pinned "$1"; }
host_if() { jq -r --arg c "$1" '.attachments[] | select(.container == $c) | .host_if' "$STATE/net/leases/$2.json"; }
has_link() { in_ns ip link show "$1" >/dev/null 2>&1; }
no_link() { ! has_link "$1"; }

start_berthd
"$BERTH" image build-template busybox berth/busybox >/dev/null
in_ns ip link set lo up
# The node's own address, for the routed container to reach.
in_ns ip addr add 198.19.254.1/32 dev lo

# --- networks ----------------------------------------------------------------
out=$("$BERTH" network create lan --mode bridged --subnet 198.18.0.0/24 --dns 198.18.0.53 --search lan.test)
expect_contains "bridged network created" "created network lan (bridged 198.18.0.0/24)" "$out"
"$BERTH" network create edge --mode routed --subnet 198.18.4.0/24 >/dev/null
ls_out=$("$BERTH" network ls)
expect_contains "network ls shows lan" "198.18.0.1" "$ls_out"
expect_contains "network ls shows edge" "routed" "$ls_out"
check "bridge made in berthd's namespace" in_ns ip link show bb-lan
check "no bridge in the host's namespace" bash -c '! ip link show bb-lan 2>/dev/null'
expect_eq "gateway on the bridge" "198.18.0.1/24" "$(in_ns ip -o -4 addr show bb-lan | awk '{print $4}')"

# --- bad input: refused, naming the field, nothing made -----------------------
refused "$BERTH" network create bad --subnet 198.18.7.0/33
expect_contains "bad CIDR names subnet4" "subnet4" "$out"
expect_eq "bad CIDR exits 2" 2 "$rc"
refused "$BERTH" network create lan2 --subnet 198.18.0.128/25
expect_contains "overlapping subnet refused" "overlaps 198.18.0.0/24 of network lan" "$out"
refused "$BERTH" network create lan --subnet 198.18.9.0/24
expect_eq "existing network exits 4" 4 "$rc"
refused "$BERTH" network create bad --subnet 198.18.8.0/24 --mode bogus
expect_contains "bad mode names mode" "mode" "$out"
refused "$BERTH" create x1 --template berth/busybox --disk 32M --net nosuch
expect_contains "unknown network named" "net[0]: no network nosuch" "$out"
expect_eq "unknown network exits 3" 3 "$rc"
refused "$BERTH" create x1 --template berth/busybox --disk 32M --net lan:198.18.5.9
expect_contains "address outside the subnet named" "net[0]" "$out"
expect_eq "address outside the subnet exits non-zero" 2 "$rc"
refused "$BERTH" create x1 --template berth/busybox --disk 32M --net lan:198.18.0.1
expect_contains "gateway address refused" "net[0]" "$out"
refused "$BERTH" create x1 --template berth/busybox --disk 32M --net lan:bogus
expect_contains "malformed address names net" "net:" "$out"
refused "$BERTH" create x1 --template berth/busybox --disk 32M --nameserver 1.2.3
expect_contains "bad nameserver named" "nameserver" "$out"
expect_eq "nothing made for refused creates" "" "$(ls "$STATE/containers")"
expect_eq "no network for refused creates" "lan edge" "$("$BERTH" network ls --format json | jq -r '.[].name' | sort -r | xargs)"

# --- two containers on the bridged network ------------------------------------
"$BERTH" create c1 --template berth/busybox --disk 32M --net lan >/dev/null
"$BERTH" create c2 --template berth/busybox --disk 32M --net lan:198.18.0.20 --rate 1M \
  --nameserver 198.18.0.1 --searchdomain example.test --port tcp:8080:80 >/dev/null
a1=$(field c1 '.addresses[0]')
expect_eq "automatic address: the lowest free" 198.18.0.2 "$a1"
expect_eq "static address" 198.18.0.20 "$(field c2 '.addresses[0]')"
expect_contains "record holds the address" 'NET="lan:198.18.0.2"' "$(cat "$STATE/containers/c1/config")"
refused "$BERTH" create x1 --template berth/busybox --disk 32M --net lan:198.18.0.20
expect_contains "address in use names its holder" "c2" "$out"
expect_eq "address in use exits 4" 4 "$rc"
refused "$BERTH" create x1 --template berth/busybox --disk 32M --net lan --port 8080:80
expect_contains "forwarded node port in use names its holder" "port[0]: tcp node port 8080 already forwards to c2" "$out"
expect_eq "forwarded node port in use exits 4" 4 "$rc"
refused "$BERTH" create x1 --template berth/busybox --disk 32M --port 8081:80
expect_contains "a forward without a network refused" "port[0]: a port forward needs a network" "$out"
refused "$BERTH" create x1 --template berth/busybox --disk 32M --net lan --port tcp:0:80
expect_contains "a bad forward named" "port[0]" "$out"
expect_eq "a bad forward exits 2" 2 "$rc"
# Start latency with and without a network, side by side.
"$BERTH" create c0 --template berth/busybox --disk 32M >/dev/null
t0=$(now_ms)
"$BERTH" start c0 >/dev/null
t1=$(now_ms)
"$BERTH" start c1 >/dev/null
t2=$(now_ms)
"$BERTH" start c2 >/dev/null
echo "# berth start: $((t1 - t0)) ms without a network, $((t2 - t1)) ms with one"
"$BERTH" destroy c0 >/dev/null
check "c1 booted" booted c1
check "c2 booted" booted c2
expect_contains "eth0 inside has the address" "198.18.0.2/24" "$("$BERTH" exec c1 ip -4 addr show eth0)"
check "c1 pings the gateway" pings c1 198.18.0.1
check "c1 pings c2" pings c1 198.18.0.20
check "c2 pings c1" pings c2 "$a1"
check "the node pings c1" in_ns busybox ping -c 1 -W 2 "$a1"
# /metrics: the counters of eth0 inside c1's own namespace (netlink), which
# has now sent and received pings.
m=$("$BERTH" metrics)
rx=$(echo "$m" | awk '$1 == "berth_container_network_receive_packets_total{name=\"c1\",interface=\"eth0\"}" {print $2}')
tx=$(echo "$m" | awk '$1 == "berth_container_network_transmit_bytes_total{name=\"c1\",interface=\"eth0\"}" {print $2}')
check "metrics: c1's eth0 received packets (${rx:-none})" test "${rx:-0}" -ge 2
check "metrics: c1's eth0 sent bytes (${tx:-none})" test "${tx:-0}" -gt 0
expect_eq "metrics: no loopback counters" "" "$(echo "$m" | grep 'interface="lo"' || true)"
expect_contains "rate limit on c2's veth" "tbf" "$(in_ns tc qdisc show | grep -v noqueue)"
"$BERTH" exec c2 sh -c 'nc -ll -p 80 -e echo hello-from-c2 </dev/null >/dev/null 2>&1 &'
sleep 0.3
expect_eq "node port 8080 forwards to c2:80" hello-from-c2 "$(in_ns busybox nc -w 2 198.19.254.1 8080 </dev/null 2>&1 || true)"
resolv=$("$BERTH" exec c1 cat /etc/resolv.conf)
expect_contains "c1's resolv.conf from the network" "nameserver 198.18.0.53" "$resolv"
expect_contains "c1's search from the network" "search lan.test" "$resolv"
resolv=$("$BERTH" exec c2 cat /etc/resolv.conf)
expect_contains "c2's own nameserver" "nameserver 198.18.0.1" "$resolv"
expect_contains "c2's own search domain" "search example.test" "$resolv"
expect_contains "hosts names the container" "198.18.0.20	c2" "$("$BERTH" exec c2 cat /etc/hosts)"
owner=$(stat -c %u "$STATE/containers/c2/disk/rootfs/etc/resolv.conf")
check "resolv.conf owned by the guest's root ($owner)" test "$owner" -ge 16777216
check "root inside manages its own interfaces" "$BERTH" exec c1 ip link set eth0 mtu 1400
expect_contains "list shows addresses" "198.18.0.20" "$("$BERTH" list)"
expect_contains "status shows addresses" "198.18.0.2" "$("$BERTH" status c1)"

# --- a routed container reaches the node ----------------------------------------
"$BERTH" create r1 --template berth/busybox --disk 32M --net edge >/dev/null
"$BERTH" start r1 >/dev/null
check "r1 booted" booted r1
expect_eq "routed address" 198.18.4.2 "$(field r1 '.addresses[0]')"
expect_contains "routed address is a /32 inside" "198.18.4.2/32" "$("$BERTH" exec r1 ip -4 addr show eth0)"
check "r1 reaches the node" pings r1 198.19.254.1
check "the node reaches r1" in_ns busybox ping -c 1 -W 2 198.18.4.2

# --- network rm refused while used ---------------------------------------------
refused "$BERTH" network rm lan
expect_contains "rm of a used network names its users" "used by c1, c2" "$out"
expect_eq "rm of a used network exits 4" 4 "$rc"

# --- the address is kept across stop/start and while stopped ------------------
c1_if=$(host_if c1 lan)
check "running: c1's veth $c1_if" has_link "$c1_if"
check "running: c1's namespace pinned" pinned c1
"$BERTH" stop c1 >/dev/null
check "stopped: c1's veth gone" no_link "$c1_if"
check "stopped: c1's pin gone" not_pinned c1
expect_eq "stopped: c1's lease gone" "" "$(host_if c1 lan)"
expect_eq "stopped: address still in the record" 198.18.0.2 "$(field c1 '.addresses[0]')"
"$BERTH" create c3 --template berth/busybox --disk 32M --net lan >/dev/null
expect_eq "a stopped container's address is not handed out" 198.18.0.3 "$(field c3 '.addresses[0]')"
"$BERTH" start c1 >/dev/null
check "c1 booted again" booted c1
expect_contains "same address after restart" "198.18.0.2/24" "$("$BERTH" exec c1 ip -4 addr show eth0)"
check "c1 pings c2 again" pings c1 198.18.0.20

# --- set on a stopped container ---------------------------------------------------
out=$("$BERTH" set c3 --net lan:198.18.0.77)
expect_contains "set --net waits for a start" "net: saved" "$out"
"$BERTH" start c3 >/dev/null
check "c3 booted" booted c3
expect_contains "address from set" "198.18.0.77/24" "$("$BERTH" exec c3 ip -4 addr show eth0)"
check "c3 pings c1" pings c3 198.18.0.2

# --- restart of berthd: containers and addresses kept -----------------------------
kill "$BPID"; wait "$BPID" 2>/dev/null || true
start_berthd
expect_eq "c1 still running after a berthd restart" running "$(field c1 .state)"
check "c1 still pings c2" pings c1 198.18.0.20
expect_eq "address kept across the berthd restart" 198.18.0.2 "$(field c1 '.addresses[0]')"

# --- kill -9 berthd; a container dies while it is down; an orphan link ----------
c3_if=$(host_if c3 lan)
c3_init=$(field c3 .init_pid) c3_mon=$(field c3 .monitor_pid)
kill -9 "$BPID"; wait "$BPID" 2>/dev/null || true
kill -9 "$c3_mon" "$c3_init"
for _ in $(seq 50); do kill -0 "$c3_init" 2>/dev/null || break; sleep 0.1; done
in_ns ip link add bv0123456789ab type veth peer name orphan0
check "berthd down: c3's veth still there (its namespace is pinned)" has_link "$c3_if"
start_berthd
expect_eq "c1 re-adopted" running "$(field c1 .state)"
expect_eq "c3 found stopped" stopped "$(field c3 .state)"
check "c1 pings c2 after the repair" pings c1 198.18.0.20
check "repair: c3's veth removed" no_link "$c3_if"
check "repair: the orphan link removed" no_link bv0123456789ab
check "repair: c1's veth kept" has_link "$(host_if c1 lan)"
check "repair: c3's pin removed" not_pinned c3
check "repair: c1's pin kept" pinned c1
expect_eq "repair: c3's lease released, its address kept" 198.18.0.77 "$(field c3 '.addresses[0]')"
expect_eq "repair: leases of the live ones" "c1 c2" "$(jq -r '.attachments[].container' "$STATE/net/leases/lan.json" | sort | xargs)"

# --- destroy releases the address ----------------------------------------------
"$BERTH" destroy c1 >/dev/null
"$BERTH" create c4 --template berth/busybox --disk 32M --net lan --net edge >/dev/null
expect_eq "destroy released c1's address" 198.18.0.2 "$(field c4 '.addresses[0]')"

# --- two networks: eth0 carries the default route, eth1 its own subnet -------------
"$BERTH" start c4 >/dev/null
check "c4 booted" booted c4
routes=$("$BERTH" exec c4 ip route)
expect_contains "default route through eth0" "default via 198.18.0.1 dev eth0" "$routes"
expect_contains "the routed subnet through eth1" "198.18.4.0/24 dev eth1" "$routes"
expect_eq "one default route" 1 "$(grep -c '^default' <<<"$routes")"
check "c4 reaches r1 through eth1" pings c4 198.18.4.2
check "c4 reaches c2 through eth0" pings c4 198.18.0.20

# --- dual stack: an address of each family, both kept in the record -------------
"$BERTH" network create ds --subnet 198.18.9.0/24 --subnet6 fd00:b9::/64 >/dev/null
"$BERTH" create d1 --template berth/busybox --disk 32M --net ds >/dev/null
"$BERTH" create d2 --template berth/busybox --disk 32M --net ds:fd00:b9::50 >/dev/null
expect_eq "dual stack: both families chosen at create" "198.18.9.2 fd00:b9::2" "$(field d1 '.addresses | join(" ")')"
expect_eq "dual stack: the given IPv6 kept, an IPv4 chosen" "198.18.9.3 fd00:b9::50" "$(field d2 '.addresses | join(" ")')"
check "dual stack: the record keeps both" grep -q '^NET="ds:198.18.9.2+fd00:b9::2"' "$STATE/containers/d1/config"
"$BERTH" start d1 >/dev/null && "$BERTH" start d2 >/dev/null
check "d1 booted" booted d1
expect_contains "d1's eth0 has its IPv6 address" "fd00:b9::2/64" "$("$BERTH" exec d1 ip -6 addr show eth0)"
expect_contains "d2's eth0 has the IPv6 address it was given" "fd00:b9::50/64" "$("$BERTH" exec d2 ip -6 addr show eth0)"
"$BERTH" stop d1 >/dev/null
"$BERTH" start d1 >/dev/null
expect_contains "d1's IPv6 address is the same after a restart" "fd00:b9::2/64" "$("$BERTH" exec d1 ip -6 addr show eth0)"
refused "$BERTH" create d3 --template berth/busybox --disk 32M --net ds:198.18.9.9+198.18.9.10
expect_eq "two IPv4 addresses on one network exit 2" 2 $rc
expect_contains "two IPv4 addresses: named" "net[0]: two IPv4 addresses" "$out"
refused "$BERTH" create d3 --template berth/busybox --disk 32M --net lan:fd00:b9::9
expect_contains "an IPv6 address on an IPv4-only network: named" "network lan has no subnet of IPv6" "$out"
check "nothing made for the refused creates" test ! -e "$STATE/containers/d3"

# --- tear down: nothing left ------------------------------------------------------
for c in c2 c3 c4 r1 d1 d2; do "$BERTH" destroy "$c" >/dev/null; done
"$BERTH" network rm ds >/dev/null
"$BERTH" network rm lan >/dev/null
"$BERTH" network rm edge >/dev/null
expect_eq "no networks left" "[]" "$("$BERTH" network ls --format json | jq -c .)"
expect_eq "no berth links left" "" "$(berth_links)"
check "bridge removed" bash -c "! ip netns exec $NS ip link show bb-lan 2>/dev/null"
expect_eq "no nft table left" "" "$(in_ns nft list tables)"
expect_eq "no pinned namespace left" 0 "$(grep -c " $RUN/netns/" /proc/self/mountinfo || true)"
expect_eq "no leases left" "" "$(cat "$STATE"/net/leases/*.json 2>/dev/null | jq -r '.attachments[]?.container' | xargs)"
expect_eq "state dir removed" "" "$(ls "$STATE/containers")"
expect_eq "no monitor, init or hook left" "" "$(our_pids)"
expect_eq "no disk or pin mounts left" 0 "$(grep " $WORK/" /proc/self/mountinfo | grep -cv " $RUN/netns " || true)"
expect_eq "no loop device left" "" "$(losetup -a 2>/dev/null | grep "$WORK" || true)"
expect_eq "nothing in the host's namespace" "" "$(ip -o link show | awk -F': ' '{print $2}' | grep -E '^(bv|bi)[0-9a-f]{12}|^bb-lan' || true)"
expect_eq "no sanitizer reports" "" "$(cat "$WORK"/sanitizer.* 2>/dev/null | head -20)"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
