# vps.sh — what a hosting provider checks of two Debian 12 guests, through
# berth and berthd only; the host and vm tiers run the same checks. Sourced
# after tests/lib/guest.sh and the tier's ok/fail/expect_eq/expect_contains/
# check/field; the caller gives:
#   node CMD...        runs CMD in the node's network namespace (berthd's)
#   vps_kill_berthd    kills berthd with SIGKILL and brings it back
#   vps_berthd_log     prints berthd's log
#   STATE              berthd's state directory
#   VPS_KEYS           a directory for the test's SSH keys
# vps_checks makes a network "lan" (bridged, 198.18.6.0/24, gateway and DNS
# 198.18.6.1) and on it deb1 (512M, --pids 300, a key and a root password)
# and deb2 (256M, --hostname shop2, a key).

init_pid() { field "$1" .init_pid; }
state() { field "$1" .state; }
now_ms() { date +%s%3N; }
# wait_for WHAT TRIES COMMAND...: polls every 0.25 s.
wait_for() {
  local n=$2 i; shift 2
  for i in $(seq "$n"); do "$@" && return 0; sleep 0.25; done
  return 1
}
ssh_in() {
  local addr=$1; shift
  node ssh -i "$VPS_KEYS/key" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o ConnectTimeout=10 -o LogLevel=ERROR "root@$addr" "$@"
}
no_clear_password() { ! vps_berthd_log | grep -q "$1" && ! grep -rqs "$1" "$STATE/containers"; }

