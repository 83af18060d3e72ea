#!/usr/bin/env bash
# debian.sh — Debian 12 system containers, berth against LXC in one run:
# N of each, started PAR at a time, each timed from its start to systemd's
# `is-system-running --wait` answering running (asked again only while
# systemd inside cannot answer yet, so the figure is the boot's end, not a
# polling interval's; LXC's guest without a network
# ends degraded: its networking.service fails; that counts as booted),
# then the memory an idle guest costs: its cgroup's anonymous and shmem
# pages (page cache is charged to whoever read a file first) and the
# manager's monitor per container (PSS).
# berth's guests are unprivileged (a user namespace each, on a disk image
# with a quota, lxcfs views); LXC's are privileged on a plain directory, as
# `lxc-create -t debian` makes them: said beside the figures. Neither has
# a network (LXC: lxc.net.0.type = empty). The templates: berth's built
# by berth-image (debootstrap, cached in BERTH_TEMPLATE_CACHE), LXC's by
# lxc-create -t debian -- -r bookworm (cached by LXC), both from the
# host's namespace. Measures; never fails on a time.
#
#   bench/debian.sh              # N=10
#   bench/debian.sh --short      # N=1 (CI smoke)
#   options: -n N   -P PARALLEL (8)   --no-lxc   --build DIR (default <repo>/build, or $BERTH_BUILD)
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

N=10 PAR=8 LXC=1
BUILD=${BERTH_BUILD:-$REPO/build}
while [ $# -gt 0 ]; do
  case $1 in
    --short) N=1 ;;
    -n) N=$2; shift ;;
    -P) PAR=$2; shift ;;
    --no-lxc) LXC=0 ;;
    --build) BUILD=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option $1" ;;
  esac
  shift
done
[ "$(id -u)" = 0 ] || die "run as root"
[[ $N =~ ^[1-9][0-9]*$ ]] && [ "$N" -le 200 ] || die "-n: expected 1..200"
BIN=$BUILD/supervisor
for b in berthd berth berth-monitor; do [ -x "$BIN/$b" ] || die "build $b in $BUILD first"; done
IMAGE=$BUILD/images/cli/berth-image
if [ "$LXC" = 1 ] && ! [ -x /usr/share/lxc/templates/lxc-debian ]; then
  echo "$PROG: lxc-templates is not installed (scripts/deps.sh): LXC column n/a" >&2
  LXC=0
fi
CACHE=${BERTH_TEMPLATE_CACHE:-/var/tmp/berth-template-cache}

