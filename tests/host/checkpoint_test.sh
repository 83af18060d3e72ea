#!/usr/bin/env bash
# checkpoint_test.sh — berth-runtime checkpoint/restore through CRIU, as
# podman and containerd call them (runc's flags): a busybox container
# counting in memory is dumped, killed, and restored from its images; it
# goes on counting from where it stood, with its stdout handed to new
# pipes, and keeps its pid inside. Also --leave-running, --pre-dump with
# --parent-path, and refusals that leave nothing behind.
#
# CRIU works in the VM tier (Debian's kernel); on a kernel where `criu
# check` fails (this machine's host kernel: "Failed to fill self vdso
# symtable") the test says so and skips.
source "$(dirname "$0")/lib.sh"

# features asks criu itself: its version, and (where it works) memory
# tracking for --pre-dump.
want=$(criu --version | awk '/^Version:/ {print $2}')
expect_eq "features: criu's version" "$want" \
  "$("$BERTH_RUNTIME" features | jq -r '.annotations["org.criu.version"]')"
check "features: no criu at --criu is said, not fatal" bash -c \
  "'$BERTH_RUNTIME' --criu /nonexistent/criu features | jq -e '.annotations[\"org.berth.criu.error\"] | test(\"status 127\")' >/dev/null"

ip link set lo up 2>/dev/null || true
if ! out=$(criu check 2>&1); then
  echo "ok - skipped: criu check fails on this kernel ($(uname -r)): $(echo "$out" | grep -m1 -i error)"
  exit 0
fi

# The container's stdio are anonymous pipes, as an engine's are (conmon's):
# criu names them "pipe:[inode]" in descriptors.json, and restore hands
# the new ones over in their place.
pipes=()
open_pipes() { # open_pipes LOG: sets IN (a read end nothing writes) and OUT (a write end into LOG)
  exec {IN}< <(exec sleep 100000)
  pipes+=($!)
  exec {OUT}> >(exec cat >> "$1")
  pipes+=($!)
}
close_pipes() {
  exec {IN}<&- {OUT}>&-
}
NS_C=berth-cr-c-$$ NS_L=berth-cr-l-$$
trap 'kill "${pipes[@]}" 2>/dev/null || true; cleanup; ip netns del $NS_C 2>/dev/null; ip netns del $NS_L 2>/dev/null; true' EXIT

count() { cat "$(base_rootfs)/tmp/count" 2>/dev/null || echo 0; }
wait_count_past() { # wait_count_past N: the counter moved past N
  for _ in $(seq 300); do [ "$(count)" -gt "$1" ] && return 0; sleep 0.1; done
  echo "counter stuck at $(count), wanted past $1"; return 1
}

b=$(make_bundle counter sh -c 'i=0; while :; do i=$((i+1)); echo $i > /tmp/count; echo $i; sleep 0.1; done')
rm -f "$(base_rootfs)/tmp/count"
open_pipes "$WORK/out1"
"${RT[@]}" run -d --bundle "$b" c1 <&$IN >&$OUT 2>&$OUT
close_pipes
check "the counter runs" wait_count_past 5
pid0=$("${RT[@]}" state c1 | jq -r .pid)
inner0=$(grep NSpid /proc/$pid0/status | awk '{print $NF}')

expect_eq "features: criu tracks memory here (--pre-dump)" true \
  "$("$BERTH_RUNTIME" features | jq -r '.annotations["org.berth.criu.memTrack"]')"

# --- checkpoint: the container is dumped, then gone ------------------------
"${RT[@]}" checkpoint --image-path "$WORK/img" --work-path "$WORK/work" c1
n=$(count)
check "checkpoint wrote the images" test -s "$WORK/img/inventory.img"
check "... and the init's stdio (descriptors.json)" jq -e '.[1] | startswith("pipe:")' "$WORK/img/descriptors.json"
check "criu's log in the work path" test -s "$WORK/work/dump.log"
check "the container is gone after checkpoint" no_leftovers c1
check "its process is gone" test ! -e "/proc/$pid0"
sleep 0.5
expect_eq "nothing counts while it is checkpointed" "$n" "$(count)"

# --- restore: it goes on from where it stood ---------------------------------
open_pipes "$WORK/out2"
"${RT[@]}" restore -d --image-path "$WORK/img" --work-path "$WORK/work" --bundle "$b" --pid-file "$WORK/pid" c1 \
  <&$IN >&$OUT 2>&$OUT
close_pipes
expect_eq "restored: running" running "$("${RT[@]}" state c1 | jq -r .status)"
pid1=$("${RT[@]}" state c1 | jq -r .pid)
expect_eq "the pid file holds the restored init" "$pid1" "$(cat "$WORK/pid")"
check "the counter goes on" wait_count_past "$n"
first=$(head -n1 "$WORK/out2")
expect_eq "counting resumed at $((n + 1)), not from 1 (memory restored)" "$((n + 1))" "$first"
expect_eq "the same pid inside" "$inner0" "$(grep NSpid /proc/$pid1/status | awk '{print $NF}')"
check "in the container's cgroup" grep -q "c1" /proc/$pid1/cgroup
check "criu-root is unmounted after restore" bash -c "! grep -q criu-root /proc/self/mountinfo"

