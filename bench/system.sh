#!/usr/bin/env bash
# system.sh — many system containers with networking, berth against LXC in
# one run: berthd starts N busybox-template containers with an address on a
# bridged network, LXC (lxc-start, its busybox template, a veth on a bridge)
# the same N, each started concurrently. Reports the time until all run,
# the memory the manager keeps per running container (PSS and RSS from
# smaps_rollup of berth-monitor and of lxc-start's monitor, and the drop of
# MemAvailable), berthd's RSS, and list/status/exec latency while they run
# (exec: `berth exec b1 -- true` against `lxc-attach -n l1 -- true`).
# Everything networked lives in a network namespace of the bench's own
# (addresses from 198.18.0.0/15); the host's links and routes are not
# touched. Measures; never fails on a time.
#
#   bench/system.sh              # N=500
#   bench/system.sh --short      # N=5 (CI smoke)
#   options: -n N   -P PARALLEL (32, concurrent starts)   --disk SIZE (32M)
#            --calls K (200, list/status/exec calls each)   --lxc-calls K (20: lxc-ls
#            --fancy takes about a second with 100 containers)   --no-lxc
#            --build DIR (default <repo>/build, or $BERTH_BUILD)
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

N=500 PAR=32 DISK=32M CALLS=200 LCALLS=20 LXC=1
BUILD=${BERTH_BUILD:-$REPO/build}
while [ $# -gt 0 ]; do
  case $1 in
    --short) N=5 CALLS=20 LCALLS=10 ;;
    -n) N=$2; shift ;;
    -P) PAR=$2; shift ;;
    --disk) DISK=$2; shift ;;
    --calls) CALLS=$2; shift ;;
    --lxc-calls) LCALLS=$2; shift ;;
    --no-lxc) LXC=0 ;;
    --build) BUILD=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option $1" ;;
  esac
  shift
done
[ "$(id -u)" = 0 ] || die "run as root"
[[ $N =~ ^[1-9][0-9]*$ ]] && [ "$N" -le 1000 ] || die "-n: expected 1..1000 (one /22 per manager)"
BIN=$BUILD/supervisor
for b in berthd berth berth-monitor; do [ -x "$BIN/$b" ] || die "build $b in $BUILD first"; done
if [ "$LXC" = 1 ] && ! command -v lxc-start >/dev/null; then
  echo "$PROG: lxc is not installed (scripts/deps.sh): LXC column n/a" >&2
  LXC=0
fi

TAG=bsys$$                       # names: containers, netns, cgroups, bridge
DIR=$(mktemp -d /tmp/berth-bench-system.XXXXXX)
chmod 711 "$DIR"                 # unprivileged containers reach their disks below it
NS=berth-bench-$TAG
LXCP=$DIR/lxc LXCBR=br-$TAG
export BERTH_SOCKET=$DIR/berthd.sock
berth() { "$BIN/berth" "$@"; }
DAEMON=
# lx LXC-COMMAND...: LXC's tools find bridges in /sys/class/net and talk to
# a container's monitor over an abstract socket (both per network
# namespace): `ip netns exec` gives them the netns and a /sys of its own.
lx() { ip netns exec "$NS" "$@"; }
names() { seq -f "$1%g" "$N"; }

