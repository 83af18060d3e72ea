# lifecycle_config.sh — the runtime config features and command flags that
# no engine exercises, each checked by its effect (inside the container or
# on the host). Sourced by lifecycle_test.sh, so that the vm tier runs it too.

USERNS='.linux.namespaces += [{"type":"user"}] | .linux.uidMappings=[{"containerID":0,"hostID":100000,"size":65536}] | .linux.gidMappings=[{"containerID":0,"hostID":100000,"size":65536}]'
# A user-namespaced container's root (host uid 100000) must reach the rootfs.
chmod 755 "$WORK"

# state_pid ID: the init's pid on the host.
state_pid() { "${RT[@]}" state "$1" | jq -r .pid; }

# wait_for_file FILE PATTERN: up to 10 s for FILE to contain PATTERN.
wait_for_file() {
  for _ in $(seq 200); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
  return 1
}

# ---- create/run flags ------------------------------------------------------

# --no-pivot: the rootfs is moved over / and chrooted into, so the host's
# mounts stay in the container's mount namespace, hidden under it; with
# pivot_root they are gone. listmount (Linux 6.11+) counts them all.
ns_mount_count() {
  python3 - "$1" <<'PY'
import ctypes, fcntl, os, struct, sys
fd = os.open("/proc/%s/ns/mnt" % sys.argv[1], os.O_RDONLY)
buf = bytearray(8)
try:
    fcntl.ioctl(fd, 0x8008B705, buf)  # NS_GET_MNTNS_ID
except OSError:
    sys.exit(77)
req = struct.pack("IIQQQ", 32, 0, 0xFFFFFFFFFFFFFFFF, 0, struct.unpack("Q", buf)[0])
ids = (ctypes.c_uint64 * 4096)()
n = ctypes.CDLL(None, use_errno=True).syscall(458, ctypes.c_char_p(req), ids, 4096, 0)  # listmount
if n < 0:
    sys.exit(77)
print(n)
PY
}
b=$(make_bundle nopivot sleep 100)
for mode in pivot no-pivot; do
  flag=(); [ $mode = no-pivot ] && flag=(--no-pivot)
  "${RT[@]}" create "${flag[@]}" --bundle "$b" c-$mode
  "${RT[@]}" start c-$mode
  pid=$(state_pid c-$mode)
  expect_eq "$mode: the container's root is its rootfs" "$(stat -Lc %i "$b/rootfs")" "$(stat -Lc %i /proc/$pid/root/)"
  rc=0; total=$(ns_mount_count "$pid") || rc=$?
  shown=$(grep -c . /proc/$pid/mountinfo)
  if [ $rc -eq 77 ]; then
    echo "ok - $mode: mounts of the namespace # SKIP no listmount in this kernel"
  elif [ $mode = pivot ]; then
    expect_eq "pivot: the namespace holds only the container's mounts" "$shown" "$total"
  else
    check "--no-pivot: the host's mounts stay under the rootfs ($total > $shown)" test "$total" -gt "$shown"
  fi
  "${RT[@]}" delete --force c-$mode
done

# Each container joins a session keyring of its own, named after it,
# unless --no-new-keyring (then it keeps the caller's).
b=$(make_bundle keyring sleep 100)
"${RT[@]}" run -d --bundle "$b" c-keyring
expect_contains "a new session keyring per container" "_ses.c-keyring" "$(cat /proc/keys)"
"${RT[@]}" delete --force c-keyring
"${RT[@]}" run -d --no-new-keyring --bundle "$b" c-nokeyring
check "--no-new-keyring: no keyring made" bash -c '! grep -q "_ses.c-nokeyring" /proc/keys'
"${RT[@]}" delete --force c-nokeyring

