#!/usr/bin/env bash
# Usage: bench/images.sh [options]
#
# Image benchmark: berth-image against its anchors, in one run.
#   pull       a multi-layer image from Debian's docker-registry on
#              127.0.0.1 (plain HTTP, started here): `berth-image pull
#              --no-unpack` vs `skopeo copy docker://... oci:DIR` (both
#              store blobs only), plus berth's pull with its layers unpacked
#   unpack     the same image (~210 MB uncompressed; ~25 MB in --short) into
#              a root filesystem: `berth-image unpack` vs `umoci raw unpack`
#              and `umoci unpack` (which also writes its mtree manifest)
#   provision  N container root filesystems from one image, each with a
#              10 GiB quota: disk create (sparse ext4 from the cache) and
#              mount (loop + ext4 + overlay) in one process through the
#              library (berth-bench-provision, as the supervisor does it),
#              and through the berth-image CLI; the floor is a bare overlay
#              mount of the same layers by the shell, with no quota
# Each test is repeated R times (median); ratios are berth/anchor.
#
# Options:
#   --image-bin PATH  berth-image binary (default <repo>/build/images/cli/berth-image)
#   -r R              repetitions of pull and unpack (default 3)
#   -n N              containers to provision (default 100)
#   --short           small image, R=1, N=5 (CI smoke mode; never fails on a time)
#   -h, --help        this help
#
# Exit status: 0 unless berth-image itself fails (1); usage errors 2.
set -euo pipefail

source "$(dirname "$(readlink -f -- "${BASH_SOURCE[0]}")")/lib/common.sh"

