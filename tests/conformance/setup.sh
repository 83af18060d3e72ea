#!/usr/bin/env bash
# Usage: tests/conformance/setup.sh [--src TARBALL|DIR] [--force]
#
# Installs and builds the OCI runtime-tools validation suite (the
# validation/*/ binaries and the runtimetest helper they copy into every
# container) into a cache outside the repository, offline:
#
#   $CACHE/gopath/src/...   the suite's sources (GOPATH layout)
#   $CACHE/bin/runtimetest, $CACHE/bin/validation/<test>
#
# CACHE is $BERTH_CONFORMANCE_CACHE, default /var/tmp/berth-conformance.
# Idempotent: installs only missing Debian packages and rebuilds only when
# the sources, the Go toolchain or the Debian runtime-tools library change.
#
# Where the sources come from: Debian ships the runtime-tools *library*
# (golang-github-opencontainers-runtime-tools-dev: generate/, validate/,
# specerror/, cgroups/ ...) but not its validation/ tests nor
# cmd/runtimetest, and the machine reaches no Git host or Go proxy.  The
# suite's own sources (validation/, cmd/runtimetest/ and the one-file
# github.com/mndrix/tap-go) therefore come from a tarball, looked up in this
# order: --src, $BERTH_CONFORMANCE_SRC, <repo>/../shared/conformance/
# runtime-tools-validation-src.tar.gz, $CACHE/runtime-tools-validation-src.tar.gz,
# or an already unpacked $CACHE/gopath.  Its PROVENANCE file says which
# upstream file versions it holds.  Without any of them this exits 77.
#
# Exit status: 0 built (or up to date); 77 sources unavailable; 1 error.
set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd -- "$HERE/../.." && pwd)
CACHE=${BERTH_CONFORMANCE_CACHE:-/var/tmp/berth-conformance}
SRC=${BERTH_CONFORMANCE_SRC:-}
FORCE=0
while (($#)); do
  case $1 in
    --src) SRC=$2; shift 2 ;;
    --force) FORCE=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "setup.sh: unknown argument $1" >&2; exit 1 ;;
  esac
done
log() { printf 'conformance-setup: %s\n' "$*" >&2; }
tmp='' out=''
trap 'rm -rf -- ${tmp:+"$tmp"} ${out:+"$out"}' EXIT

# ------------------------------------------------------------ packages ---
pkgs=(golang-go golang-github-opencontainers-runtime-tools-dev golang-github-google-uuid-dev
      busybox-static util-linux tar gzip python3)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# ------------------------------------------------------------- sources ---
GOPATH_DIR=$CACHE/gopath
SUITE=$GOPATH_DIR/src/github.com/opencontainers/runtime-tools
if [[ -z $SRC ]]; then
  for c in "$ROOT/../shared/conformance/runtime-tools-validation-src.tar.gz" \
           "$CACHE/runtime-tools-validation-src.tar.gz"; do
    if [[ -f $c ]]; then SRC=$c; break; fi
  done
fi
mkdir -p "$CACHE"
if [[ -n $SRC ]]; then
  if [[ -d $SRC ]]; then
    want="dir:$(cd "$SRC" && find . -type f -name '*.go' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)"
  elif [[ -f $SRC ]]; then
    want="tar:$(sha256sum < "$SRC" | cut -c1-16)"
  else
    log "--src $SRC: no such file or directory"; exit 1
  fi
  if [[ $(cat "$GOPATH_DIR/.source" 2>/dev/null) != "$want" || ! -d $SUITE/validation ]]; then
    log "unpacking suite sources from $SRC"
    tmp=$(mktemp -d "$CACHE/gopath.new.XXXXXX")
    if [[ -d $SRC ]]; then cp -a "$SRC/." "$tmp/"; else tar -xzf "$SRC" -C "$tmp"; fi
    [[ -d $tmp/src/github.com/opencontainers/runtime-tools/validation ]] \
      || { rm -rf "$tmp"; log "$SRC has no src/github.com/opencontainers/runtime-tools/validation"; exit 1; }
    echo "$want" > "$tmp/.source"
    rm -rf "$GOPATH_DIR.old"
    if [[ -d $GOPATH_DIR ]]; then mv "$GOPATH_DIR" "$GOPATH_DIR.old"; fi
    mv "$tmp" "$GOPATH_DIR"
    tmp=
    rm -rf "$GOPATH_DIR.old"
  fi
fi
if [[ ! -d $SUITE/validation || ! -d $SUITE/cmd/runtimetest ]]; then
  log "the runtime-tools validation sources are not available (see --help: Debian's"
  log "golang-github-opencontainers-runtime-tools-dev lacks validation/ and cmd/runtimetest)"
  exit 77
fi

# --------------------------------------------------------------- build ---
BIN=$CACHE/bin
cd "$CACHE"
export GO111MODULE=off GOFLAGS='' CGO_ENABLED=0
export GOPATH=$GOPATH_DIR:/usr/share/gocode
export GOCACHE=${GOCACHE:-/var/tmp/berth-gocache}
stamp=$( { go version
           dpkg-query -W -f='${Package} ${Version}\n' golang-github-opencontainers-runtime-tools-dev \
             golang-github-opencontainers-specs-dev golang-github-google-uuid-dev 2>/dev/null
           cd "$GOPATH_DIR/src" && find . -type f -name '*.go' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
         } | sha256sum | cut -c1-16)
if [[ $FORCE == 0 && -f $BIN/.stamp && $(cat "$BIN/.stamp") == "$stamp" ]]; then
  log "up to date: $BIN ($(ls "$BIN/validation" | wc -l) tests)"
  exit 0
fi
log "building into $BIN (nice, one job at a time)"
start=$(date +%s)
out=$(mktemp -d "$CACHE/bin.new.XXXXXX")
mkdir -p "$out/validation"
nice -n 19 go build -p 1 -trimpath -o "$out/runtimetest" github.com/opencontainers/runtime-tools/cmd/runtimetest
n=0
for d in "$SUITE"/validation/*/; do
  t=$(basename "$d")
  [[ $t == util ]] && continue
  ls "$d"/*.go >/dev/null 2>&1 || continue
  nice -n 19 go build -p 1 -trimpath -o "$out/validation/$t" "github.com/opencontainers/runtime-tools/validation/$t"
  n=$((n + 1))
done
echo "$stamp" > "$out/.stamp"
rm -rf "$BIN.old"
if [[ -d $BIN ]]; then mv "$BIN" "$BIN.old"; fi
mv "$out" "$BIN"
out=
rm -rf "$BIN.old"
log "built runtimetest and $n validation tests in $(( $(date +%s) - start )) s"
