#!/usr/bin/env bash
# Usage: bench/net.sh [options]
#
# Container networking benchmark: berth-net against the CNI reference
# `bridge` plugin with `host-local` IPAM (Debian containernetworking-plugins),
# in a "node" network namespace of its own (nothing touches the host's).
#   seq     N sequential container network setups + teardowns: netns, veth
#           into a bridge, IPv4 address, routes (berth: `ip netns add` +
#           `berth-net attach`/`detach` + `ip netns del`; CNI: `ip netns add`
#           + bridge ADD/DEL + `ip netns del`), and berth with a namespace it
#           pins itself (`attach` without --netns) in one `berth-net batch`
#           process, the way the supervisor calls the library
#   many    M containers on one bridge, set up one after another, then torn
#           down: setup and teardown rate, kernel memory per container
#           (slab, per-cpu, stacks, page tables), peak RSS of one call, and
#           leaks afterwards
#           (links, namespaces, leases, pins)
# and prints a table with berth/CNI ratios.
#
# Options:
#   --berth-net PATH   berth-net binary (default <repo>/build/net/cli/berth-net)
#   -n N               sequential setups (default 100)
#   -m M               containers on one bridge (default 1000)
#   --short            N=10, M=20 (CI smoke mode; never fails on a time)
#   -h, --help         this help
#
# Exit status: 0 unless berth-net fails or leaks (1), or a usage error (2).
# The CNI plugin is reported as n/a when it is not installed.
set -euo pipefail

