#!/usr/bin/env bash
# cgroup_v2_test.sh — runs inside the VM (pure cgroup v2): limits land in the
# v2 files, update changes them live, stats and freeze use the v2 interface.
source "$(dirname "$0")/../host/lib.sh"

check "host is pure cgroup v2" test -f /sys/fs/cgroup/cgroup.controllers
JQ='.linux.resources.memory={"limit":67108864,"swap":134217728} | .linux.resources.pids={"limit":32} | .linux.resources.cpu={"quota":50000,"period":100000,"shares":512}'
b=$(JQ="$JQ" make_bundle limits sleep 1000)
"${RT[@]}" run -d --bundle "$b" lim
cg=/sys/fs/cgroup/berth/lim
expect_eq "memory.max" 67108864 "$(cat $cg/memory.max)"
expect_eq "memory.swap.max (swap minus limit)" 67108864 "$(cat $cg/memory.swap.max)"
expect_eq "pids.max" 32 "$(cat $cg/pids.max)"
expect_eq "cpu.max" "50000 100000" "$(cat $cg/cpu.max)"
expect_eq "cpu.weight from shares" 20 "$(cat $cg/cpu.weight)"
expect_eq "limit seen inside (cgroup namespace)" 67108864 "$("${RT[@]}" exec lim cat /sys/fs/cgroup/memory.max)"
echo '{"memory":{"limit":33554432,"swap":67108864},"pids":{"limit":16}}' | "${RT[@]}" update --resources - lim
expect_eq "update memory.max" 33554432 "$(cat $cg/memory.max)"
expect_eq "update pids.max" 16 "$(cat $cg/pids.max)"
"${RT[@]}" update --cpu-quota 20000 lim
expect_eq "update --cpu-quota" "20000 100000" "$(cat $cg/cpu.max)"
expect_eq "events --stats reports pids" 1 "$("${RT[@]}" events --stats lim | jq .data.pids.current)"
"${RT[@]}" pause lim
expect_eq "pause freezes the v2 cgroup" 1 "$(cat $cg/cgroup.freeze)"
"${RT[@]}" resume lim
expect_eq "resume thaws" 0 "$(cat $cg/cgroup.freeze)"
mkdir $cg/sub
expect_eq "exec --cgroup joins an existing sub-cgroup" "0::/sub" "$("${RT[@]}" exec --cgroup sub lim cat /proc/self/cgroup)"
set +e; out=$("${RT[@]}" exec --cgroup nosuch lim true 2>&1); rc=$?; set -e
check "exec --cgroup of a missing sub-cgroup fails" test "$rc" -ne 0
expect_contains "... naming it" "--cgroup nosuch" "$out"
check "... and makes nothing" test ! -e $cg/nosuch
set +e; "${RT[@]}" exec lim sh -c 'head -c 1 /dev/full; echo > /dev/full' 2>/dev/null; set -e
# The eBPF device filter is tested by tests/host/lifecycle_config.sh (in
# vm_runtime_lifecycle here): a container with CAP_MKNOD opens an allowed
# loop device and is refused a denied one, and reads both without the rules.
"${RT[@]}" delete --force lim
check "no cgroup left" test ! -e "$cg"
check "default parent removed" test ! -e /sys/fs/cgroup/berth
finish