TAG=bdeb$$
DIR=$(mktemp -d /tmp/berth-bench-debian.XXXXXX)
chmod 711 "$DIR"
LXCP=$DIR/lxc
export BERTH_SOCKET=$DIR/berthd.sock
DAEMON=
names() { seq -f "$1%g" "$N"; }
cleanup() {
  set +e
  trap - EXIT INT TERM
  if [ -n "$DAEMON" ]; then
    names d | xargs -P "$PAR" -I{} "$BIN/berth" stop {} --force >/dev/null 2>&1
    names d | xargs -P "$PAR" -I{} "$BIN/berth" destroy {} >/dev/null 2>&1
    kill "$DAEMON" 2>/dev/null; wait "$DAEMON" 2>/dev/null
  fi
  if [ -d "$LXCP" ]; then
    names e | xargs -P "$PAR" -I{} lxc-stop -P "$LXCP" -n {} -k >/dev/null 2>&1
    names e | xargs -P "$PAR" -I{} lxc-destroy -P "$LXCP" -n {} >/dev/null 2>&1
  fi
  { grep -o " $DIR/[^ ]*" /proc/self/mountinfo || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
  find /sys/fs/cgroup -mindepth 2 -maxdepth 2 -type d \( -name "berth-$TAG" -o -name lxc.pivot \
    -o -regex ".*/lxc\.\(payload\|monitor\)\.e[0-9]+" \) -exec rmdir {} + 2>/dev/null
  rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ms() { echo $(( ${EPOCHREALTIME/./} / 1000 )); }
pss() { local p s=0; for p in "$@"; do s=$((s + $(awk '/^Pss:/{print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0))); done; echo "$s"; }
# cgroup_kib REL: the guest's own memory in the cgroup REL (v1 memory
# hierarchy or v2), KiB: anonymous and shmem (tmpfs) pages. Page cache is
# left out: it is charged to whichever cgroup read a file first (the
# template's files to the first guest, LXC's rootfs to lxc-create).
cgroup_kib() {
  local f
  f="/sys/fs/cgroup/memory$1/memory.stat"
  [ -r "$f" ] && { awk '$1 == "total_rss" || $1 == "total_shmem" {s += $2} END {print int(s / 1024)}' "$f"; return; }
  f="/sys/fs/cgroup$1/memory.stat"
  [ -r "$f" ] && { awk '$1 == "anon" || $1 == "shmem" {s += $2} END {print int(s / 1024)}' "$f"; return; }
  echo 0
}
median() { sort -n | awk '{v[NR]=$1} END{if (NR) print v[int((NR+1)/2)]; else print "n/a"}'; }
sum() { awk '{s+=$1} END{print s+0}'; }

# ---- templates (host namespace: debootstrap reaches the archive from here) ----
"$IMAGE" --quiet --store "$CACHE/store" build-template debian berth/debian --packages openssh-server >/dev/null
if [ "$LXC" = 1 ]; then
  mkdir -p "$LXCP"
  printf 'lxc.net.0.type = empty\nlxc.apparmor.profile = unconfined\n' > "$DIR/lxc.conf"
  names e | xargs -P 2 -I{} lxc-create -P "$LXCP" -n {} -f "$DIR/lxc.conf" -t debian -- -r bookworm \
    >"$DIR/lxc-create.out" 2>&1 || die "lxc-create -t debian failed: $(tail -3 "$DIR/lxc-create.out")"
fi

# ---- berth ----
mkdir -p "$DIR/state"
ln -s "$CACHE/store" "$DIR/state/images"
"$BIN/berthd" --state-dir "$DIR/state" --run-dir "$DIR/run" --socket "$BERTH_SOCKET" --cgroup-parent "berth-$TAG" \
  --monitor "$BIN/berth-monitor" --subuid "$DIR/none" --subgid "$DIR/none" >"$DIR/berthd.log" 2>&1 &
DAEMON=$!
for _ in $(seq 100); do "$BIN/berth" list >/dev/null 2>&1 && break; sleep 0.05; done
names d | xargs -P "$PAR" -I{} "$BIN/berth" create {} --template berth/debian --disk 2G --ram 512M >/dev/null
# boot_berth NAME: start it, then poll until systemd says running; prints ms.
boot_berth() {
  local t0 s i
  t0=$(now_ms)
  "$BIN/berth" start "$1" >/dev/null
  for i in $(seq 600); do
    s=$("$BIN/berth" exec "$1" systemctl is-system-running --wait 2>/dev/null || true)
    case $s in running|degraded) echo "$(( $(now_ms) - t0 )) $s"; return ;; esac
    sleep 0.1
  done
  echo "$(( $(now_ms) - t0 )) ${s:-none}"
}
sync; sleep 1
t0=$(now_ms)
export -f boot_berth now_ms; export BIN
names d | xargs -P "$PAR" -I{} bash -c 'boot_berth {}' >"$DIR/b_boot"
B_ALL=$(( $(now_ms) - t0 ))
sleep 5
B_CG=$(for n in $(names d); do cgroup_kib "/berth-$TAG/$n"; done | sum)
mapfile -t BMON < <(pgrep -f -- "--bundle $DIR/" || true)
B_PSS=$(pss "${BMON[@]}")
B_STATES=$(awk '{print $2}' "$DIR/b_boot" | sort | uniq -c | awk '{printf "%s%s x%s", (NR>1?", ":""), $2, $1}')

# ---- LXC ----
L_ALL= L_CG= L_PSS= L_STATES=
if [ "$LXC" = 1 ]; then
  boot_lxc() {
    local t0 s i
    t0=$(now_ms)
    lxc-start -P "$LXCP" -n "$1" -d >/dev/null 2>&1
    for i in $(seq 600); do
      s=$(lxc-attach -P "$LXCP" -n "$1" -- systemctl is-system-running --wait 2>/dev/null || true)
      case $s in running|degraded) echo "$(( $(now_ms) - t0 )) $s"; return ;; esac
      sleep 0.1
    done
    echo "$(( $(now_ms) - t0 )) ${s:-none}"
  }
  export -f boot_lxc; export LXCP
  sync; sleep 1
  t0=$(now_ms)
  names e | xargs -P "$PAR" -I{} bash -c 'boot_lxc {}' >"$DIR/l_boot"
  L_ALL=$(( $(now_ms) - t0 ))
  sleep 5
  L_CG=$(for n in $(names e); do cgroup_kib "/lxc.payload.$n"; done | sum)
  mapfile -t LMON < <(pgrep -f "^\[lxc monitor\] $LXCP " || true)
  L_PSS=$(pss "${LMON[@]}")
  L_STATES=$(awk '{print $2}' "$DIR/l_boot" | sort | uniq -c | awk '{printf "%s%s x%s", (NR>1?", ":""), $2, $1}')
fi

# ---- table ----
per() { [ -n "$1" ] && awk -v a="$1" -v n="$N" 'BEGIN{printf "%.0f", a/n}' || echo n/a; }
ratio() { [ "$2" != n/a ] && [ "$1" != n/a ] && awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.2f", a/b; else print "n/a" }' || echo n/a; }
row() { printf '%-44s %12s %12s %8s\n' "$1" "$2" "$3" "$4"; }
lmed=n/a; [ "$LXC" = 1 ] && lmed=$(awk '{print $1}' "$DIR/l_boot" | median)
echo
echo "Debian 12 system containers: N=$N, started $PAR at a time, no network"
echo "berth: unprivileged (user namespace), 2G disk image with quota, lxcfs; LXC $(lxc-start --version 2>/dev/null || echo -): privileged, plain directory"
row "metric" berth LXC berth/LXC
bmed=$(awk '{print $1}' "$DIR/b_boot" | median)
row "start to running, median per guest (ms)" "$bmed" "$lmed" "$(ratio "$bmed" "$lmed")"
row "all N running (ms)" "$B_ALL" "${L_ALL:-n/a}" "$(ratio "$B_ALL" "${L_ALL:-n/a}")"
bcg=$(per "$B_CG") lcg=$(per "$L_CG") bp=$(per "$B_PSS") lp=$(per "$L_PSS")
row "guest anon+shmem per container (KiB)" "$bcg" "$lcg" "$(ratio "$bcg" "$lcg")"
row "monitor PSS per container (KiB)" "$bp" "$lp" "$(ratio "$bp" "$lp")"
bt=n/a lt=n/a
[ "$bcg" != n/a ] && [ "$bp" != n/a ] && bt=$((bcg + bp))
[ "$lcg" != n/a ] && [ "$lp" != n/a ] && lt=$((lcg + lp))
row "memory per idle guest, both (KiB)" "$bt" "$lt" "$(ratio "$bt" "$lt")"
echo "states reached: berth: $B_STATES; LXC: ${L_STATES:-n/a}"