SELF=$(readlink -f -- "${BASH_SOURCE[0]}")
REPO=$(cd "$(dirname "$SELF")/.." && pwd)
PROG=${0##*/}
usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$SELF"; }
die() { printf '%s: %s\n' "$PROG" "$*" >&2; exit 2; }

BN=$REPO/build/net/cli/berth-net
CNI_DIR=/usr/lib/cni
N=100
M=1000
while (($#)); do
  case $1 in
    --berth-net) (($# >= 2)) || die "--berth-net needs a path"; BN=$2; shift 2 ;;
    -n) (($# >= 2)) || die "-n needs a number"; N=$2; shift 2 ;;
    -m) (($# >= 2)) || die "-m needs a number"; M=$2; shift 2 ;;
    --short) N=10; M=20; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done
[[ $N =~ ^[1-9][0-9]*$ && $M =~ ^[1-9][0-9]*$ ]] || die "bad N or M"
((M <= 16000)) || die "M at most 16000 (one /18 of 198.18.0.0/15 per network)"
[[ $BN == /* ]] || BN=$PWD/$BN
[[ -x $BN ]] || { echo "$PROG: berth-net $BN not found" >&2; exit 1; }
[[ ${EPOCHREALTIME:-} ]] || die "bash >= 5 required"

P=bnb$(printf %04x $((RANDOM)))
NODE=$P-node
TMP=$(mktemp -d /tmp/berth-net-bench.XXXXXX)
STATE=$TMP/state
cp -- "$BN" "$TMP/berth-net"; BN=$TMP/berth-net   # a rebuild cannot swap it mid-run
HAVE_CNI=1
[[ -x $CNI_DIR/bridge && -x $CNI_DIR/host-local ]] || HAVE_CNI=0

cleanup() {
  local rc=$?
  set +e
  trap - EXIT
  for ns in $(ip netns list | awk '{print $1}' | grep "^$P-"); do ip netns del "$ns"; done
  umount -R "$STATE/netns" 2>/dev/null
  rm -rf -- "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ip netns add $NODE
IN_NODE=(nsenter --net=/run/netns/$NODE)
bn() { "${IN_NODE[@]}" "$BN" --state "$STATE" "$@"; }
ms_per() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN{printf "%.2f", (b-a)*1000/n}'; }
rate() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN{printf "%.0f", n/(b-a)}'; }
# Kernel memory (KiB) that namespaces, links and their tables take: slab,
# per-cpu allocations, kernel stacks, page tables. Less noisy than
# MemAvailable, which page-cache churn from other work moves.
kmem() { awk '/^(Slab|Percpu|KernelStack|PageTables):/{s+=$2} END{print s}' /proc/meminfo; }

cni_conf() { # cni_conf NAME BRIDGE SUBNET
  printf '{"cniVersion":"1.0.0","name":"%s","type":"bridge","bridge":"%s","isGateway":true,"ipMasq":false,"ipam":{"type":"host-local","subnet":"%s","dataDir":"%s"}}\n' \
    "$1" "$2" "$3" "$TMP/host-local"
}
cni() { # cni COMMAND ID CONF
  CNI_COMMAND=$1 CNI_CONTAINERID=$2 CNI_NETNS=/run/netns/$2 CNI_IFNAME=eth0 CNI_PATH=$CNI_DIR \
    "${IN_NODE[@]}" "$CNI_DIR/bridge" <"$3" >/dev/null
}

echo "== berth network benchmark: N=$N sequential, M=$M on one bridge =="
echo "kernel:  $(uname -srm)   cpus: $(nproc)   load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "cni:     $( ((HAVE_CNI)) && dpkg-query -W -f='containernetworking-plugins ${Version}' containernetworking-plugins 2>/dev/null || echo n/a)"
echo

bn network create seq --subnet 198.18.0.0/18 --no-nat >/dev/null
bn network create many --subnet 198.18.64.0/18 --no-nat >/dev/null
cni_conf cseq $P-cs 198.18.128.0/18 >"$TMP/cseq.json"
cni_conf cmany $P-cm 198.18.192.0/18 >"$TMP/cmany.json"

declare -A T=()
# ------------------------------------------------------------- sequential
t0=$EPOCHREALTIME
for ((i = 0; i < N; i++)); do
  ip netns add $P-s$i
  bn attach seq s$i --netns /run/netns/$P-s$i >/dev/null
  bn detach seq s$i
  ip netns del $P-s$i
done
t1=$EPOCHREALTIME; T[berth.seq]=$(ms_per "$t0" "$t1" "$N")
# In one process, as the supervisor calls the library: berth pins the
# namespace itself and keeps one netlink socket.
for ((i = 0; i < N; i++)); do echo "attach seq o$i"; echo "detach seq o$i"; done >"$TMP/seq.batch"
t0=$EPOCHREALTIME
bn batch <"$TMP/seq.batch" >/dev/null
t1=$EPOCHREALTIME; T[berth.lib]=$(ms_per "$t0" "$t1" "$N")
if ((HAVE_CNI)); then
  t0=$EPOCHREALTIME
  for ((i = 0; i < N; i++)); do
    ip netns add $P-s$i
    cni ADD $P-s$i "$TMP/cseq.json"
    cni DEL $P-s$i "$TMP/cseq.json"
    ip netns del $P-s$i
  done
  t1=$EPOCHREALTIME; T[cni.seq]=$(ms_per "$t0" "$t1" "$N")
fi

# ------------------------------------------------------------- many
links0=$("${IN_NODE[@]}" ip -o link | wc -l)
sleep 2; m0=$(kmem)   # let the cleanup of earlier namespaces settle
for ((i = 0; i < M; i++)); do echo "attach many m$i"; done >"$TMP/up.batch"
for ((i = 0; i < M; i++)); do echo "detach many m$i"; done >"$TMP/down.batch"
t0=$EPOCHREALTIME
bn batch <"$TMP/up.batch" >/dev/null
t1=$EPOCHREALTIME
m1=$(kmem)
T[berth.up]=$(rate "$t0" "$t1" "$M")
T[berth.mem]=$(( (m1 - m0) / M ))
/usr/bin/time -f %M -o "$TMP/rss" "${IN_NODE[@]}" "$BN" --state "$STATE" attach many rss >/dev/null 2>&1 || true
T[berth.rss]=$(tail -n1 "$TMP/rss")
bn detach many rss
t0=$EPOCHREALTIME
bn batch <"$TMP/down.batch"
t1=$EPOCHREALTIME
T[berth.down]=$(rate "$t0" "$t1" "$M")
LEAKS=()
l=$("${IN_NODE[@]}" ip -o link | wc -l); ((l == links0)) || LEAKS+=("$((l - links0)) links")
n=$(ls "$STATE/netns" 2>/dev/null | wc -l); ((n == 0)) || LEAKS+=("$n pins")
n=$(jq '.attachments | length' "$STATE/leases/many.json"); ((n == 0)) || LEAKS+=("$n leases")
T[berth.leaks]=${LEAKS[*]:-none}

if ((HAVE_CNI)); then
  sleep 2; m0=$(kmem)
  t0=$EPOCHREALTIME
  for ((i = 0; i < M; i++)); do ip netns add $P-m$i; cni ADD $P-m$i "$TMP/cmany.json"; done
  t1=$EPOCHREALTIME
  m1=$(kmem)
  T[cni.up]=$(rate "$t0" "$t1" "$M")
  T[cni.mem]=$(( (m1 - m0) / M ))
  ip netns add $P-rss
  /usr/bin/time -f %M -o "$TMP/rss" env CNI_COMMAND=ADD CNI_CONTAINERID=$P-rss CNI_NETNS=/run/netns/$P-rss \
    CNI_IFNAME=eth0 CNI_PATH=$CNI_DIR "${IN_NODE[@]}" "$CNI_DIR/bridge" <"$TMP/cmany.json" >/dev/null 2>&1 || true
  T[cni.rss]=$(tail -n1 "$TMP/rss")
  cni DEL $P-rss "$TMP/cmany.json"; ip netns del $P-rss
  t0=$EPOCHREALTIME
  for ((i = 0; i < M; i++)); do cni DEL $P-m$i "$TMP/cmany.json"; ip netns del $P-m$i; done
  t1=$EPOCHREALTIME
  T[cni.down]=$(rate "$t0" "$t1" "$M")
  n=$(find "$TMP/host-local/cmany" -type f 2>/dev/null | grep -vc 'last_reserved_ip\|lock' || true)
  l=$("${IN_NODE[@]}" ip -o link | grep -c veth || true)
  T[cni.leaks]=$( ((n == 0 && l == 0)) && echo none || echo "$n leases $l veths")
fi

# ------------------------------------------------------------- table
ratio() { [[ -n ${1:-} && -n ${2:-} ]] && awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.2fx", a/b; else print "-" }' || echo -; }
fmt='%-44s %14s %14s %8s\n'
# shellcheck disable=SC2059
printf "$fmt" measure berth cni-bridge berth/cni
# shellcheck disable=SC2059
printf "$fmt" -------------------------------------------- -------------- -------------- --------
row() { printf "$fmt" "$1" "${T[berth.$2]:--}" "${T[cni.$2]:--}" "$(ratio "${T[berth.$2]:-}" "${T[cni.$2]:-}")"; }
row "$N seq setup+teardown, ms/ctr: one CLI call each" seq
printf "$fmt" "$N seq setup+teardown, ms/ctr: library" "${T[berth.lib]}" "${T[cni.seq]:--}" "$(ratio "${T[berth.lib]}" "${T[cni.seq]:-}")"
row "$M on one bridge: setups/s" up
row "$M on one bridge: teardowns/s" down
row "kernel memory per container, KiB" mem
row "peak RSS of one setup call, KiB" rss
printf "$fmt" "leaks after teardown" "${T[berth.leaks]}" "${T[cni.leaks]:--}" ""
echo
echo "seq: netns + veth into the bridge + IPv4 address + default route, then all removed; ms/ctr"
echo "covers setup and teardown. 'one CLI call each': ip netns add, berth-net attach, berth-net detach,"
echo "ip netns del (as the CNI row: ip netns add, bridge ADD, bridge DEL, ip netns del). 'library': one"
echo "berth-net batch process (berth pins the netns; one netlink socket), as berthd calls the library."
echo "many: berth in one batch process; CNI one plugin exec per ADD/DEL. Kernel memory: growth of"
echo "Slab+Percpu+KernelStack+PageTables over the M setups / M (other work on the machine adds noise)."
if [[ -n ${T[cni.seq]:-} ]]; then
  for k in seq lib; do
    echo "goal: seq ($k) time <= 0.2x cni-bridge: $(awk -v a="${T[berth.$k]}" -v b="${T[cni.seq]}" 'BEGIN{print (a <= 0.2*b) ? "met" : "MISSED"}')"
  done
fi
[[ ${T[berth.leaks]} == none ]] || { echo "$PROG: berth leaked: ${T[berth.leaks]}" >&2; exit 1; }
exit 0
