#!/usr/bin/env bash
# cve_2025_52565_test.sh — CVE-2025-52565, the /dev/console bind mount
# redirected: the image keeps its own /dev (no tmpfs there) and ships
# /dev/console as a symlink to a file of the attacker's choosing (its
# /etc/passwd here). A runtime that mounts the console on the path
# /dev/console follows the link and mounts the pty over that file. In
# berth this stays inside the container (the source is the pty's own fd,
# never a /dev/pts/N path, and the mount comes after maskedPaths and
# readonlyPaths, which is what made runc's bug an escape), so what is
# asserted is the redirection itself: the container's process reports
# what /etc/passwd is. Defended, the run is refused naming /dev/console,
# and the same image with a plain /dev/console gets its console there (so
# the refusal is the symlink's doing, not a broken console).
#
# With BERTH_EXPECT_ESCAPE=1 the test asserts the opposite: prove.sh runs
# it so against a build without the defence (BERTH_TEST_UNDEFEND=cve-2025-52565).
source "$(dirname "$0")/lib.sh"

rootfs=$WORK/rootfs-52565
cp -a "$(base_rootfs)" "$rootfs"
ln -sfn pts/ptmx "$rootfs/dev/ptmx"
ln -sfn /etc/passwd "$rootfs/dev/console"
before=$(sha256sum < "$rootfs/etc/passwd")

JQ=".root.path=\"$rootfs\" | .mounts |= map(select(.destination != \"/dev\")) | .process.terminal=true"
b=$(JQ="$JQ" make_bundle cve52565 sh -c 'echo "passwd: $(stat -c %F /etc/passwd)"; echo "console: $(stat -c %F /dev/console)"')
run_attack cve52565 "$b"
expect_eq "the image's /etc/passwd is unchanged on the host" "$before" "$(sha256sum < "$rootfs/etc/passwd")"

if [ "$EXPECT_ESCAPE" = 1 ]; then
  expect_contains "undefended: the pty was mounted over the file /dev/console named" \
    "passwd: character special file" "$OUT"
else
  expect_contains "CVE-2025-52565: a symlinked /dev/console is refused" \
    "on /dev/console: open /dev/console in rootfs: Too many levels of symbolic links" "$OUT"
  check "CVE-2025-52565: the process never ran with the pty over /etc/passwd" \
    bash -c '[[ $1 != *"passwd: character special file"* ]]' - "$OUT"
  # Control: the same image with a plain /dev/console.
  rm "$rootfs/dev/console"
  : > "$rootfs/dev/console"
  run_attack cve52565b "$b"
  expect_contains "CVE-2025-52565: a plain /dev/console gets the console" "console: character special file" "$OUT"
  expect_contains "CVE-2025-52565: ... and /etc/passwd stays a file" "passwd: regular file" "$OUT"
fi
finish