# --- --leave-running, then --pre-dump and a dump on top of it ---------------
"${RT[@]}" checkpoint --leave-running --image-path "$WORK/img2" c1
expect_eq "--leave-running: still running" running "$("${RT[@]}" state c1 | jq -r .status)"
m=$(count)
check "... and still counting" wait_count_past "$m"
"${RT[@]}" checkpoint --pre-dump --image-path "$WORK/pre" c1
expect_eq "--pre-dump: still running" running "$("${RT[@]}" state c1 | jq -r .status)"
"${RT[@]}" checkpoint --image-path "$WORK/img3" --parent-path ../pre c1
check "a dump on a pre-dump's parent" test -L "$WORK/img3/parent"
check "the container is gone again" no_leftovers c1
n=$(count)
open_pipes "$WORK/out3"
"${RT[@]}" restore -d --image-path "$WORK/img3" --bundle "$b" c1 <&$IN >&$OUT 2>&$OUT
close_pipes
check "restored from the incremental dump: the counter goes on" wait_count_past "$n"
expect_eq "... from $((n + 1))" "$((n + 1))" "$(head -n1 "$WORK/out3")"

# --- refusals ---------------------------------------------------------------
set +e
out=$("${RT[@]}" checkpoint --manage-cgroups-mode hard --image-path "$WORK/img5" c1 2>&1); rc=$?
set -e
check "a bad --manage-cgroups-mode is refused" test "$rc" -ne 0
expect_contains "... naming the flag" "--manage-cgroups-mode" "$out"
expect_eq "... and the container runs on" running "$("${RT[@]}" state c1 | jq -r .status)"
set +e
out=$("${RT[@]}" restore -d --image-path "$WORK/img3" --bundle "$b" c1 2>&1); rc=$?
set -e
check "restore under an id in use is refused" test "$rc" -ne 0
expect_contains "... saying so" "already exists" "$out"
"${RT[@]}" delete -f c1

# A foreground restore waits for the init, as run does, then deletes the
# container: with the rootfs's bind for criu long gone, so that the delete
# cannot walk into the container's files.
open_pipes "$WORK/out4"
( for _ in $(seq 200); do "${RT[@]}" state c1 2>/dev/null | grep -q running && break; sleep 0.1; done
  sleep 0.5; "${RT[@]}" kill c1 KILL ) &
killer=$!
rc=0; "${RT[@]}" restore --image-path "$WORK/img3" --bundle "$b" c1 <&$IN >&$OUT 2>"$WORK/err" || rc=$?
close_pipes
wait $killer  # (a bare wait would wait for the pipes' processes too)
expect_eq "a foreground restore returns the init's status (killed: 137) ($(cat "$WORK/err"))" 137 "$rc"
check "... and deletes the container after" no_leftovers c1
check "... leaving the rootfs whole" test -x "$(base_rootfs)/bin/busybox"

set +e
out=$("${RT[@]}" restore -d --image-path "$WORK/none" --bundle "$b" c2 2>&1); rc=$?
set -e
check "restore without images fails" test "$rc" -ne 0
expect_contains "... naming --image-path" "--image-path" "$out"
check "... and leaves nothing" no_leftovers c2
mkdir -p "$WORK/empty"
set +e
out=$("${RT[@]}" restore -d --image-path "$WORK/empty" --bundle "$b" c3 2>&1); rc=$?
set -e
check "restore from an empty image dir fails" test "$rc" -ne 0
expect_contains "... with criu's error and its log" "restore.log" "$out"
check "... and leaves nothing (state, cgroup, criu-root)" no_leftovers c3
# --- a TCP connection survives (--tcp-established), in a joined netns -----
# As an engine with CNI does it: the container joins a network namespace
# by path (criu calls it external: extRootNetNS), here on a veth to a
# client namespace of the test's own (198.18.70.0/24). The container is
# an echo server; the client's connection is open across the checkpoint.
ip netns add $NS_C
ip netns add $NS_L
ip link add cr-l netns $NS_L type veth peer name cr-c netns $NS_C
ip -n $NS_C addr add 198.18.70.2/24 dev cr-c
ip -n $NS_L addr add 198.18.70.1/24 dev cr-l
for n in $NS_C $NS_L; do ip -n $n link set lo up; done
ip -n $NS_C link set cr-c up
ip -n $NS_L link set cr-l up
tb=$(JQ=".linux.namespaces |= map(if .type == \"network\" then .path = \"/run/netns/$NS_C\" else . end)" \
  make_bundle echo nc -l -p 5000 -e /bin/cat)
