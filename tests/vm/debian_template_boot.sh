#!/usr/bin/env bash
# debian_template_boot.sh ROOTFS — (in the VM) boots the template's
# systemd as a container's init: cgroup namespace with a writable cgroup2,
# tmpfs /run and /tmp, container=oci; waits until systemd says the system
# is running (or degraded), then stops it with SIGRTMIN+3 as a system
# container's stop does and checks that the container ends.
set -euo pipefail
rootfs=${1:?usage: debian_template_boot.sh ROOTFS}
RT=("$BERTH_RUNTIME" --root /run/berth-template-test)
b=$(mktemp -d /tmp/debian-bundle.XXXXXX)
id=debian-systemd
cleanup() { set +e; "${RT[@]}" delete --force "$id" >/dev/null 2>&1; rm -rf "$b"; }
trap cleanup EXIT
(cd "$b" && "$BERTH_RUNTIME" spec)
all_caps='["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_DAC_READ_SEARCH","CAP_FOWNER","CAP_FSETID","CAP_KILL","CAP_SETGID","CAP_SETUID","CAP_SETPCAP","CAP_NET_BIND_SERVICE","CAP_NET_ADMIN","CAP_NET_RAW","CAP_IPC_LOCK","CAP_SYS_CHROOT","CAP_SYS_PTRACE","CAP_SYS_ADMIN","CAP_SYS_BOOT","CAP_SYS_NICE","CAP_SYS_RESOURCE","CAP_MKNOD","CAP_LEASE","CAP_AUDIT_WRITE","CAP_SETFCAP","CAP_SYSLOG"]'
jq --arg r "$rootfs" --argjson caps "$all_caps" '
  .root = {path: $r, readonly: false} | .hostname = "debian12"
  | .process.terminal = false | .process.args = ["/sbin/init"]
  | .process.env += ["container=oci"]
  | .process.capabilities = {bounding: $caps, effective: $caps, permitted: $caps}
  | .linux.namespaces |= (map(select(.type != "cgroup")) + [{type: "cgroup"}])
  | .mounts = [.mounts[] | if .destination == "/sys/fs/cgroup" then .options = ["nosuid","noexec","nodev","relatime","rw"] else . end]
  | .mounts += [{destination: "/run", type: "tmpfs", source: "tmpfs", options: ["nosuid","nodev","mode=755"]},
                {destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["nosuid","nodev"]}]
  | .linux.maskedPaths = [] | .linux.readonlyPaths = []' "$b/config.json" > "$b/c.json"
mv "$b/c.json" "$b/config.json"

start=$(date +%s)
"${RT[@]}" run -d --bundle "$b" "$id" </dev/null >/dev/null
state=
for _ in $(seq 300); do
  state=$("${RT[@]}" exec "$id" systemctl is-system-running 2>/dev/null || true)
  case $state in running|degraded) break ;; esac
  sleep 1
done
echo "systemd state after $(( $(date +%s) - start )) s: ${state:-none}"
"${RT[@]}" exec "$id" systemctl --failed --no-legend --plain 2>/dev/null | sed 's/^/  failed unit: /' || true
case $state in
  running|degraded) echo "ok - the Debian 12 template boots systemd in a container" ;;
  *) echo "FAIL - systemd did not come up"; "${RT[@]}" exec "$id" systemctl list-jobs 2>&1 | head -20; exit 1 ;;
esac
pid1=$("${RT[@]}" exec "$id" cat /proc/1/comm)
[ "$pid1" = systemd ] && echo "ok - PID 1 is systemd" || { echo "FAIL - PID 1 is $pid1"; exit 1; }
os=$("${RT[@]}" exec "$id" sh -c '. /etc/os-release; echo $VERSION_ID')
[ "$os" = 12 ] && echo "ok - Debian 12 inside" || { echo "FAIL - VERSION_ID $os"; exit 1; }

"${RT[@]}" kill "$id" RTMIN+3
for _ in $(seq 120); do
  [ "$("${RT[@]}" state "$id" | jq -r .status)" = stopped ] && break
  sleep 1
done
st=$("${RT[@]}" state "$id" | jq -r .status)
[ "$st" = stopped ] && echo "ok - SIGRTMIN+3 halts the container" || { echo "FAIL - still $st after SIGRTMIN+3"; exit 1; }
"${RT[@]}" delete "$id"