BIN=$REPO/build/images/cli/berth-image
PROV=
R=3 N=100 SHORT=0
while (($#)); do
  case $1 in
    --image-bin) (($# >= 2)) || die "--image-bin needs a path"; BIN=$2; shift 2 ;;
    -r) (($# >= 2)) || die "-r needs a number"; R=$2; shift 2 ;;
    -n) (($# >= 2)) || die "-n needs a number"; N=$2; shift 2 ;;
    --short) SHORT=1; R=1; N=5; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done
[[ $R =~ ^[1-9][0-9]*$ && $N =~ ^[1-9][0-9]*$ ]] || die "bad -r or -n"
[[ $BIN == /* ]] || BIN=$PWD/$BIN
[ -x "$BIN" ] || die "no berth-image at $BIN (build first)"
PROV=${PROV:-$(dirname "$(dirname "$(dirname "$BIN")")")/bench/berth-bench-provision}
[ -x "$PROV" ] || die "no berth-bench-provision at $PROV (build first)"
for t in docker-registry skopeo umoci python3 mkfs.ext4; do
  command -v "$t" >/dev/null || die "$t is missing (scripts/deps.sh installs it)"
done
[ "$(id -u)" = 0 ] || die "run as root (loop devices and mounts)"

W=$(mktemp -d /tmp/berth-bench-images.XXXXXX)
REG_PID=
cleanup() {
  set +e
  [ -n "$REG_PID" ] && kill "$REG_PID" && wait "$REG_PID" 2>/dev/null
  for d in "$W"/disks/*; do [ -d "$d" ] && "$BIN" --store "$W/store" disk destroy "$d" >/dev/null 2>&1; done
  for m in $(grep -o " $W/[^ ]*" /proc/self/mountinfo | sort -r); do umount "$m"; done
  rm -rf "$W"
}
trap cleanup EXIT

now() { date +%s%N; }
ms() { echo $(( ($2 - $1) / 1000000 )); }          # ms START END
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }'; }
row() { printf '%-34s %10s %10s %8s\n' "$@"; }

# --- the image -------------------------------------------------------------
if [ "$SHORT" = 1 ]; then SRC=(/usr/share/zoneinfo /usr/share/perl); else SRC=(/usr/lib/python3 /usr/share/doc /usr/share/zoneinfo); fi
"$REPO/bench/lib/mkocilayout.sh" "$W/layout" bench "${SRC[@]}"
raw_mb=$(du -sm --apparent-size "${SRC[@]}" | awk '{s+=$1} END {print s}')
gz_mb=$(du -sm --apparent-size "$W/layout/blobs" | cut -f1)

# --- a registry ------------------------------------------------------------
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$W/registry.yml" <<YML
version: 0.1
storage: { filesystem: { rootdirectory: $W/registry } }
http: { addr: 127.0.0.1:$PORT }
log: { level: error }
YML
docker-registry serve "$W/registry.yml" >"$W/registry.log" 2>&1 &
REG_PID=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/v2/" >/dev/null && break; sleep 0.1; done
skopeo --insecure-policy copy -q --dest-tls-verify=false "oci:$W/layout:bench" "docker://127.0.0.1:$PORT/bench:1"
REF=127.0.0.1:$PORT/bench:1

# --- pull ------------------------------------------------------------------
b_pull=() s_pull=() b_pull_unpack=()
for i in $(seq "$R"); do
  t0=$(now); "$BIN" --quiet --store "$W/pull-b$i" pull --plain-http --no-unpack "$REF" >/dev/null; t1=$(now)
  b_pull+=("$(ms "$t0" "$t1")")
  t0=$(now); skopeo --insecure-policy copy -q --src-tls-verify=false "docker://$REF" "oci:$W/pull-s$i:bench" >/dev/null; t1=$(now)
  s_pull+=("$(ms "$t0" "$t1")")
  t0=$(now); "$BIN" --quiet --store "$W/pull-u$i" pull --plain-http "$REF" >/dev/null; t1=$(now)
  b_pull_unpack+=("$(ms "$t0" "$t1")")
  [ "$i" = "$R" ] || rm -rf "$W/pull-b$i" "$W/pull-s$i" "$W/pull-u$i"
done
bp=$(printf '%s\n' "${b_pull[@]}" | median); sp=$(printf '%s\n' "${s_pull[@]}" | median)
bpu=$(printf '%s\n' "${b_pull_unpack[@]}" | median)

# --- unpack ----------------------------------------------------------------
"$BIN" --quiet --store "$W/store" import-oci "$W/layout" bench >/dev/null
b_un=() u_raw=() u_full=()
for i in $(seq "$R"); do
  sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
  t0=$(now); "$BIN" --store "$W/store" unpack bench "$W/un-b$i" >/dev/null; t1=$(now)
  b_un+=("$(ms "$t0" "$t1")")
  sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
  t0=$(now); umoci raw unpack --image "$W/layout:bench" "$W/un-r$i" >/dev/null 2>&1; t1=$(now)
  u_raw+=("$(ms "$t0" "$t1")")
  sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
  t0=$(now); umoci unpack --image "$W/layout:bench" "$W/un-u$i" >/dev/null 2>&1; t1=$(now)
  u_full+=("$(ms "$t0" "$t1")")
  rm -rf "$W/un-b$i" "$W/un-r$i" "$W/un-u$i"
done
bu=$(printf '%s\n' "${b_un[@]}" | median); ur=$(printf '%s\n' "${u_raw[@]}" | median)
uf=$(printf '%s\n' "${u_full[@]}" | median)
mbps() { awk -v mb="$raw_mb" -v t="$1" 'BEGIN { if (t > 0) printf "%.0f", mb * 1000 / t; else print "-" }'; }

# --- provision -------------------------------------------------------------
mkdir -p "$W/disks" "$W/floor"
"$BIN" --store "$W/store" disk create --size 10G bench "$W/disks/warm" >/dev/null   # unpacks layers, fills the cache
lower=$(jq -r '.diffIds | reverse | map("'"$W/store"'/layers/sha256/" + ltrimstr("sha256:")) | join(":")' "$W/disks/warm/disk.json")
"$BIN" --store "$W/store" disk destroy "$W/disks/warm"
# In one process, as the supervisor provisions: create, mount, destroy.
read -r create_ms mount_ms destroy_ms < <("$PROV" "$W/store" bench "$W/disks" "$N" 10G)
# Through the CLI, one process per step (what a shell script pays).
t0=$(now)
for i in $(seq "$N"); do
  "$BIN" --store "$W/store" disk create --size 10G bench "$W/disks/c$i" >/dev/null
  "$BIN" --store "$W/store" disk mount "$W/disks/c$i" >/dev/null
done
t1=$(now)
for i in $(seq "$N"); do "$BIN" --store "$W/store" disk destroy "$W/disks/c$i"; done
t4=$(now)
for i in $(seq "$N"); do
  mkdir -p "$W/floor/$i/u" "$W/floor/$i/w" "$W/floor/$i/r"
  mount -t overlay overlay -o "lowerdir=$lower,upperdir=$W/floor/$i/u,workdir=$W/floor/$i/w" "$W/floor/$i/r"
done
t5=$(now)
for i in $(seq "$N"); do umount "$W/floor/$i/r"; done
leftover=$(losetup -a | grep -c "$W" || true)
per() { awk -v a="$1" -v b="$2" -v n="$N" 'BEGIN { printf "%.2f", (b - a) / 1e6 / n }'; }
cli_ms=$(per "$t0" "$t1"); floor_ms=$(per "$t4" "$t5")
prov_ms=$(awk -v a="$create_ms" -v b="$mount_ms" 'BEGIN { printf "%.2f", a + b }')

# --- table -----------------------------------------------------------------
echo
echo "berth images benchmark — $(nproc) CPUs, image ${raw_mb} MB in ${#SRC[@]} layers (${gz_mb} MB gzip), R=$R, N=$N"
row "test" "berth" "anchor" "ratio"
row "pull, blobs only (ms)" "$bp" "$sp" "$(ratio "$bp" "$sp")"
row "pull + unpack layers (ms)" "$bpu" "-" "-"
row "unpack vs umoci raw unpack (ms)" "$bu" "$ur" "$(ratio "$bu" "$ur")"
row "unpack vs umoci unpack (ms)" "$bu" "$uf" "$(ratio "$bu" "$uf")"
row "unpack throughput (MB/s)" "$(mbps "$bu")" "$(mbps "$ur")" "$(ratio "$ur" "$bu")"
row "provision: disk create (ms/ctr)" "$create_ms" "-" "-"
row "provision: disk mount (ms/ctr)" "$mount_ms" "-" "-"
row "provision: create+mount (ms/ctr)" "$prov_ms" "$floor_ms" "$(ratio "$prov_ms" "$floor_ms")"
row "provision via CLI, 2 execs (ms/ctr)" "$cli_ms" "$floor_ms" "$(ratio "$cli_ms" "$floor_ms")"
row "unmount+destroy (ms/ctr)" "$destroy_ms" "-" "-"
echo "(throughput ratio is umoci raw/berth time: above 1 means berth is faster; provisioning anchor:"
echo " a bare overlay mount by the shell with no quota; berth's disks carry a 10 GiB ext4 quota each)"
echo "loop devices left: $leftover"
[ "$leftover" = 0 ] || exit 1