# --preserve-fds N: fds 3..3+N-1 reach the process, the rest are closed.
for n in 3 4 5; do echo "fd$n" > "$WORK/fd$n"; done
b=$(make_bundle preserve sh -c 'for f in 3 4 5; do cat /proc/self/fd/$f 2>/dev/null || echo closed-$f; done')
out=$("${RT[@]}" run --preserve-fds 2 --bundle "$b" c-preserve 3<"$WORK/fd3" 4<"$WORK/fd4" 5<"$WORK/fd5" 2>&1) || true
expect_eq "run --preserve-fds 2: fds 3 and 4 inside, 5 closed" $'fd3\nfd4\nclosed-5' "$out"

# ---- exec flags -------------------------------------------------------------
b=$(JQ='.process.noNewPrivileges=false' make_bundle execflags sleep 100)
"${RT[@]}" run -d --bundle "$b" c-exec
out=$("${RT[@]}" exec --cwd /etc -e FOO=bar -e BAZ=qux -u 1000:1001 c-exec sh -c 'pwd; echo $FOO $BAZ; id -u; id -g' 2>&1)
expect_eq "exec --cwd -e -u: cwd, env and identity" $'/etc\nbar qux\n1000\n1001' "$out"
expect_eq "exec: no_new_privs as the config says (false)" 0 "$("${RT[@]}" exec c-exec sh -c 'grep NoNewPrivs /proc/self/status | cut -f2')"
expect_eq "exec --no-new-privs: set" 1 "$("${RT[@]}" exec --no-new-privs c-exec sh -c 'grep NoNewPrivs /proc/self/status | cut -f2')"
out=$("${RT[@]}" exec --preserve-fds 1 c-exec sh -c 'for f in 3 4; do cat /proc/self/fd/$f 2>/dev/null || echo closed-$f; done' 3<"$WORK/fd3" 4<"$WORK/fd4" 2>&1)
expect_eq "exec --preserve-fds 1: fd 3 inside, 4 closed" $'fd3\nclosed-4' "$out"
"${RT[@]}" delete --force c-exec

# ---- signals and events -----------------------------------------------------

# A foreground run and a foreground exec pass the signals they get on to
# the container's process.
# trapper SIG CODE: a script that exits with CODE when SIG arrives.
trapper() { echo "trap 'echo got-$1; exit $2' $1; echo ready; while :; do sleep 0.05; done"; }
# forwards WHAT SIG CODE CMD...: runs CMD in the background (a foreground
# run or exec of trapper SIG CODE), sends it SIG once the process is up,
# and checks the process's handler ran.
forwards() {
  local what=$1 sig=$2 code=$3 runner rc=0
  shift 3
  "$@" > "$WORK/sig.out" 2>&1 &
  runner=$!
  check "$what: the process is up" wait_for_file "$WORK/sig.out" ready
  kill -"$sig" "$runner"
  wait "$runner" || rc=$?
  expect_eq "$what: SIG$sig reaches the process (its exit status)" "$code" "$rc"
  expect_contains "$what: the process's handler ran" "got-$sig" "$(cat "$WORK/sig.out")"
}
forwards "foreground run" TERM 42 "${RT[@]}" run --bundle "$(make_bundle sigfwd sh -c "$(trapper TERM 42)")" c-sig
"${RT[@]}" run -d --bundle "$(make_bundle sigexec sleep 100)" c-sigexec
forwards "foreground exec" USR1 43 "${RT[@]}" exec c-sigexec sh -c "$(trapper USR1 43)"
"${RT[@]}" delete --force c-sigexec

