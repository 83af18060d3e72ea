#!/usr/bin/env bash
# debian_template_test.sh — builds the Debian 12 OS template with
# debootstrap from Debian's archive on the host (kept in a cache store,
# reused while suite, mirror and packages stay the same), unpacks it, and
# boots its systemd inside a berth container in the pure cgroup v2 VM
# (debian_template_boot.sh).
set -euo pipefail
: "${BERTH_RUNTIME:?set BERTH_RUNTIME}" "${BERTH_IMAGE:?set BERTH_IMAGE}"
here=$(cd "$(dirname "$0")" && pwd)
cache=${BERTH_TEMPLATE_CACHE:-/var/tmp/berth-template-cache}
work=$(mktemp -d /var/tmp/berth-debian-template.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$cache"
start=$(date +%s)
"$BERTH_IMAGE" --quiet --store "$cache/store" build-template debian berth/debian:12
echo "template ready in $(( $(date +%s) - start )) s"
"$BERTH_IMAGE" --store "$cache/store" unpack berth/debian:12 "$work/rootfs" >/dev/null
"$here/run-in-vm.sh" -t 900 -e BERTH_RUNTIME="$BERTH_RUNTIME" -- bash "$here/debian_template_boot.sh" "$work/rootfs"
