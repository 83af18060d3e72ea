#!/usr/bin/env bash
# cve_2021_30465_test.sh — CVE-2021-30465's class, planted before create:
# the image keeps its own /dev (no tmpfs there) and ships it as a symlink
# that climbs out of the rootfs ("../../..") to a host directory, where a
# file of the host lies; the config asks for a device of the same name
# (linux.devices) and for mounts under /dev. A runtime that resolves paths
# in the rootfs as the host sees them makes its mount points, unlinks that
# file and makes the device node in the host directory. Asserted on the
# host: the directory holds what it held (the file, unchanged, and nothing
# else); and, so that the test cannot pass because nothing was made, that
# the container ran and the node and mount points are where the link leads
# when resolved inside the rootfs.
#
# With BERTH_EXPECT_ESCAPE=1 the test asserts the opposite: prove.sh runs
# it so against a build without the defence (BERTH_TEST_UNDEFEND=cve-2021-30465).
source "$(dirname "$0")/lib.sh"

hostdir=$WORK/host-dir
mkdir -p "$hostdir"
echo "a file of the host" > "$hostdir/victim"
listing() { (cd "$1" && find . -printf '%p %y %s\n' | sort); }
before=$(listing "$hostdir")

rootfs=$WORK/rootfs-30465
cp -a "$(base_rootfs)" "$rootfs"
rm -rf "$rootfs/dev"
ln -s "$(climb_out "$hostdir")" "$rootfs/dev"
# Resolved inside the rootfs the link leads here.
mkdir -p "$rootfs$hostdir"

JQ=".root.path=\"$rootfs\" | .mounts |= map(select(.destination != \"/dev\"))
    | .linux.devices = [{\"path\": \"/dev/victim\", \"type\": \"c\", \"major\": 1, \"minor\": 3, \"fileMode\": 438}]"
run_attack cve30465 "$(JQ="$JQ" make_bundle cve30465 sh -c 'echo "victim: $(stat -c "%F %t:%T" /dev/victim)"')"
after=$(listing "$hostdir")
echo "# host directory after: $(echo "$after" | tr '\n' ' ')"

if [ "$EXPECT_ESCAPE" = 1 ]; then
  check "undefended: the host's file was replaced by a device node" test -c "$hostdir/victim"
  check "undefended: mount points were made in the host directory" test -d "$hostdir/pts"
else
  expect_eq "CVE-2021-30465: the host directory holds what it held" "$before" "$after"
  expect_eq "CVE-2021-30465: the host's file is unchanged" "a file of the host" "$(cat "$hostdir/victim")"
  expect_eq "the container ran" 0 "$RC"
  expect_contains "the container's /dev/victim is the device it asked for" "victim: character special file 1:3" "$OUT"
  check "the node and the mount points were made inside the rootfs" \
    test -c "$rootfs$hostdir/victim" -a -d "$rootfs$hostdir/pts"
fi
finish
