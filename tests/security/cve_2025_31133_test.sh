#!/usr/bin/env bash
# cve_2025_31133_test.sh — CVE-2025-31133, maskedPaths through a planted
# /dev/null: the image keeps its own /dev (no tmpfs there, as system
# container templates do) and ships /dev/null as a symlink that climbs out
# of the rootfs ("../../../..") to a host file. A runtime that masks files
# with the rootfs' /dev/null binds that host file over the masked path
# (/proc/timer_list and a file of the image's own); the container's process
# then reads the host file through it and writes into it. Asserted on the
# host: the host file is unchanged and its content never reached the
# container; and, so that the test cannot pass because the container
# never ran, that the process ran and found the masked paths to be the
# null device.
#
# With BERTH_EXPECT_ESCAPE=1 the test asserts the opposite: prove.sh runs
# it so against a build without the defence (BERTH_TEST_UNDEFEND=cve-2025-31133).
source "$(dirname "$0")/lib.sh"

secret="host secret $$ $RANDOM"
victim=$WORK/host-files/secret
mkdir -p "$(dirname "$victim")"
echo "$secret" > "$victim"
before=$(sha256sum < "$victim")

rootfs=$WORK/rootfs-31133
cp -a "$(base_rootfs)" "$rootfs"
echo "the image's own masked file" > "$rootfs/etc/masked"
rm -f "$rootfs/dev/null"
ln -s "$(climb_out "$victim")" "$rootfs/dev/null"
cat > "$rootfs/attack" <<'EOF'
#!/bin/sh
# The attacker's process: whatever the masks are, read them, then write
# through them, and report what each one is.
for p in /proc/timer_list /etc/masked; do
  echo "== $p $(stat -c '%F %t:%T' "$p")"
  cat "$p"
  echo pwned > "$p"
done
echo ran > /ran
EOF
chmod 755 "$rootfs/attack"

# The image's /dev stays: no tmpfs on /dev (the mounts under it are made in
# the image's own directories).
JQ=".root.path=\"$rootfs\" | .mounts |= map(select(.destination != \"/dev\"))
    | .linux.maskedPaths = [\"/proc/timer_list\", \"/etc/masked\"]"
run_attack cve31133 "$(JQ="$JQ" make_bundle cve31133 /attack)"
after=$(sha256sum < "$victim")

check "the attacker's process ran" test -e "$rootfs/ran"
if [ "$EXPECT_ESCAPE" = 1 ]; then
  expect_contains "undefended: the host file was read through the masked path" "$secret" "$OUT"
  check "undefended: the host file was written through the masked path" test "$before" != "$after"
else
  expect_contains "CVE-2025-31133: /proc/timer_list is masked with the null device" \
    "== /proc/timer_list character special file 1:3" "$OUT"
  expect_contains "CVE-2025-31133: the image's file is masked with the null device" \
    "== /etc/masked character special file 1:3" "$OUT"
  check "CVE-2025-31133: the host file never reached the container" \
    bash -c '[[ $1 != *"$2"* ]]' - "$OUT" "$secret"
  expect_eq "CVE-2025-31133: the host file is unchanged" "$before" "$after"
  expect_eq "CVE-2025-31133: the image's masked file is unchanged" \
    "the image's own masked file" "$(cat "$rootfs/etc/masked")"
fi
finish
