#!/usr/bin/env bash
# cve_2019_5736_engines_test.sh — CVE-2019-5736's exec attack (the one of
# cve_2019_5736_test.sh) through the engines that drive berth-runtime:
# `podman exec` (conmon runs the runtime's exec) and containerd's
# `ctr task exec` (containerd-shim-runc-v2 runs it with --detach). Each
# engine runs a copy of $BERTH_RUNTIME as its runtime; asserted on the
# host: that binary is unchanged and the payload never ran. With
# BERTH_EXPECT_ESCAPE=1 (prove.sh, against the build without the defence)
# the attack must succeed through each engine instead.
source "$(dirname "$0")/lib.sh"
command -v podman >/dev/null || { echo "podman missing (scripts/deps.sh installs it)"; exit 1; }
command -v containerd >/dev/null || { echo "containerd missing (scripts/deps.sh installs it)"; exit 1; }

rootfs=$WORK/rootfs-5736
attack_rootfs_5736 "$rootfs"
CG_PARENT=/berth-5736-engines-$$

# Container names of this run: containerd-shim keeps the runtime's state
# under /run/containerd/runc/<namespace>, outside the test's directory.
ID=a5736-$$
VICTIMS=()

# victim NAME: a fresh copy of the runtime for one engine; sets VICTIM,
# BEFORE (its hash) and MARKER (what the payload would create).
victim() {
  mkdir -p "$WORK/$1"
  VICTIM=$WORK/$1/berth-runtime
  VICTIMS+=("$VICTIM")
  cp "$BERTH_RUNTIME" "$VICTIM"
  BEFORE=$(sha256sum < "$VICTIM")
  MARKER=$WORK/$1/payload-ran
}

# The container's init: the attack, then a sleep that keeps the
# container (and its /verdict, read through /proc/PID/root) until removed.
hold_attack() { echo "/attack /hold /bin/x '$MARKER'; exec sleep 1000"; }

# attack_through HOW PID EXEC...: once the attacker (the container's init,
# PID on the host) has planted its trigger, runs the engine's exec of it,
# lets the attacker finish, runs the runtime once more (the next call an
# engine would make) and judges the outcome on the host.
attack_through() {
  local how=$1 pid=$2 root
  shift 2
  root=/proc/$pid/root
  for _ in $(seq 200); do [ -e "$root/ready" ] && break; sleep 0.05; done
  check "$how: the attacker planted its trigger" test -e "$root/ready"
  set +e
  bounded 150 "$@" > "$WORK/exec.log" 2>&1
  touch "$root/done"
  for _ in $(seq 300); do [ -e "$root/verdict" ] && break; sleep 0.1; done
  "$VICTIM" --version > /dev/null 2>&1
  set -e
  local verdict
  verdict=$(cat "$root/verdict" 2>/dev/null || echo none)
  echo "# $how: attacker's verdict: $verdict"
  judge_5736 "$how" "$verdict" "$BEFORE" "$(sha256sum < "$VICTIM")" "$MARKER"
  restore_victims
}

# An attack that succeeded left the payload as the engines' runtime: put
# the runtime back, so that they can stop and remove their containers.
restore_victims() {
  local v
  for v in "${VICTIMS[@]}"; do cp "$BERTH_RUNTIME" "$v.new" && mv -f "$v.new" "$v"; done
}

# ---- podman exec ------------------------------------------------------------
mkdir -p "$WORK/pm"
mount -t tmpfs -o mode=700 berth-podman "$WORK/pm"
victim podman
P=(podman --root "$WORK/pm/storage" --runroot "$WORK/pm/run" --tmpdir "$WORK/pm/tmp"
   --storage-driver overlay --cgroup-manager cgroupfs --events-backend none --runtime "$VICTIM")
C=$WORK/ctd
engines_cleanup() {
  set +e
  restore_victims
  bounded 60 "${P[@]}" rm -af -t 0 >/dev/null 2>&1
  umount -R "$WORK/pm" 2>/dev/null || umount -l "$WORK/pm" 2>/dev/null
  if [ -n "${CTD_PID:-}" ]; then
    "${CTR[@]}" task kill -s KILL "$ID" >/dev/null 2>&1
    sleep 0.3
    "${CTR[@]}" task rm -f "$ID" >/dev/null 2>&1
    "${CTR[@]}" container rm "$ID" >/dev/null 2>&1
    kill "$CTD_PID" 2>/dev/null; wait "$CTD_PID" 2>/dev/null
  fi
  # Whatever an engine failed to stop in the test's cgroups (conmon too).
  cat /sys/fs/cgroup/*$CG_PARENT/cgroup.procs /sys/fs/cgroup/*$CG_PARENT/*/cgroup.procs \
    /sys/fs/cgroup/*$CG_PARENT/*/*/cgroup.procs 2>/dev/null | sort -u | xargs -r kill -9 2>/dev/null
  sleep 0.2
  grep -o "$C[^ ]*" /proc/self/mountinfo | sort -ru | while read -r m; do umount -l "$m" 2>/dev/null; done
  for d in /sys/fs/cgroup$CG_PARENT /sys/fs/cgroup/*$CG_PARENT /sys/fs/cgroup/libpod_parent /sys/fs/cgroup/*/libpod_parent; do
    [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
  cleanup
}
trap engines_cleanup EXIT

tar -C "$rootfs" -cf "$WORK/rootfs.tar" .
bounded 150 "${P[@]}" import -q "$WORK/rootfs.tar" localhost/berth-5736:1 >/dev/null
bounded 150 "${P[@]}" run -d --name "$ID" --network none --cgroup-parent "${CG_PARENT#/}/pm" \
  --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 localhost/berth-5736:1 sh -c "$(hold_attack)" >/dev/null
pid=$(bounded 60 "${P[@]}" inspect -f '{{.State.Pid}}' "$ID")
attack_through "podman exec" "$pid" "${P[@]}" exec "$ID" /bin/x
bounded 60 "${P[@]}" rm -f -t 0 "$ID" >/dev/null 2>&1 || true

# ---- ctr task exec ----------------------------------------------------------
source "$ROOT_DIR/tests/lib/containerd.sh"
start_containerd "$C"
check "containerd started on its own socket" test -S "$C/ctd.sock"
victim ctr
"$ROOT_DIR/tests/lib/mkociarchive.sh" "$rootfs" "$WORK/attack.tar" localhost/berth-5736:1
bounded 150 "${CTR[@]}" image import "$WORK/attack.tar" >/dev/null
bounded 150 "${CTR[@]}" run -d --runc-binary "$VICTIM" --cgroup "$CG_PARENT/ctr" localhost/berth-5736:1 "$ID" \
  sh -c "$(hold_attack)" >/dev/null
pid=$(bounded 60 "${CTR[@]}" task ls | awk -v id="$ID" '$1==id {print $2}')
attack_through "ctr task exec" "$pid" "${CTR[@]}" task exec --exec-id x5736 "$ID" /bin/x

finish
