#!/usr/bin/env bash
# berthd_debian_test.sh — the Debian 12 system container as a hosting
# provider uses it, through berth and berthd only (no hand-made bundle):
# the template built through the API (debootstrap, cached between runs),
# two unprivileged containers on a bridged network with limits, an SSH key
# and a root password; systemd reaches "running" with no failed unit,
# hostname, machine id, SSH from the node's namespace, ping between the
# guests, /proc/meminfo, free and df show the limits, ENOSPC past the
# disk, a fork bomb held by --pids, an OOM kill that leaves the guest up,
# reboot and poweroff from inside, a clean stop in the guest's journal,
# snapshot and rollback, kill -9 of berthd re-adopting the guests.
set -euo pipefail
# A first template build takes minutes: the hang report waits for more.
HANG_DUMP_AFTER=${HANG_DUMP_AFTER:-840}
source "$(dirname "${BASH_SOURCE[0]}")/berthd_lib.sh"

# The image store is shared with the other Debian tests (debootstrap takes
# minutes; an unchanged template is reused by the same build call).
CACHE=${BERTH_TEMPLATE_CACHE:-/var/tmp/berth-template-cache}
mkdir -p "$CACHE/store" "$STATE"
ln -s "$CACHE/store" "$STATE/images"
NS=berth-deb-$$
ip netns add "$NS"
in_ns() { ip netns exec "$NS" "$@"; }
deb_cleanup() {
  cleanup
  ip netns del "$NS" 2>/dev/null || true
}
trap deb_cleanup EXIT
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }

source "$ROOT_DIR/tests/lib/guest.sh"
init_pid() { field "$1" .init_pid; }
state() { field "$1" .state; }
# wait_for WHAT TRIES COMMAND...: polls every 0.25 s.
wait_for() {
  local n=$2 i; shift 2
  for i in $(seq "$n"); do "$@" && return 0; sleep 0.25; done
  return 1
}
ssh_in() {
  local addr=$1; shift
  in_ns ssh -i "$WORK/key" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o ConnectTimeout=10 -o LogLevel=ERROR "root@$addr" "$@"
}

# --- the template, through the API, in the host's network namespace -------
# (debootstrap reaches the archive only from there)
start_berthd
t0=$(date +%s)
out=$("$BERTH" image build-template debian berth/debian --packages openssh-server)
expect_contains "Debian template built through berthd ($(( $(date +%s) - t0 )) s)" "berth/debian sha256:" "$out"
kill "$BPID"; wait "$BPID" 2>/dev/null || true; BPID=

# --- berthd in a network namespace of the test's own -------------------------
start_berthd_ns() {
  nsenter --net="/run/netns/$NS" "$BERTHD" --state-dir "$STATE" --run-dir "$RUN" --socket "$SOCK" \
    --cgroup-parent "$CG" --monitor "$BERTH_MONITOR" --subuid "$WORK/subuid" --subgid "$WORK/subgid" \
    >>"$WORK/berthd.log" 2>&1 &
  BPID=$!
  wait_for "berthd up" 100 "$BERTH" list >/dev/null 2>&1
}
start_berthd_ns
in_ns ip link set lo up
"$BERTH" network create lan --mode bridged --subnet 198.18.6.0/24 --dns 198.18.6.1 >/dev/null
ssh-keygen -q -t ed25519 -N "" -C berth-test -f "$WORK/key"
"$BERTH" create deb1 --template berth/debian --disk 1G --ram 512M --pids 300 --net lan \
  --ssh-key "$WORK/key.pub" --root-password pw-deb1 >/dev/null
"$BERTH" create deb2 --template berth/debian --disk 1G --ram 256M --net lan --hostname shop2 \
  --ssh-key "$WORK/key.pub" >/dev/null
expect_eq "init kind from the template" systemd "$(field deb1 .config.init)"

# --- boot to a healthy systemd -----------------------------------------------
t0=$(now_ms)
"$BERTH" start deb1 >/dev/null
"$BERTH" start deb2 >/dev/null
check "deb1: systemd is running, no failed unit" system_running deb1
check "deb2: systemd is running, no failed unit" system_running deb2
echo "# both running $(( $(now_ms) - t0 )) ms after the first start"
expect_eq "PID 1 is systemd" systemd "$("$BERTH" exec deb1 cat /proc/1/comm)"
expect_eq "Debian 12 inside" 12 "$("$BERTH" exec deb1 sh -c '. /etc/os-release; echo $VERSION_ID')"
expect_eq "unprivileged: root inside is not root outside" "$(field deb1 .config.idmap_base)" \
  "$(awk '$1 == 0 {print $2}' "/proc/$(init_pid deb1)/uid_map")"