# events --interval: stats every interval; an OOM kill in the container's
# cgroup is reported as {"type":"oom"}.
b=$(JQ='.linux.resources.memory={"limit":33554432,"swap":33554432}' make_bundle events sleep 100)
"${RT[@]}" run -d --bundle "$b" c-events
"${RT[@]}" events --interval 200ms c-events > "$WORK/events.out" 2>&1 &
events=$!
check "events: a first stats event" wait_for_file "$WORK/events.out" '"stats"'
rc=0; "${RT[@]}" exec c-events dd if=/dev/zero of=/dev/null bs=64M count=1 >/dev/null 2>&1 || rc=$?
expect_eq "a 64 MiB buffer in a 32 MiB container is OOM-killed" 137 "$rc"
check "events: the OOM kill is reported" wait_for_file "$WORK/events.out" '"oom"'
sleep 1
"${RT[@]}" delete --force c-events
check "events: ends when the container is gone" wait "$events"
stats=$(jq -s '[.[] | select(.type=="stats")]' "$WORK/events.out")
check "events --interval 200ms: stats every interval ($(jq length <<<"$stats") events)" test "$(jq length <<<"$stats")" -ge 4
expect_eq "events: stats name the container" c-events "$(jq -r '.[0].id' <<<"$stats")"
check "events: stats carry the memory usage" test "$(jq '.[-1].data.memory.usage.usage' <<<"$stats")" -gt 0
expect_eq "events: one OOM notice" 1 "$(jq -s '[.[] | select(.type=="oom" and .id=="c-events")] | length' "$WORK/events.out")"

# ---- namespaces ---------------------------------------------------------------

# Namespaces joined by path: a second container in the first one's uts,
# ipc and pid namespaces, and in a network namespace made with ip netns.
netns=berth-test-$$
trap 'ip netns del "$netns" 2>/dev/null || true; cleanup' EXIT
ip netns add "$netns"
ip -n "$netns" link add berthprobe0 type veth peer name berthprobe1
b=$(JQ='.hostname="ns-owner"' make_bundle nsowner sleep 100)
"${RT[@]}" run -d --bundle "$b" c-nsowner
owner=$(state_pid c-nsowner)
b=$(JQ=".hostname=\"\" | .linux.namespaces |= map(if .type==\"uts\" then .path=\"/proc/$owner/ns/uts\" elif .type==\"ipc\" then .path=\"/proc/$owner/ns/ipc\" elif .type==\"pid\" then .path=\"/proc/$owner/ns/pid\" elif .type==\"network\" then .path=\"/run/netns/$netns\" else . end)" \
  make_bundle nsjoin sh -c 'hostname; cat /proc/1/comm; grep -o berthprobe0 /proc/net/dev; sleep 100')
"${RT[@]}" run -d --bundle "$b" c-nsjoin > "$WORK/nsjoin.out" 2>&1
joiner=$(state_pid c-nsjoin)
for ns in uts ipc pid; do
  expect_eq "joined by path: the $ns namespace is the other container's" "$(readlink /proc/$owner/ns/$ns)" "$(readlink /proc/$joiner/ns/$ns)"
done
expect_eq "joined by path: the named network namespace" "$(ip netns exec "$netns" readlink /proc/self/ns/net)" "$(readlink /proc/$joiner/ns/net)"
check "joined by path: inside, the owner's hostname, its init as pid 1, the probe link" \
  wait_for_file "$WORK/nsjoin.out" berthprobe0
expect_eq "joined by path: what the process sees" $'ns-owner\nsleep\nberthprobe0' "$(cat "$WORK/nsjoin.out")"
"${RT[@]}" delete --force c-nsjoin
"${RT[@]}" delete --force c-nsowner
ip netns del "$netns"

# The time namespace with offsets, with and without a user namespace (the
# offsets are written by the runtime: the init's own timens_offsets belongs
# to the host's root once it is not dumpable).
TIMENS='.linux.namespaces += [{"type":"time"}] | .linux.timeOffsets={"boottime":{"secs":86400,"nanosecs":0},"monotonic":{"secs":3600,"nanosecs":0}}'
for variant in plain userns; do
  jqe=$TIMENS; [ $variant = userns ] && jqe="$USERNS | $TIMENS"
  b=$(JQ="$jqe" make_bundle time-$variant sh -c 'cut -d. -f1 /proc/uptime; tr -s " " < /proc/self/timens_offsets')
  rc=0; out=$("${RT[@]}" run --bundle "$b" c-time-$variant 2>&1) || rc=$?
  host=$(cut -d. -f1 /proc/uptime)
  expect_eq "time namespace ($variant): runs" 0 "$rc"
  inside=$(head -n1 <<<"$out")
  check "time namespace ($variant): uptime is the host's + 1 day ($inside vs $host)" \
    test "$((inside - host))" -ge 86395 -a "$((inside - host))" -le 86400
  expect_eq "time namespace ($variant): the offsets" $'monotonic 3600 0\nboottime 86400 0' "$(tail -n +2 <<<"$out")"