# vps_checks: creates lan, deb1 and deb2 from berth/debian and runs every
# check; the guests and the network are left for the caller to remove.
vps_checks() {
  "$BERTH" network create lan --mode bridged --subnet 198.18.6.0/24 --dns 198.18.6.1 >/dev/null
  ssh-keygen -q -t ed25519 -N "" -C berth-test -f "$VPS_KEYS/key"
  "$BERTH" create deb1 --template berth/debian --disk 1G --ram 512M --pids 300 --net lan \
    --ssh-key "$VPS_KEYS/key.pub" --root-password pw-deb1 >/dev/null
  "$BERTH" create deb2 --template berth/debian --disk 1G --ram 256M --net lan --hostname shop2 \
    --ssh-key "$VPS_KEYS/key.pub" >/dev/null
  expect_eq "init kind from the template" systemd "$(field deb1 .config.init)"

  # --- boot to a healthy systemd -----------------------------------------------
  t0=$(now_ms)
  "$BERTH" start deb1 >/dev/null
  "$BERTH" start deb2 >/dev/null
  check "deb1: systemd is running, no failed unit" system_running deb1
  check "deb2: systemd is running, no failed unit" system_running deb2
  check "deb1: its networkd configured eth0" network_online deb1
  check "deb2: its networkd configured eth0" network_online deb2
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
  check "the clear password is nowhere in berthd's log or state" no_clear_password pw-deb1
  check "the pending access file is gone once written" test ! -e "$STATE/containers/deb1/access.json"
  expect_eq "root's password is set (a SHA-512 hash)" 1 "$("$BERTH" exec deb1 grep -c '^root:\$6\$' /etc/shadow)"
  check "no other guest's host keys: each made its own" test \
    "$("$BERTH" exec deb1 cat /etc/ssh/ssh_host_ed25519_key.pub | cut -d' ' -f2)" != \
    "$("$BERTH" exec deb2 cat /etc/ssh/ssh_host_ed25519_key.pub | cut -d' ' -f2)"
  ssh-keygen -q -t ed25519 -N "" -C second -f "$VPS_KEYS/key2"
  out=$("$BERTH" set deb1 --ssh-key "$VPS_KEYS/key2.pub")
  expect_eq "set --ssh-key reaches a running guest" "ssh_key: applied" "$out"
  check "the second key logs in" node ssh -i "$VPS_KEYS/key2" -o BatchMode=yes -o StrictHostKeyChecking=no \
    -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=10 "root@$a1" true
  check "ping deb1 -> deb2 over the bridge" bash -c "'$BERTH' exec deb1 ping -c 1 -W 2 $a2 >/dev/null"
  expect_contains "ip addr inside shows berth's address" "$a1/24" "$("$BERTH" exec deb1 ip -4 addr show eth0)"
  expect_contains "... and the default route" "default via 198.18.6.1" "$("$BERTH" exec deb1 ip route)"
  expect_contains "the guest's network config is berth's file for its networkd" "Address=$a1/24" \
    "$("$BERTH" exec deb1 cat /etc/systemd/network/10-berth-eth0.network)"
  expect_contains "networkctl inside shows eth0 configured" configured \
    "$("$BERTH" exec deb1 networkctl --no-legend list eth0)"
  "$BERTH" exec deb1 sh -c 'ip -4 addr flush dev eth0; systemctl restart systemd-networkd'
  check "flushed, the guest's own networkd puts it back" network_online deb1
  expect_contains "... the address" "$a1/24" "$("$BERTH" exec deb1 ip -4 addr show eth0)"
  expect_contains "... and the default route" "default via 198.18.6.1" "$("$BERTH" exec deb1 ip route)"
  out=$("$BERTH" set deb2 --net lan:198.18.6.77 2>&1)
  expect_contains "set --net on a running guest says it waits for its next start" "takes effect at the next start" "$out"
  expect_contains "... and the running guest keeps its address" "$a2/24" "$("$BERTH" exec deb2 ip -4 addr show eth0)"

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
  # The SSH sessions above end with root's user manager, which logind
  # stops 10 s after the last one: a stop that cannot fork fails its unit.
  # The bomb comes once they are gone (the guest's own services share its
  # --pids with whatever runs away inside).
  check "root's user manager gone after the SSH sessions" wait_for "user manager" 480 \
    bash -c "! '$BERTH' exec deb1 systemctl is-active -q user@0.service user-runtime-dir@0.service"
  # The bomb's children hold their pid until the parent lets them go (EOF on
  # a pipe), and it forks until the first refusal: no race with how fast
  # the guest forks (a bomb of short sleeps never reached the limit when
  # TCG forked slowly enough for the first ones to end).
  out=$("$BERTH" exec deb1 perl -e '
    my ($ok, $err) = (0, "");
    pipe(my $r, my $w) or die "pipe: $!";
    for (1 .. 400) {
      my $p = fork;
      if (!defined $p) { $err = "$!"; last }
      if ($p == 0) { close $w; <$r>; exit 0 }
      $ok++;
    }
    close $w;
    1 while wait != -1;
    print "$ok forked, then: $err\n";' 2>&1 || true)
  n=${out%% *}
  check "a fork bomb stops at --pids ($out)" test -n "$n" -a "$n" -lt 300 -a "${out#*then: }" = "Resource temporarily unavailable"
  check "deb1 still running after the fork bomb" system_running deb1
  # The hog is the exec'd process itself: berth exec exits 128+9 when it is
  # killed. (A shell echoing dd's status afterwards lost both its output
  # streams now and then in the VM: the pipe's pages are charged to the
  # container, still at its limit while the hog's memory is reclaimed.)
  rc=0
  "$BERTH" exec deb1 dd if=/dev/zero of=/dev/null bs=700M count=1 2>/dev/null || rc=$?
  expect_eq "a hog past the RAM limit is OOM-killed" 137 "$rc"
  # On cgroup v2 a systemd guest's own cgroup holds only its units: the
  # exec ran in a leaf beside them. Had it joined init.scope, systemd would
  # count the kill against init.scope and fail it once it reads the event,
  # leaving the guest "degraded" whenever a customer's command runs out of
  # memory.
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    ev() { "$BERTH" exec deb1 awk '$1 == "oom_kill" {print $2}' "/sys/fs/cgroup/$1/memory.events"; }
    expect_eq "the OOM kill counted in the exec's own leaf" 1 "$(ev .berth-exec)"
    expect_eq "... and not in the guest's init.scope" 0 "$(ev init.scope)"
  fi
  check "the guest stays up after the OOM kill" system_running deb1

  # --- power from inside -------------------------------------------------------
  "$BERTH" exec deb1 sh -c 'echo kept > /root/kept; sync'
  p1=$(init_pid deb1)
  "$BERTH" exec deb1 systemctl reboot || true
  check "reboot inside restarts the container" wait_for reboot 120 bash -c "[ \"\$('$BERTH' status deb1 --format json | jq -r '.state + \" \" + (.init_pid|tostring)')\" != 'running $p1' ] && [ \"\$('$BERTH' status deb1 --format json | jq -r .state)\" = running ]"
  check "deb1 back to running after reboot" system_running deb1
  check "deb1: configured by its networkd after reboot" network_online deb1
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
  check "deb2: configured by its networkd after its start" network_online deb2
  expect_contains "the set --net address reached deb2 at its start" "198.18.6.77/24" \
    "$("$BERTH" exec deb2 ip -4 addr show eth0)"
  p1=$(init_pid deb1) p2=$(init_pid deb2)
  vps_kill_berthd
  expect_eq "deb1 re-adopted with the same PID" "running $p1" "$(state deb1) $(init_pid deb1)"
  expect_eq "deb2 re-adopted with the same PID" "running $p2" "$(state deb2) $(init_pid deb2)"
  check "deb1 still healthy after the re-adoption" system_running deb1
}