expect_eq "hostname is the container's name" deb1 "$("$BERTH" exec deb1 hostname)"
expect_eq "/etc/hostname too" deb1 "$("$BERTH" exec deb1 cat /etc/hostname)"
expect_eq "--hostname names the guest" shop2 "$("$BERTH" exec deb2 hostname)"
expect_contains "/etc/hosts carries the name" "deb1" "$("$BERTH" exec deb1 cat /etc/hosts)"
id1=$("$BERTH" exec deb1 cat /etc/machine-id) id2=$("$BERTH" exec deb2 cat /etc/machine-id)
check "a machine id of its own each ($id1, $id2)" test ${#id1} -eq 32 -a "$id1" != "$id2"
expect_eq "journald has this boot" 1 "$("$BERTH" exec deb1 sh -c 'journalctl -b --no-pager | grep -c "Startup finished" || true')"
check "systemd-run runs a transient service" "$BERTH" exec deb1 systemd-run --wait --quiet true
check "systemctl stops and starts a service" "$BERTH" exec deb1 sh -c \
  'systemctl stop ssh && ! systemctl is-active -q ssh && systemctl start ssh && systemctl is-active -q ssh'
check "timers are scheduled" "$BERTH" exec deb1 sh -c 'systemctl list-timers --no-legend | grep -q .'

# --- access: SSH with the key, from the node's namespace ---------------------
a1=$(field deb1 '.addresses[0]') a2=$(field deb2 '.addresses[0]')
expect_eq "ssh root@deb1 with the key" deb1 "$(ssh_in "$a1" hostname 2>&1)"
expect_contains "logind knows the SSH session" root "$(ssh_in "$a1" loginctl list-sessions --no-legend 2>&1)"
check "the clear password is nowhere in berthd's log or state" bash -c "! grep -rqs pw-deb1 '$WORK/berthd.log' '$STATE/containers'"
check "the pending access file is gone once written" test ! -e "$STATE/containers/deb1/access.json"
expect_eq "root's password is set (a SHA-512 hash)" 1 "$("$BERTH" exec deb1 grep -c '^root:\$6\$' /etc/shadow)"
check "no other guest's host keys: each made its own" test \
  "$("$BERTH" exec deb1 cat /etc/ssh/ssh_host_ed25519_key.pub | cut -d' ' -f2)" != \
  "$("$BERTH" exec deb2 cat /etc/ssh/ssh_host_ed25519_key.pub | cut -d' ' -f2)"
ssh-keygen -q -t ed25519 -N "" -C second -f "$WORK/key2"
out=$("$BERTH" set deb1 --ssh-key "$WORK/key2.pub")
expect_eq "set --ssh-key reaches a running guest" "ssh_key: applied" "$out"
check "the second key logs in" in_ns ssh -i "$WORK/key2" -o BatchMode=yes -o StrictHostKeyChecking=no \
  -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=10 "root@$a1" true
check "ping deb1 -> deb2 over the bridge" bash -c "'$BERTH' exec deb1 ping -c 1 -W 2 $a2 >/dev/null"
expect_contains "ip addr inside shows berth's address" "$a1/24" "$("$BERTH" exec deb1 ip -4 addr show eth0)"
expect_contains "... and the default route" "default via 198.18.6.1" "$("$BERTH" exec deb1 ip route)"

# --- limits as the guest sees them ------------------------------------------
expect_eq "/proc/meminfo shows the RAM limit" "MemTotal: 524288 kB" \
  "$("$BERTH" exec deb1 head -1 /proc/meminfo | tr -s ' ')"
expect_eq "free shows the RAM limit" 512 "$("$BERTH" exec deb1 free -m | awk '/^Mem:/ {print $2}')"
size=$("$BERTH" exec deb1 df -k / | awk 'NR==2 {print $2}')
check "df shows the 1G quota ($size KiB)" test "$size" -gt 900000 -a "$size" -le 1048576
out=$("$BERTH" exec deb1 fallocate -l 2G /root/big 2>&1 || true)
expect_contains "ENOSPC past the quota" "No space left" "$out"
alloc=$(du -k "$STATE/containers/deb1/disk/disk.img" | cut -f1)
check "nothing past the quota outside ($alloc KiB allocated)" test "$alloc" -le 1100000
"$BERTH" exec deb1 rm -f /root/big
out=$("$BERTH" exec deb1 bash -c 'for i in $(seq 400); do sleep 5 & done 2>&1 | grep -c -i -e "fork" -e "resource" ; wait' 2>&1 || true)
check "a fork bomb stops at --pids ($out refused forks)" test "${out:-0}" -gt 0
check "deb1 still running after the fork bomb" system_running deb1
out=$("$BERTH" exec deb1 sh -c 'dd if=/dev/zero of=/dev/null bs=700M count=1 2>/dev/null; echo $?' || true)
expect_eq "a hog past the RAM limit is OOM-killed" 137 "$out"
check "the guest stays up after the OOM kill" system_running deb1

# --- power from inside -------------------------------------------------------
"$BERTH" exec deb1 sh -c 'echo kept > /root/kept; sync'
p1=$(init_pid deb1)
"$BERTH" exec deb1 systemctl reboot || true
check "reboot inside restarts the container" wait_for reboot 120 bash -c "[ \"\$('$BERTH' status deb1 --format json | jq -r '.state + \" \" + (.init_pid|tostring)')\" != 'running $p1' ] && [ \"\$('$BERTH' status deb1 --format json | jq -r .state)\" = running ]"
check "deb1 back to running after reboot" system_running deb1
expect_eq "same address after reboot" "$a1" "$(field deb1 '.addresses[0]')"
expect_contains "the address inside after reboot" "$a1/24" "$("$BERTH" exec deb1 ip -4 addr show eth0)"
check "DNS settings inside after reboot" "$BERTH" exec deb1 grep -q nameserver /etc/resolv.conf
expect_eq "same disk after reboot" kept "$("$BERTH" exec deb1 cat /root/kept)"
"$BERTH" exec deb2 systemctl poweroff || true
check "poweroff inside stops the container" wait_for poweroff 120 bash -c "[ \"\$('$BERTH' status deb2 --format json | jq -r .state)\" = stopped ]"
sleep 2
expect_eq "a powered-off container stays stopped" stopped "$(state deb2)"

# --- berth stop asks the guest; its journal shows an orderly shutdown -------
"$BERTH" stop deb1 >/dev/null
expect_eq "stopped" stopped "$(state deb1)"
"$BERTH" start deb1 >/dev/null
system_running deb1 >/dev/null || true
out=$("$BERTH" exec deb1 journalctl -b -1 --no-pager -o cat 2>&1 | tail -n 40 || true)
expect_contains "the last boot ended in an orderly shutdown" "Reached target" "$out"
expect_contains "... through systemd's halt" "halt" "$(echo "$out" | tr 'A-Z' 'a-z')"

# --- snapshot and rollback ---------------------------------------------------
"$BERTH" snapshot deb1 s1 >/dev/null
"$BERTH" exec deb1 sh -c 'echo later > /root/later; sync'
"$BERTH" stop deb1 >/dev/null
"$BERTH" rollback deb1 s1 >/dev/null
"$BERTH" start deb1 >/dev/null
check "rolled back: the later file is gone" bash -c "! '$BERTH' exec deb1 test -e /root/later"
check "rolled back guest boots" system_running deb1

# --- kill -9 of berthd: the guests run on, re-adopted with the same PIDs ------
"$BERTH" start deb2 >/dev/null
system_running deb2 >/dev/null || true
p1=$(init_pid deb1) p2=$(init_pid deb2)
kill -9 "$BPID"; wait "$BPID" 2>/dev/null || true
start_berthd_ns
expect_eq "deb1 re-adopted with the same PID" "running $p1" "$(state deb1) $(init_pid deb1)"
expect_eq "deb2 re-adopted with the same PID" "running $p2" "$(state deb2) $(init_pid deb2)"
check "deb1 still healthy after the re-adoption" system_running deb1

# --- the end: nothing left ---------------------------------------------------
for c in deb1 deb2; do "$BERTH" stop "$c" >/dev/null; "$BERTH" destroy "$c" >/dev/null; done
"$BERTH" network rm lan >/dev/null
expect_eq "no container left" "" "$(ls "$STATE/containers")"
check "no disk mount left" bash -c "! grep -q ' $STATE/containers/' /proc/self/mountinfo"
check "no hold left in the shared store" bash -c "! ls '$CACHE/store/holds' | grep -qx -e deb1 -e deb2"

echo "# passed $PASSED, failed $FAILED"
[ "$FAILED" -eq 0 ]
