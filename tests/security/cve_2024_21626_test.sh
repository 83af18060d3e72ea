#!/usr/bin/env bash
# cve_2024_21626_test.sh — CVE-2024-21626 ("Leaky Vessels") through `exec`:
# a directory fd of the host leaks into berth-runtime (here the test opens
# it and the runtime inherits it, as from an engine that leaks one), and
# the container's side names it: as the exec's working directory (an
# image's WorkingDir becomes `exec --cwd`; here /proc/self/fd/N) and as a
# path its process writes through. Asserted on the host: nothing was
# written into the host directory.
#
# With BERTH_EXPECT_ESCAPE=1 the test asserts the opposite: prove.sh runs
# it so against a build without the defence (BERTH_TEST_UNDEFEND=cve-2024-21626).
source "$(dirname "$0")/../host/lib.sh"
EXPECT_ESCAPE=${BERTH_EXPECT_ESCAPE:-0}

hostdir=$WORK/host-dir
mkdir -p "$hostdir"
b=$(make_bundle cve21626 sleep 100)
"${RT[@]}" run -d --bundle "$b" cve21626
fd=7
set +e
# The working directory through the leaked fd, then a file written there.
out_cwd=$(bounded 60 "${RT[@]}" exec --cwd /proc/self/fd/$fd cve21626 \
  sh -c 'echo escaped > escaped-through-cwd; pwd' 2>&1 7<"$hostdir")
# The leaked fd itself, still open in the exec'd process.
out_fd=$(bounded 60 "${RT[@]}" exec cve21626 \
  sh -c "echo escaped > /proc/self/fd/$fd/escaped-through-fd" 2>&1 7<"$hostdir")
set -e
echo "# exec --cwd /proc/self/fd/$fd: $out_cwd"
echo "# write through /proc/self/fd/$fd: $out_fd"
"${RT[@]}" delete --force cve21626

if [ "$EXPECT_ESCAPE" = 1 ]; then
  check "undefended: the exec's cwd was the host directory" test -e "$hostdir/escaped-through-cwd"
  check "undefended: the leaked fd reached the host directory" test -e "$hostdir/escaped-through-fd"
else
  # getcwd(3) fails (ENOENT) or says "(unreachable)" for a cwd outside the root.
  check "CVE-2024-21626: exec --cwd through a leaked fd is refused" \
    bash -c '[[ $1 == *"process.cwd: verify /proc/self/fd/"* || $1 == *"is outside the container root"* ]]' - "$out_cwd"
  check "CVE-2024-21626: nothing written through the cwd" test ! -e "$hostdir/escaped-through-cwd"
  check "CVE-2024-21626: the leaked fd is closed in the container" test ! -e "$hostdir/escaped-through-fd"
  check "CVE-2024-21626: the host directory is untouched" test -z "$(ls -A "$hostdir")"
fi
finish