done

# ---- process settings -------------------------------------------------------

# oomScoreAdj: the init and an exec'd process, with and without a user
# namespace.
for variant in plain userns; do
  jqe='.process.oomScoreAdj=432'; [ $variant = userns ] && jqe="$USERNS | $jqe"
  b=$(JQ="$jqe" make_bundle oom-$variant sleep 100)
  rc=0; "${RT[@]}" run -d --bundle "$b" c-oom-$variant >"$WORK/oom.out" 2>&1 || rc=$?
  expect_eq "oomScoreAdj ($variant): created ($(cat "$WORK/oom.out"))" 0 "$rc"
  expect_eq "oomScoreAdj ($variant): the init's" 432 "$(cat /proc/$(state_pid c-oom-$variant)/oom_score_adj)"
  "${RT[@]}" exec -d --pid-file "$WORK/oom.pid" c-oom-$variant sleep 100
  expect_eq "oomScoreAdj ($variant): an exec'd process's" 432 "$(cat /proc/$(cat "$WORK/oom.pid")/oom_score_adj)"
  "${RT[@]}" delete --force c-oom-$variant
done

# personality, ioPriority, scheduler: seen from the host or inside.
b=$(JQ='.linux.personality={"domain":"LINUX32"}' make_bundle pers uname -m)
expect_eq "personality LINUX32: a 32-bit machine inside" i686 "$("${RT[@]}" run --bundle "$b" c-pers 2>&1)"
b=$(JQ='.process.ioPriority={"class":"IOPRIO_CLASS_BE","priority":6} | .process.scheduler={"policy":"SCHED_BATCH","nice":7}' make_bundle sched sleep 100)
"${RT[@]}" run -d --bundle "$b" c-sched
pid=$(state_pid c-sched)
expect_eq "ioPriority: best-effort, priority 6" "best-effort: prio 6" "$(ionice -p "$pid")"
expect_contains "scheduler: SCHED_BATCH" "SCHED_BATCH" "$(chrt -p "$pid")"
expect_eq "scheduler: nice 7" 7 "$(cut -d' ' -f19 /proc/$pid/stat)"
"${RT[@]}" delete --force c-sched
b=$(JQ='.process.ioPriority={"class":"IOPRIO_CLASS_IDLE","priority":0} | .process.scheduler={"policy":"SCHED_IDLE"}' make_bundle idle sleep 100)
"${RT[@]}" run -d --bundle "$b" c-idle
pid=$(state_pid c-idle)
expect_eq "ioPriority: idle" "idle" "$(ionice -p "$pid")"
expect_contains "scheduler: SCHED_IDLE" "SCHED_IDLE" "$(chrt -p "$pid")"
"${RT[@]}" delete --force c-idle

# domainname, umask, additionalGids, consoleSize: inside.
b=$(JQ='.domainname="berth.test" | .process.user.umask=63 | .process.user.additionalGids=[5,6]' \
  make_bundle ident sh -c 'cat /proc/sys/kernel/domainname; umask; echo > /dev/shm/f; stat -c %a /dev/shm/f; grep Groups /proc/self/status | cut -f2')
expect_eq "domainname, umask 0077 (a new file is 600), additionalGids" $'berth.test\n0077\n600\n5 6 ' "$("${RT[@]}" run --bundle "$b" c-ident 2>&1)"
b=$(JQ='.process.terminal=true | .process.consoleSize={"height":33,"width":111}' make_bundle consize stty size)
expect_eq "consoleSize: the pty's size" "33 111" "$("${RT[@]}" run --bundle "$b" c-consize </dev/null 2>&1 | tr -d '\r')"

