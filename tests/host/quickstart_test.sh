#!/usr/bin/env bash
# quickstart_test.sh — README's first command, run as a user runs it:
# scripts/quickstart.sh installs, builds (already built here: no work),
# boots the demo system container and checks what it shows (it exits
# non-zero naming what was wrong); then nothing of it is left.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
"$root/scripts/quickstart.sh"
left=$(grep -c " /tmp/berth-quickstart\." /proc/self/mountinfo || true)
[ "$left" = 0 ] || { echo "FAIL - $left mounts of the demo left"; exit 1; }
! ip netns list | grep -q berth-quickstart || { echo "FAIL - the demo's network namespace is left"; exit 1; }
! find /sys/fs/cgroup -maxdepth 2 -name berth-quickstart | grep -q . || { echo "FAIL - its cgroup parent is left"; exit 1; }
echo "ok - quickstart showed a working system container and left nothing"
