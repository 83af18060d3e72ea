#!/usr/bin/env bash
# cve_2025_52881_test.sh — CVE-2025-52881, the runtime's own procfs writes
# redirected by a mount: mounts stand on the files of two sysctls the
# container asks for (as a container sharing the mount races them in, or a
# config the attacker wrote places them), one the host's global
# /proc/sys/fs/lease-break-time (another procfs file: checking the
# file system of what was opened does not catch it), one a plain host
# file. A runtime that writes the sysctls through the container's /proc
# writes net.core.somaxconn into the host's lease-break-time and
# kernel.domainname into the host file. Asserted on the host: both are
# unchanged; and, so that the test cannot pass because the values were
# never written, that the container's network and UTS namespaces hold them.
#
# With BERTH_EXPECT_ESCAPE=1 the test asserts the opposite: prove.sh runs
# it so against a build without the defence (BERTH_TEST_UNDEFEND=cve-2025-52881).
source "$(dirname "$0")/lib.sh"

global=/proc/sys/fs/lease-break-time
orig=$(cat "$global")
# An undefended runtime changes a global setting of this host: put it back
# whatever happens.
trap 'echo "$orig" > "$global"; cleanup' EXIT
want=$((orig + 4242))
victim=$WORK/host-files/target
mkdir -p "$(dirname "$victim")"
echo "host file" > "$victim"
before=$(sha256sum < "$victim")

JQ=".linux.sysctl = {\"net.core.somaxconn\": \"$want\", \"kernel.domainname\": \"berth-52881\"}
    | .mounts += [{\"destination\": \"/proc/sys/net/core/somaxconn\", \"type\": \"bind\", \"source\": \"$global\", \"options\": [\"bind\", \"rw\"]},
                  {\"destination\": \"/proc/sys/kernel/domainname\", \"type\": \"bind\", \"source\": \"$victim\", \"options\": [\"bind\", \"rw\"]}]"
b=$(JQ="$JQ" make_bundle cve52881 sleep 100)
set +e
bounded 60 "${RT[@]}" run -d --bundle "$b" cve52881 > "$WORK/run.log" 2>&1
rc=$?
set -e
echo "# run -d (exit $rc): $(tr '\n' ' ' < "$WORK/run.log")"
pid=$("${RT[@]}" state cve52881 2>/dev/null | jq -r .pid || true)
if [ -n "$pid" ] && [ "$pid" != null ] && [ "$pid" -gt 0 ]; then
  in_net=$(nsenter -t "$pid" -n cat /proc/sys/net/core/somaxconn)
  in_uts=$(nsenter -t "$pid" -u cat /proc/sys/kernel/domainname)
else
  in_net=none in_uts=none
fi
now=$(cat "$global")
echo "$orig" > "$global"
after=$(sha256sum < "$victim")
"${RT[@]}" delete --force cve52881 >/dev/null 2>&1 || true

expect_eq "the container was created" 0 "$rc"
if [ "$EXPECT_ESCAPE" = 1 ]; then
  expect_eq "undefended: net.core.somaxconn went to the host's $global" "$want" "$now"
  check "undefended: kernel.domainname went into the host file" test "$before" != "$after"
else
  expect_eq "CVE-2025-52881: the host's $global is unchanged" "$orig" "$now"
  expect_eq "CVE-2025-52881: the host file is unchanged" "$before" "$after"
  expect_eq "CVE-2025-52881: net.core.somaxconn is set in the container's network namespace" "$want" "$in_net"
  expect_eq "CVE-2025-52881: kernel.domainname is set in the container's UTS namespace" "berth-52881" "$in_uts"
fi
finish
