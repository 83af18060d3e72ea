#!/usr/bin/env bash
# systemd_cgroup_test.sh — runs inside the VM with systemd as PID 1 (pure
# cgroup v2): with --systemd-cgroup a container gets a transient scope that
# carries its limits, update and pause work through it, and delete removes
# the unit.
source "$(dirname "$0")/../host/lib.sh"
RT+=(--systemd-cgroup)

check "systemd is PID 1" test "$(cat /proc/1/comm)" = systemd
state() { "${RT[@]}" state "$1" | jq -r .status; }
prop() { systemctl show -P "$1" "$2"; }
gone() { [ "$(prop LoadState "$1")" = not-found ]; }

id=sd-$$
unit=berth-$id.scope
cg=/sys/fs/cgroup/system.slice/$unit
JQ='.linux.cgroupsPath="system.slice:berth:'$id'" | .linux.resources.memory={"limit":67108864} | .linux.resources.pids={"limit":32} | .linux.resources.cpu={"quota":50000,"period":100000,"shares":512}'
b=$(JQ="$JQ" make_bundle limits sleep 1000)
"${RT[@]}" run -d --bundle "$b" "$id"
check "the scope is active" systemctl is-active --quiet "$unit"
expect_contains "systemctl status describes the container" "berth container $id" \
  "$(systemctl status --no-pager "$unit" 2>&1 || true)"
expect_eq "MemoryMax" 67108864 "$(prop MemoryMax "$unit")"
expect_eq "TasksMax" 32 "$(prop TasksMax "$unit")"
expect_eq "CPUQuotaPerSecUSec" 500ms "$(prop CPUQuotaPerSecUSec "$unit")"
expect_eq "CPUWeight from shares" 20 "$(prop CPUWeight "$unit")"
expect_eq "Delegate" yes "$(prop Delegate "$unit")"
expect_eq "in system.slice" system.slice "$(prop Slice "$unit")"
pid=$("${RT[@]}" state "$id" | jq -r .pid)
expect_eq "init's cgroup is the scope" "0::/system.slice/$unit" "$(cat /proc/"$pid"/cgroup)"
expect_eq "memory.max" 67108864 "$(cat "$cg"/memory.max)"
expect_eq "pids.max" 32 "$(cat "$cg"/pids.max)"
expect_eq "cpu.max" "50000 100000" "$(cat "$cg"/cpu.max)"
"${RT[@]}" exec -d --pid-file "$WORK/epid" "$id" sleep 500
expect_eq "exec joins the scope" "0::/system.slice/$unit" "$(cat /proc/"$(cat "$WORK/epid")"/cgroup)"

"${RT[@]}" update --memory 33554432 "$id"
expect_eq "update: MemoryMax" 33554432 "$(prop MemoryMax "$unit")"
expect_eq "update: memory.max" 33554432 "$(cat "$cg"/memory.max)"
"${RT[@]}" update --cpu-quota 20000 "$id"
expect_eq "update: CPUQuotaPerSecUSec" 200ms "$(prop CPUQuotaPerSecUSec "$unit")"
expect_eq "update: cpu.max" "20000 100000" "$(cat "$cg"/cpu.max)"
# systemd re-applies its own view of the unit on reload: the two must agree.
systemctl daemon-reload
expect_eq "memory.max survives daemon-reload" 33554432 "$(cat "$cg"/memory.max)"
expect_eq "pids.max survives daemon-reload" 32 "$(cat "$cg"/pids.max)"
expect_eq "cpu.max survives daemon-reload" "20000 100000" "$(cat "$cg"/cpu.max)"

"${RT[@]}" pause "$id"
expect_eq "paused" paused "$(state "$id")"
expect_eq "the scope's cgroup is frozen" 1 "$(cat "$cg"/cgroup.freeze)"
"${RT[@]}" resume "$id"
expect_eq "resumed" running "$(state "$id")"
expect_eq "events --stats reads the scope" 2 "$("${RT[@]}" events --stats "$id" | jq .data.pids.current)"

"${RT[@]}" kill "$id" KILL
for _ in $(seq 100); do [ "$(state "$id")" = stopped ] && break; sleep 0.1; done
expect_eq "stopped after kill" stopped "$(state "$id")"
"${RT[@]}" delete "$id"
check "delete removes the unit" gone "$unit"
check "delete removes the cgroup" test ! -e "$cg"
check "delete leaves no state" no_leftovers "$id"

# A running container deleted with --force: the unit is stopped, not left.
b2=$(JQ='.linux.cgroupsPath="machine.slice:berth:'$id'-f"' make_bundle force sleep 1000)
"${RT[@]}" run -d --bundle "$b2" "$id-f"
check "a scope in machine.slice" systemctl is-active --quiet "berth-$id-f.scope"
"${RT[@]}" delete --force "$id-f"
check "delete --force removes the unit" gone "berth-$id-f.scope"
check "delete --force removes the cgroup" test ! -e "/sys/fs/cgroup/machine.slice/berth-$id-f.scope"

# No cgroupsPath: system.slice/berth-<id>.scope. Without a cgroup namespace
# the container sees its own path.
b3=$(JQ='.linux.namespaces |= map(select(.type != "cgroup"))' make_bundle default cat /proc/self/cgroup)
out=$("${RT[@]}" run --bundle "$b3" "$id-d" 2>&1)
expect_eq "the container's /proc/self/cgroup" "0::/system.slice/berth-$id-d.scope" "$out"
check "run removes its unit" gone "berth-$id-d.scope"

# Over the system bus (dbus-daemon) when systemd's private socket fails.
out=$(unshare -m --propagation private sh -c \
  'mount --bind /dev/null /run/systemd/private && exec "$@"' sh "${RT[@]}" run --bundle "$b3" "$id-b" 2>&1)
expect_eq "through the system bus" "0::/system.slice/berth-$id-b.scope" "$out"
check "its unit is removed too" gone "berth-$id-b.scope"

finish