# root.readonly: / is read-only inside, the mounts on it are not.
b=$(JQ='.root.readonly=true' make_bundle ro sh -c 'touch /ro-probe 2>/dev/null && echo wrote || echo refused; echo > /dev/shm/x && echo shm-ok; awk "\$5==\"/\" {print \$6}" /proc/self/mountinfo | cut -d, -f1')
expect_eq "root.readonly: / is mounted ro, refuses writes; /dev/shm takes them" $'refused\nshm-ok\nro' "$("${RT[@]}" run --bundle "$b" c-ro 2>&1)"
check "root.readonly: nothing written to the rootfs" test ! -e "$(base_rootfs)/ro-probe"

# ---- hooks --------------------------------------------------------------------

# Every hook gets the state on stdin. createContainer runs in the
# container's mount namespace before pivot_root (host paths), and
# startContainer inside the container (/hooks is the host's dir).
mkdir -p "$WORK/hooks"
hook() { echo "{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"cat > $1/$2.json\"]}"; }
HOOKS=".annotations={\"org.berth.test\":\"hooks\"} | .mounts += [{\"destination\":\"/hooks\",\"type\":\"bind\",\"source\":\"$WORK/hooks\",\"options\":[\"rbind\"]}]"
for k in prestart createRuntime createContainer poststart poststop; do HOOKS+=" | .hooks.$k=[$(hook "$WORK/hooks" $k)]"; done
HOOKS+=" | .hooks.startContainer=[$(hook /hooks startContainer)]"
b=$(JQ="$HOOKS" make_bundle hooks sleep 100)
"${RT[@]}" create --bundle "$b" c-hooks
pid=$(state_pid c-hooks)
# start runs the poststart hooks kept at create, as runc does: the bundle
# is not read again, so a config.json emptied in between changes nothing.
cp "$b/config.json" "$WORK/hooks-config.json"
jq 'del(.hooks)' "$WORK/hooks-config.json" > "$b/config.json"
"${RT[@]}" start c-hooks
cp "$WORK/hooks-config.json" "$b/config.json"
check "startContainer hook ran" wait_for_file "$WORK/hooks/startContainer.json" c-hooks
"${RT[@]}" kill c-hooks KILL
for _ in $(seq 100); do [ "$("${RT[@]}" state c-hooks | jq -r .status)" = stopped ] && break; sleep 0.05; done
"${RT[@]}" delete c-hooks
for k in prestart:created createRuntime:created createContainer:created startContainer:created poststart:running poststop:stopped; do
  f=$WORK/hooks/${k%%:*}.json
  expect_eq "${k%%:*} hook: state on stdin" "c-hooks ${k#*:} $b hooks" \
    "$(jq -r '[.id, .status, .bundle, .annotations["org.berth.test"]] | join(" ")' "$f" 2>&1)"
  [ "${k%%:*}" = poststop ] || expect_eq "${k%%:*} hook: the init's pid" "$pid" "$(jq -r .pid "$f")"
done

# A hook past its timeout is killed, create fails naming it, and nothing
# is left behind.
b=$(JQ=".hooks.prestart=[{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"echo \$\$ > $WORK/hook.pid; exec sleep 60\"],\"timeout\":1}]" make_bundle hooktimeout true)
start=$(date +%s)
rc=0; out=$("${RT[@]}" create --bundle "$b" c-hooktimeout 2>&1) || rc=$?
took=$(($(date +%s) - start))
check "hook timeout: create fails" test "$rc" -ne 0
expect_contains "hook timeout: the error names the hook" "hooks.prestart[0]" "$out"
expect_contains "hook timeout: and says why" "timed out after 1s" "$out"
check "hook timeout: create gave up after the timeout (${took}s)" test "$took" -le 5
check "hook timeout: the hook is killed" bash -c "! kill -0 $(cat "$WORK/hook.pid") 2>/dev/null"
check "hook timeout: nothing left" no_leftovers c-hooktimeout