open_pipes "$WORK/tout1"
"${RT[@]}" run -d --bundle "$tb" t1 <&$IN >&$OUT 2>&$OUT
close_pipes
for _ in $(seq 100); do ip netns exec $NS_C ss -Hltn 2>/dev/null | grep -q ':5000' && break; sleep 0.1; done
coproc CL { exec ip netns exec $NS_L busybox nc 198.18.70.2 5000; }
pipes+=($CL_PID)
echo before >&"${CL[1]}"
line=; read -t 20 -r line <&"${CL[0]}" || true
expect_eq "the echo server answers" before "$line"
rc=0; out=$("${RT[@]}" checkpoint --tcp-established --image-path "$WORK/timg" t1 2>&1) || rc=$?
expect_eq "checkpoint --tcp-established with the connection open ($out)" 0 "$rc"
open_pipes "$WORK/tout2"
# restore's stderr is a file, not a capture: the restored process's own
# stderr (a pipe in the checkpoint, the server's fds 0-1 being the socket)
# becomes the restoring process's fd 2, and would hold a $(...) open.
rc=0; "${RT[@]}" restore -d --tcp-established --image-path "$WORK/timg" --bundle "$tb" t1 <&$IN >&$OUT 2>"$WORK/err" || rc=$?
out=$(cat "$WORK/err")
close_pipes
expect_eq "restore --tcp-established into the same netns ($out)" 0 "$rc"
tpid=$("${RT[@]}" state t1 | jq -r .pid 2>/dev/null || echo 0)
expect_eq "... the restored init is in that netns" "$(stat -L -c %i /run/netns/$NS_C)" \
  "$(stat -L -c %i /proc/$tpid/ns/net 2>/dev/null)"
echo after >&"${CL[1]}"
line=; read -t 20 -r line <&"${CL[0]}" || true
expect_eq "the same TCP connection answers after restore" after "$line"
"${RT[@]}" delete -f t1 2>/dev/null || true

# --- an unprivileged container (user namespace) with a bind mount --------
# The system containers' shape: root inside is not root outside, devices
# bound from the host, and a directory of the host bound in, which criu
# takes as an external mount on both sides.
chmod 755 "$WORK"  # the container's root (uid 100000) walks to its rootfs
mkdir -p "$WORK/data"
chown 100000:100000 "$WORK/data"
USERNS='.linux.namespaces += [{"type":"user"}] | .linux.uidMappings=[{"containerID":0,"hostID":100000,"size":65536}] | .linux.gidMappings=[{"containerID":0,"hostID":100000,"size":65536}]'
ub=$(JQ="$USERNS | .mounts += [{\"destination\":\"/run\",\"type\":\"bind\",\"source\":\"$WORK/data\",\"options\":[\"rbind\",\"rw\"]}]" \
  make_bundle ucounter sh -c 'i=0; while :; do i=$((i+1)); echo $i > /run/count; echo $i; sleep 0.1; done')
ucount() { cat "$WORK/data/count" 2>/dev/null || echo 0; }
open_pipes "$WORK/uout1"
"${RT[@]}" run -d --bundle "$ub" u1 <&$IN >&$OUT 2>&$OUT
close_pipes
for _ in $(seq 300); do [ "$(ucount)" -gt 5 ] && break; sleep 0.1; done
upid=$("${RT[@]}" state u1 | jq -r .pid)
expect_eq "user namespace: root inside is uid 100000 outside" 100000 "$(stat -c %u /proc/$upid)"
rc=0; out=$("${RT[@]}" checkpoint --image-path "$WORK/uimg" u1 2>&1) || rc=$?
expect_eq "checkpoint of an unprivileged container ($out)" 0 "$rc"
n=$(ucount)
open_pipes "$WORK/uout2"
rc=0; "${RT[@]}" restore -d --image-path "$WORK/uimg" --bundle "$ub" u1 <&$IN >&$OUT 2>"$WORK/err" || rc=$?
out=$(cat "$WORK/err")
close_pipes
expect_eq "restore of an unprivileged container ($out)" 0 "$rc"
expect_eq "... its images closed to others again after (0700, root's group)" "700 0" "$(stat -c '%a %g' "$WORK/uimg")"
for _ in $(seq 300); do [ "$(ucount)" -gt "$n" ] && break; sleep 0.1; done
expect_eq "... counting on from $((n + 1)) into the bound directory" "$((n + 1))" "$(head -n1 "$WORK/uout2")"
upid=$("${RT[@]}" state u1 | jq -r .pid 2>/dev/null || echo 0)
expect_eq "... still unprivileged" 100000 "$(stat -c %u /proc/$upid 2>/dev/null)"
"${RT[@]}" delete -f u1 2>/dev/null || true

b2=$(make_bundle sleeper sleep 100)
"${RT[@]}" create --bundle "$b2" c4
set +e
out=$("${RT[@]}" checkpoint --image-path "$WORK/img4" c4 2>&1); rc=$?
set -e
check "checkpoint of a created container is refused" test "$rc" -ne 0
expect_contains "... naming its status" "created" "$out"
"${RT[@]}" delete -f c4
finish