cleanup() {
  set +e
  trap - EXIT INT TERM
  if [ -n "$DAEMON" ]; then
    names b | xargs -P "$PAR" -I{} "$BIN/berth" stop {} --force >/dev/null 2>&1
    names b | xargs -P "$PAR" -I{} "$BIN/berth" destroy {} >/dev/null 2>&1
    berth network rm lan >/dev/null 2>&1
    kill "$DAEMON" 2>/dev/null; wait "$DAEMON" 2>/dev/null
  fi
  if [ -d "$LXCP" ]; then
    names l | xargs -P "$PAR" -I{} ip netns exec "$NS" lxc-stop -P "$LXCP" -n {} -k >/dev/null 2>&1
    names l | xargs -P "$PAR" -I{} ip netns exec "$NS" lxc-destroy -P "$LXCP" -n {} >/dev/null 2>&1
  fi
  { grep -o " $DIR/[^ ]*" /proc/self/mountinfo || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
  losetup -a 2>/dev/null | grep -F "$DIR/" | cut -d: -f1 | xargs -r -n1 losetup -d 2>/dev/null
  # berthd's cgroup parent and LXC's (lxc.payload.lN, lxc.monitor.lN, and
  # the lxc.pivot it leaves behind once empty), in every hierarchy.
  find /sys/fs/cgroup -mindepth 2 -maxdepth 2 -type d \( -name "berth-$TAG" -o -name lxc.pivot \
    -o -regex ".*/lxc\.\(payload\|monitor\)\.l[0-9]+" \) -exec rmdir {} + 2>/dev/null
  ip netns del "$NS" 2>/dev/null
  rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { echo "${EPOCHREALTIME/./}"; }          # microseconds
ms() { awk -v u="$1" 'BEGIN{printf "%.0f", u/1000}'; }
mem_avail() { awk '/^MemAvailable:/{print $2}' /proc/meminfo; }
# rollup PID...: "PSS_KiB RSS_KiB" summed over the processes.
rollup() {
  local p pss=0 rss=0 a b
  for p in "$@"; do
    read -r a b < <(awk '/^Pss:/{p=$2} /^Rss:/{r=$2} END{print p+0, r+0}' "/proc/$p/smaps_rollup" 2>/dev/null || echo "0 0")
    pss=$((pss + a)) rss=$((rss + b))
  done
  echo "$pss $rss"
}
# pctl FILE P: the P-th percentile (nearest rank) of the numbers in FILE, in ms.
pctl() { sort -n "$1" | awk -v p="$2" '{v[NR]=$1} END{i=int((p*NR+99)/100); if(i<1)i=1; printf "%.1f", v[i]/1000}'; }
# lat OUT COMMAND...: runs COMMAND $CALLS times, one latency (us) a line.
lat() {
  local out=$1 i t0 t1; shift
  : >"$out"
  for ((i = 0; i < CALLS; i++)); do
    # $EPOCHREALTIME read in place: a $(now) subshell would fork inside
    # the measured interval.
    t0=${EPOCHREALTIME/./}; "$@" >/dev/null 2>&1 || true; t1=${EPOCHREALTIME/./}
    echo $((t1 - t0)) >>"$out"
  done
}
# api OUT PATH: $CALLS GET requests on berthd's socket from one process (the
# API without the CLI's process start), one latency (us) a line.
api() {
  python3 - "$BERTH_SOCKET" "$2" "$CALLS" >"$1" <<'PY'
import socket, sys, time
sock, path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
req = f"GET {path} HTTP/1.1\r\nHost: berthd\r\nConnection: close\r\n\r\n".encode()
for _ in range(n):
    t = time.perf_counter()
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock)
    s.sendall(req)
    while s.recv(65536):
        pass
    s.close()
    print(int((time.perf_counter() - t) * 1e6))
PY
}
stall() { echo "$PROG: $1" >&2; tail -20 "$DIR/berthd.log" >&2 2>/dev/null; exit 1; }

ip netns add "$NS"
ip -n "$NS" link set lo up

echo "# system containers with networking: N=$N, $PAR concurrent starts, kernel $(uname -r), $(nproc) cpus, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# cgroups: $(if [ -f /sys/fs/cgroup/cgroup.controllers ]; then echo v2; else echo hybrid; fi); berth disks $DISK each; $(lxc-start --version 2>/dev/null | sed 's/^/lxc /' || echo 'lxc n/a')"

# ---- berth ----
# berthd's run directory on a tmpfs, as /run is on a systemd host (on this
# kind of machine it may be the root file system, whose inode allocation
# then costs each start's runtime state files).
mkdir -p "$DIR/run"
findmnt -n -o FSTYPE -T /run | grep -qx tmpfs || mount -t tmpfs -o mode=0755 berth-bench-run "$DIR/run"
# nsenter --net (no fork: $! is berthd): its mounts stay in this mount namespace.
nsenter --net="/run/netns/$NS" "$BIN/berthd" --state-dir "$DIR/state" --run-dir "$DIR/run" --socket "$BERTH_SOCKET" \
  --cgroup-parent "berth-$TAG" --monitor "$BIN/berth-monitor" >"$DIR/berthd.log" 2>&1 &
DAEMON=$!
for _ in $(seq 100); do [ -S "$BERTH_SOCKET" ] && break; sleep 0.1; done
[ -S "$BERTH_SOCKET" ] || stall "berthd did not come up"
berth image build-template busybox berth/busybox >/dev/null || stall "build-template failed"
berth network create lan --mode bridged --subnet 198.18.0.0/22 >/dev/null || stall "network create failed"
t0=$(now)
names b | xargs -P "$PAR" -I{} "$BIN/berth" create {} --template berth/busybox --disk "$DISK" --net lan \
  >"$DIR/create.out" 2>&1 || stall "berth create failed: $(grep -m3 . "$DIR/create.out")"
B_CREATE=$(($(now) - t0))
sync; sleep 1
B_AVAIL0=$(mem_avail)
t0=$(now)
names b | xargs -P "$PAR" -I{} "$BIN/berth" start {} >"$DIR/start.out" 2>&1 || stall "berth start failed: $(grep -m3 . "$DIR/start.out")"
B_START=$(($(now) - t0))
B_RUN=$(berth list --format json | jq '[.[] | select(.state == "running")] | length')
[ "$B_RUN" = "$N" ] || stall "berth: $B_RUN of $N running after the starts"
sleep 2
B_AVAIL1=$(mem_avail)
mapfile -t BMON < <(pgrep -f -- "--bundle $DIR/" || true)
read -r B_PSS B_RSS < <(rollup "${BMON[@]}")
B_HELP=$({ pgrep -f -- "berth-nethook" || true; } | wc -l)
B_D_RSS=$(awk '/^VmRSS:/{print $2}' "/proc/$DAEMON/status")
lat "$DIR/b_list" "$BIN/berth" list
lat "$DIR/b_status" "$BIN/berth" status "b$(( (N + 1) / 2 ))"
lat "$DIR/b_exec" "$BIN/berth" exec b1 -- true
api "$DIR/b_alist" /v1/containers
api "$DIR/b_astatus" "/v1/containers/b$(( (N + 1) / 2 ))"
B_ADDR=$(berth exec b1 -- ip -4 -o addr show eth0 2>/dev/null | awk '{print $4}' || true)
B_NMON=${#BMON[@]}

# Stop berth's containers before LXC's start, so each side is measured alone.
names b | xargs -P "$PAR" -I{} "$BIN/berth" stop {} --force >/dev/null 2>&1 || true

# ---- LXC ----
L_START= L_PSS= L_RSS= L_NMON=0 L_AVAIL0= L_AVAIL1= L_RUN=0 L_ADDR= L_HELP=0
if [ "$LXC" = 1 ]; then
  mkdir -p "$LXCP"
  ip -n "$NS" link add "$LXCBR" type bridge
  ip -n "$NS" addr add 198.19.0.1/22 dev "$LXCBR"
  ip -n "$NS" link set "$LXCBR" up
  cat >"$DIR/lxc.conf" <<EOF
lxc.net.0.type = veth
lxc.net.0.link = $LXCBR
lxc.net.0.flags = up
lxc.net.0.ipv4.gateway = 198.19.0.1
lxc.apparmor.profile = unconfined
EOF
  t0=$(now)
  names l | xargs -P "$PAR" -I{} lxc-create -P "$LXCP" -n {} -f "$DIR/lxc.conf" -t busybox \
    >"$DIR/lxc-create.out" 2>&1 || stall "lxc-create failed: $(grep -m3 -i err "$DIR/lxc-create.out")"
  L_CREATE=$(($(now) - t0))
  for i in $(seq "$N"); do
    # The template's rcS asks udhcpc for an address (and waits for one):
    # the address here is static, as berth's is.
    sed -i '/udhcpc/d' "$LXCP/l$i/rootfs/etc/init.d/rcS"
    # Host i+1 of the /22 (.0.1 is the bridge's): 198.19.0.2 up to 198.19.3.233.
    echo "lxc.net.0.ipv4.address = 198.19.$(((i + 1) / 256)).$(((i + 1) % 256))/22" >>"$LXCP/l$i/config"
  done
  sync; sleep 1
  L_AVAIL0=$(mem_avail)
  t0=$(now)
  # lxc-start -d returns once the container runs (it waits for RUNNING).
  names l | xargs -P "$PAR" -I{} ip netns exec "$NS" lxc-start -P "$LXCP" -n {} -d \
    >"$DIR/lxc-start.out" 2>&1 || stall "lxc-start failed: $(grep -m3 . "$DIR/lxc-start.out")"
  running() { L_RUN=$(lx lxc-ls -P "$LXCP" --running | wc -w); [ "$L_RUN" -ge "$N" ]; }
  end=$((SECONDS + 120))
  until running; do [ $SECONDS -lt $end ] || stall "lxc: $L_RUN of $N running"; sleep 0.05; done
  L_START=$(($(now) - t0))
  sleep 2
  L_AVAIL1=$(mem_avail)
  mapfile -t LMON < <(pgrep -f "^\[lxc monitor\] $LXCP " || true)
  read -r L_PSS L_RSS < <(rollup "${LMON[@]}")
  L_NMON=${#LMON[@]}
  CALLS=$LCALLS lat "$DIR/l_list" lx lxc-ls -P "$LXCP" --fancy
  CALLS=$LCALLS lat "$DIR/l_status" lx lxc-info -P "$LXCP" -n "l$(( (N + 1) / 2 ))"
  CALLS=$LCALLS lat "$DIR/l_exec" lx lxc-attach -P "$LXCP" -n l1 -- true
  L_ADDR=$(lx lxc-attach -P "$LXCP" -n l1 -- ip -4 -o addr show eth0 2>/dev/null | awk '{print $4}' || true)
fi

# ---- table ----
per() { [ -n "$1" ] && [ "$2" -gt 0 ] && awk -v a="$1" -v n="$2" 'BEGIN{printf "%.0f", a/n}' || echo n/a; }
ratio() { [ -n "$2" ] && [ "$2" != n/a ] && [ "$1" != n/a ] && awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.2f", a/b; else print "n/a" }' || echo n/a; }
B_PSS1=$(per "$B_PSS" "$B_NMON") B_RSS1=$(per "$B_RSS" "$B_NMON")
L_PSS1=$(per "$L_PSS" "$L_NMON") L_RSS1=$(per "$L_RSS" "$L_NMON")
B_SYS=$(per $((B_AVAIL0 - B_AVAIL1)) "$N")
L_SYS=n/a; [ -n "$L_AVAIL0" ] && L_SYS=$(per $((L_AVAIL0 - L_AVAIL1)) "$N")
B_ALL=$(ms "$B_START"); L_ALL=n/a; [ -n "$L_START" ] && L_ALL=$(ms "$L_START")
B_LP50=$(pctl "$DIR/b_list" 50) B_LP99=$(pctl "$DIR/b_list" 99)
B_SP50=$(pctl "$DIR/b_status" 50) B_SP99=$(pctl "$DIR/b_status" 99)
B_EP50=$(pctl "$DIR/b_exec" 50) B_EP99=$(pctl "$DIR/b_exec" 99)
L_LP50=n/a L_LP99=n/a L_SP50=n/a L_SP99=n/a L_EP50=n/a L_EP99=n/a
if [ -s "$DIR/l_list" ]; then
  L_LP50=$(pctl "$DIR/l_list" 50) L_LP99=$(pctl "$DIR/l_list" 99)
  L_SP50=$(pctl "$DIR/l_status" 50) L_SP99=$(pctl "$DIR/l_status" 99)
  L_EP50=$(pctl "$DIR/l_exec" 50) L_EP99=$(pctl "$DIR/l_exec" 99)
fi
echo "# berth: $B_NMON monitors, ${B_HELP} helper processes; b1 eth0 ${B_ADDR:-?}; created in $(ms "$B_CREATE") ms"
[ "$LXC" = 1 ] && echo "# lxc:   $L_NMON monitors; l1 eth0 ${L_ADDR:-?}; created in $(ms "$L_CREATE") ms"
printf '%-38s %12s %12s %8s\n' metric berth lxc berth/lxc
row() { printf '%-38s %12s %12s %8s\n' "$1" "$2" "$3" "$(ratio "$2" "$3")"; }
row "start $N, all running (ms)" "$B_ALL" "$L_ALL"
row "monitor PSS per ctr (KiB)" "$B_PSS1" "$L_PSS1"
row "monitor RSS per ctr (KiB)" "$B_RSS1" "$L_RSS1"
row "MemAvailable drop per ctr (KiB)" "$B_SYS" "$L_SYS"
row "$(cat /proc/$DAEMON/comm 2>/dev/null || echo berthd) RSS (KiB)" "$B_D_RSS" "-"
row "list p50 (ms)" "$B_LP50" "$L_LP50"
row "list p99 (ms)" "$B_LP99" "$L_LP99"
row "status p50 (ms)" "$B_SP50" "$L_SP50"
row "status p99 (ms)" "$B_SP99" "$L_SP99"
row "exec true p50 (ms)" "$B_EP50" "$L_EP50"
row "exec true p99 (ms)" "$B_EP99" "$L_EP99"
row "API GET /v1/containers p50 (ms)" "$(pctl "$DIR/b_alist" 50)" "-"
row "API GET /v1/containers p99 (ms)" "$(pctl "$DIR/b_alist" 99)" "-"
row "API GET /v1/containers/NAME p99 (ms)" "$(pctl "$DIR/b_astatus" 99)" "-"
echo "# API rows: berthd's socket from one client process, no CLI start (LXC has no API daemon)"
echo "# list/status: one CLI process per call ($CALLS calls each; lxc: $LCALLS of ip netns exec + lxc-ls --fancy, lxc-info, lxc-attach)"

goal() { printf 'goal: %-46s %s\n' "$1" "$(if awk "BEGIN{exit !($2)}" 2>/dev/null; then echo met; else echo MISSED; fi)"; }
[ "$L_ALL" != n/a ] && goal "start all faster than LXC ($B_ALL vs $L_ALL ms)" "$B_ALL < $L_ALL"
[ "$L_PSS1" != n/a ] && goal "monitor PSS <= 0.5x LXC's ($B_PSS1 vs $L_PSS1 KiB)" "$B_PSS1 <= 0.5 * $L_PSS1"
goal "monitor RSS < 1 MiB ($B_RSS1 KiB)" "$B_RSS1 < 1024"
goal "berthd RSS < 64 MiB ($B_D_RSS KiB)" "$B_D_RSS < 65536"
goal "list p99 < 10 ms (CLI $B_LP99 ms)" "$B_LP99 < 10"
B_ALP99=$(pctl "$DIR/b_alist" 99)
goal "list p99 < 10 ms (API $B_ALP99 ms)" "$B_ALP99 < 10"
exit 0