# ---- device rules -----------------------------------------------------------

# linux.resources.devices (the eBPF filter on cgroup v2, the devices
# controller on v1) stop a device the container could otherwise make and
# use: it holds CAP_MKNOD, makes nodes of two loop devices of the test's
# own, and may open only the one its rules allow.
modprobe loop 2>/dev/null || true  # the vm tier boots with few modules loaded
truncate -s 1M "$WORK/allowed.img" "$WORK/denied.img"
printf A | dd of="$WORK/allowed.img" conv=notrunc status=none
printf D | dd of="$WORK/denied.img" conv=notrunc status=none
if allowed_dev=$(losetup -f --show "$WORK/allowed.img") && denied_dev=$(losetup -f --show "$WORK/denied.img"); then
  trap 'losetup -d "$allowed_dev" "$denied_dev" 2>/dev/null || true; ip netns del "$netns" 2>/dev/null || true; cleanup' EXIT
  majmin() { printf '%d %d' "0x$(stat -c %t "$1")" "0x$(stat -c %T "$1")"; }
  read -r amaj amin <<<"$(majmin "$allowed_dev")"
  read -r dmaj dmin <<<"$(majmin "$denied_dev")"
  MKNOD='.process.capabilities |= with_entries(.value += ["CAP_MKNOD"])'
  probe="mknod /allowed b $amaj $amin && mknod /denied b $dmaj $dmin && head -c1 /allowed; echo; head -c1 /denied 2>&1; echo; rm -f /allowed /denied"
  b=$(JQ="$MKNOD | .linux.resources.devices=[{\"allow\":false,\"access\":\"rwm\"},{\"allow\":true,\"type\":\"b\",\"major\":$amaj,\"minor\":$amin,\"access\":\"r\"}]" \
    make_bundle devrules sh -c "$probe; sleep 100")
  "${RT[@]}" run -d --bundle "$b" c-devrules > "$WORK/devrules.out" 2>&1
  check "device rules: the container ran its probe" wait_for_file "$WORK/devrules.out" "denied"
  out=$(cat "$WORK/devrules.out")
  expect_eq "device rules: the allowed device opens" A "$(head -n1 <<<"$out")"
  expect_contains "device rules: the denied one, made with CAP_MKNOD, is refused" "Operation not permitted" "$(sed -n 2p <<<"$out")"
  pid=$(state_pid c-devrules)
  devcg=$(awk -F: '$2=="devices" {print $3}' /proc/$pid/cgroup)
  if [ -n "$devcg" ]; then
    # The v1 devices controller: deny-all, then the exceptions.
    list=$(cat "/sys/fs/cgroup/devices$devcg/devices.list")
    expect_contains "v1 devices.list: the allowed device, read-only" "b $amaj:$amin r" "$list"
    expect_contains "v1 devices.list: /dev/null for every container" "c 1:3 rwm" "$list"
    check "v1 devices.list: no allow-all, no rule for the denied device" \
      bash -c "! grep -q -e '^a ' -e '^b $dmaj:$dmin ' <<<'$list'"
  else
    echo "ok - v1 devices.list # SKIP no v1 devices controller here"
  fi
  "${RT[@]}" delete --force c-devrules
  # Control: without rules the same container reads both devices.
  b=$(JQ="$MKNOD | .linux.resources.devices=[]" make_bundle devnorules sh -c "$probe")
  expect_eq "without device rules the denied device opens (the rules are what stop it)" \
    $'A\nD' "$("${RT[@]}" run --bundle "$b" c-devnorules 2>&1)"
  losetup -d "$allowed_dev" "$denied_dev"
else
  echo "ok - device rules # SKIP no loop devices here"
fi
