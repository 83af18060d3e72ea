#!/usr/bin/env bash
# Usage: tests/vm/run-in-vm.sh [options] [--] COMMAND [ARGS...]
#
# Run COMMAND as root inside a throw-away QEMU (TCG) VM that boots the
# installed Debian kernel with pure cgroup v2.  The VM's root filesystem is
# the host's / (read-only, virtio-9p) with a tmpfs overlay on top, so every
# host path is visible and writes vanish when the VM powers off.  COMMAND's
# stdout/stderr are streamed back to this script's stdout/stderr and its exit
# status becomes this script's exit status.
#
# Options:
#   -C DIR        working directory for COMMAND (default: current directory)
#   -e VAR=VAL    set an environment variable for COMMAND (repeatable);
#   -e VAR        pass the host's value of VAR through (repeatable)
#   -t SECONDS    timeout for COMMAND (default 600); exceeded => exit 124
#   -w DIR        make host directory DIR writable (and persistent) from the
#                 guest via a read-write 9p share (repeatable)
#   --systemd     boot /lib/systemd/systemd as PID 1 and run COMMAND from a
#                 generated unit (berth-test.service, Delegate=yes) started
#                 via systemd.unit=berth-test.target
#   --mask UNIT   (systemd mode) additionally mask UNIT (repeatable)
#   --want UNIT   (systemd mode) make berth-test.service Want+After UNIT
#   -v            verbose: print timings (boot-to-command, command, poweroff)
#                 and the whole console log on failure
#   --console     copy the guest serial console (kernel/systemd messages,
#                 which never mix into COMMAND's output) to stderr
#   -h, --help    this help
#
# Environment: BERTH_VM_CACHE (initramfs cache dir, default /var/tmp/berth-vm),
#   BERTH_VM_KERNEL (kernel version, default: newest /boot/vmlinuz-*),
#   BERTH_VM_MEM (MiB, default 2048), BERTH_VM_SMP (default 2),
#   BERTH_VM_QEMU (default qemu-system-x86_64), BERTH_VM_VERBOSE=1 (= -v),
#   BERTH_VM_APPEND (extra kernel command line, e.g. systemd.log_level=debug
#   systemd.log_target=console, or berth.trace for initramfs timestamps; see
#   the output with --console).
#
# Exit status: COMMAND's status; 124 on timeout; 125 on harness/VM failure
# (COMMAND never reported a status), with a console-log excerpt on stderr.
set -euo pipefail

SELF=$(readlink -f -- "${BASH_SOURCE[0]}")
PROG=${0##*/}

die() { printf '%s: %s\n' "$PROG" "$*" >&2; exit 125; }
log() { if [[ $VERBOSE == 1 ]]; then printf '%s: %s\n' "$PROG" "$*" >&2; fi; }
usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$SELF"; }

# ---------------------------------------------------------------- options ---
CWD=$PWD
TIMEOUT=600
MODE=plain
VERBOSE=${BERTH_VM_VERBOSE:-0}
CONSOLE=0
ENVS=()
WDIRS=()
MASKS=()
WANTS=()
while (($#)); do
  case $1 in
    -C) (($# >= 2)) || die "-C needs an argument"; CWD=$2; shift 2 ;;
    -e) (($# >= 2)) || die "-e needs an argument"
        if [[ $2 =~ ^[A-Za-z_][A-Za-z0-9_]*= ]]; then ENVS+=("$2")
        elif [[ $2 =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; then
          if [[ -v $2 ]]; then ENVS+=("$2=${!2}"); fi
        else die "bad -e argument: $2"; fi
        shift 2 ;;
    -t) (($# >= 2)) || die "-t needs an argument"
        [[ $2 =~ ^[0-9]+$ && $2 -gt 0 ]] || die "bad timeout: $2"
        TIMEOUT=$2; shift 2 ;;
    -w) (($# >= 2)) || die "-w needs an argument"
        [[ -d $2 ]] || die "-w: not a directory: $2"
        WDIRS+=("$(readlink -f -- "$2")"); shift 2 ;;
    --systemd) MODE=systemd; shift ;;
    --mask) (($# >= 2)) || die "--mask needs an argument"; MASKS+=("$2"); shift 2 ;;
    --want) (($# >= 2)) || die "--want needs an argument"; WANTS+=("$2"); shift 2 ;;
    -v) VERBOSE=1; shift ;;
    --console) CONSOLE=1; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; break ;;
    -*) die "unknown option: $1 (see --help)" ;;
    *) break ;;
  esac
done
(($#)) || { usage >&2; exit 125; }
[[ $CWD == /* ]] || CWD=$PWD/$CWD

# ----------------------------------------------------------------- kernel ---
if [[ -n ${BERTH_VM_KERNEL:-} ]]; then
  KVER=$BERTH_VM_KERNEL
else
  KVER=$(find /boot -maxdepth 1 -name 'vmlinuz-*' -printf '%f\n' 2>/dev/null \
         | sed 's/^vmlinuz-//' | sort -V | tail -n1)
fi
[[ -n $KVER ]] || die "no /boot/vmlinuz-* found (install linux-image-amd64)"
KERNEL=/boot/vmlinuz-$KVER
MODDIR=/lib/modules/$KVER
[[ -r $KERNEL ]] || die "cannot read $KERNEL"
[[ -f $MODDIR/modules.dep ]] || die "missing $MODDIR/modules.dep"
QEMU=${BERTH_VM_QEMU:-qemu-system-x86_64}
command -v "$QEMU" >/dev/null || die "$QEMU not found"
BUSYBOX=$(command -v busybox || true)
[[ -n $BUSYBOX ]] || die "busybox (busybox-static) not found"
BUSYBOX=$(readlink -f -- "$BUSYBOX")
if ldd "$BUSYBOX" >/dev/null 2>&1; then die "$BUSYBOX is not static (install busybox-static)"; fi

# ------------------------------------------------------- guest-side code ---
# PID 1 of the initramfs: load modules, mount the 9p root + tmpfs overlay,
# the API filesystems and the shares, then switch_root.
read -r -d '' GUEST_INIT <<'EOF_INIT' || true
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
CTLDIR=/ctl
TRACE=; grep -q berth.trace /proc/cmdline && TRACE=1
t() { [ -z "$TRACE" ] || echo "berth-vm-init: $(cut -d' ' -f1 /proc/uptime)s: $*"; }
t start
fail() {
  echo "berth-vm-init: FATAL: $*"
  echo "berth-vm-init: FATAL: $*" >> $CTLDIR/stderr 2>/dev/null
  sync; poweroff -f; sleep 10; echo o > /proc/sysrq-trigger
}
for m in $(cat /modules.order); do
  insmod "/modules/$m.ko" || fail "insmod $m"
done
t modules loaded
MSIZE=512000
CACHE=loose
for a in $(cat /proc/cmdline); do
  case $a in berth.9pcache=*) CACHE=${a#*=} ;; esac
done
mount -t 9p -o trans=virtio,version=9p2000.L,msize=$MSIZE,ro,cache=$CACHE hostroot /lower \
  || fail "mount hostroot"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=$MSIZE,cache=none berthctl /ctl \
  || fail "mount berthctl"
mount -t tmpfs -o mode=0755 tmpfs /rw
mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work /newroot \
  || fail "mount overlay"
t overlay mounted
R=/newroot
mount -t proc proc $R/proc
mount -t sysfs sysfs $R/sys
mount -t cgroup2 -o nsdelegate,memory_recursiveprot cgroup2 $R/sys/fs/cgroup \
  || fail "mount cgroup2"
mount -t devtmpfs devtmpfs $R/dev
mkdir -p $R/dev/pts $R/dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts $R/dev/pts
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs $R/dev/shm
ln -sf /proc/self/fd $R/dev/fd; ln -sf /proc/self/fd/0 $R/dev/stdin; ln -sf /proc/self/fd/1 $R/dev/stdout; ln -sf /proc/self/fd/2 $R/dev/stderr
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs $R/run
# /tmp stays the overlay's: the host's /tmp shows through read-only (a
# checkout or build under /tmp must be reachable), writes go to the tmpfs.
mkdir -p $R/run/berth/ctl $R/run/lock
mount --move /ctl $R/run/berth/ctl
CTLDIR=$R/run/berth/ctl
cp /bin/busybox /runner-*.sh $R/run/berth/
while read -r tag path; do
  [ -n "$tag" ] || continue
  mkdir -p "$R$path"
  mount -t 9p -o trans=virtio,version=9p2000.L,msize=$MSIZE,cache=none "$tag" "$R$path" \
    || fail "mount share $tag at $path"
done < $R/run/berth/ctl/shares
# An empty fstab: the host's describes the host's disks, not ours.
: > $R/etc/fstab
# The host may itself be a container; do not let systemd et al. think so.
rm -f $R/.dockerenv $R/.containerenv
mode=$(cat $R/run/berth/ctl/mode)
t "mounts done, mode $mode"
if [ "$mode" = systemd ]; then
  U=$R/etc/systemd/system
  mkdir -p $U
  cp -r $R/run/berth/ctl/units/. $U/
  for u in $(cat $R/run/berth/ctl/masks); do
    rm -rf "$U/$u"; ln -s /dev/null "$U/$u"
  done
  # Debian's tmp.conf empties /tmp at boot ("D /tmp"), which would hide
  # a checkout or build under the host's /tmp: keep /tmp as it is.
  mkdir -p $R/etc/tmpfiles.d
  echo "d /tmp 1777 root root -" > $R/etc/tmpfiles.d/tmp.conf
  # Generators only cost time here (fstab is empty, no gettys, no disks).
  G=$R/etc/systemd/system-generators
  mkdir -p $G
  for g in $R/usr/lib/systemd/system-generators/* $R/lib/systemd/system-generators/*; do
    [ -e "$g" ] && ln -sfn /dev/null "$G/${g##*/}"
  done
  t "units written"
  exec switch_root $R /lib/systemd/systemd
else
  exec switch_root $R /run/berth/busybox sh /run/berth/runner-plain.sh
fi
fail "switch_root"
EOF_INIT

# Runs COMMAND and records its status.  Shared by both modes.
read -r -d '' GUEST_RUN <<'EOF_RUN' || true
# sourced by runner-*.sh
C=/run/berth/ctl
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8 TERM=dumb
cat /proc/uptime > $C/started
/usr/bin/timeout --kill-after=10 "$(cat $C/timeout)" /bin/bash $C/cmd.sh \
  </dev/null >>$C/stdout 2>>$C/stderr
echo $? > $C/status.tmp
cat /proc/uptime > $C/finished
mv $C/status.tmp $C/status
sync
EOF_RUN

read -r -d '' GUEST_RUN_PLAIN <<'EOF_PLAIN' || true
# PID 1 after switch_root in the default mode.
B=/run/berth/busybox
. /run/berth/runner-common.sh
$B poweroff -f
$B sleep 10
echo o > /proc/sysrq-trigger
EOF_PLAIN

read -r -d '' GUEST_RUN_SYSTEMD <<'EOF_SYSTEMD' || true
# ExecStart of berth-test.service; SuccessAction= powers the VM off.
. /run/berth/runner-common.sh
exit 0
EOF_SYSTEMD

# ---------------------------------------------------------- initramfs ------
CACHE=${BERTH_VM_CACHE:-/var/tmp/berth-vm}
WANTED_MODULES="virtio_pci 9pnet_virtio 9p overlay"
KEY=$( { echo "$KVER $WANTED_MODULES"; cat "$SELF"; sha256sum "$BUSYBOX"; } | sha256sum | cut -c1-16)
INITRD=$CACHE/initramfs-$KVER-$KEY.cpio

# Print the module paths (relative to $MODDIR) needed for $WANTED_MODULES,
# dependencies first, skipping built-ins.
resolve_modules() {
  awk -v want="$WANTED_MODULES" '
    function base(p) { sub(/.*\//, "", p); sub(/\.ko(\.[a-z]+)?$/, "", p); gsub(/-/, "_", p); return p }
    FILENAME ~ /modules\.builtin$/ { builtin[base($1)] = 1; next }
    { f = $1; sub(/:$/, "", f); n = base(f); path[n] = f; deps[n] = ""
      for (i = 2; i <= NF; i++) deps[n] = deps[n] " " base($i) }
    function visit(n,   d, k, i) {
      if (n in seen) return; seen[n] = 1
      if (n in builtin) return
      if (!(n in path)) { print "MISSING " n; return }
      k = split(deps[n], d, " ")
      for (i = k; i >= 1; i--) visit(d[i])
      print path[n]
    }
    END { k = split(want, w, " "); for (i = 1; i <= k; i++) visit(w[i]) }
  ' "$MODDIR/modules.builtin" "$MODDIR/modules.dep"
}

build_initramfs() {
  local stage mods m name
  stage=$(mktemp -d "${TMPDIR:-/tmp}/berth-vm-initrd.XXXXXX")
  # shellcheck disable=SC2064
  trap "rm -rf '$stage'" RETURN
  mkdir -p "$stage"/{bin,dev,proc,sys,lower,rw,newroot,ctl,modules}
  cp "$BUSYBOX" "$stage/bin/busybox"
  printf '%s\n' "$GUEST_INIT" > "$stage/init"
  printf '%s\n' "$GUEST_RUN" > "$stage/runner-common.sh"
  printf '%s\n' "$GUEST_RUN_PLAIN" > "$stage/runner-plain.sh"
  printf '%s\n' "$GUEST_RUN_SYSTEMD" > "$stage/runner-systemd.sh"
  chmod 0755 "$stage/init" "$stage"/runner-*.sh
  mods=$(resolve_modules)
  if grep -q '^MISSING' <<<"$mods"; then
    die "kernel $KVER lacks modules: $(grep '^MISSING' <<<"$mods" | tr '\n' ' ')"
  fi
  : > "$stage/modules.order"
  for m in $mods; do
    name=${m##*/}; name=${name%%.ko*}
    case $m in
      *.ko)     cp "$MODDIR/$m" "$stage/modules/$name.ko" ;;
      *.ko.xz)  xz -dc "$MODDIR/$m" > "$stage/modules/$name.ko" ;;
      *.ko.zst) zstd -qdc "$MODDIR/$m" > "$stage/modules/$name.ko" ;;
      *.ko.gz)  gzip -dc "$MODDIR/$m" > "$stage/modules/$name.ko" ;;
      *) die "unknown module format: $m" ;;
    esac
    echo "$name" >> "$stage/modules.order"
  done
  mkdir -p "$CACHE"
  (cd "$stage" && find . -mindepth 1 | LC_ALL=C sort \
     | cpio --quiet -o -H newc -R 0:0) > "$INITRD.tmp.$$"
  mv -f "$INITRD.tmp.$$" "$INITRD"
  log "built $INITRD (modules: $(tr '\n' ' ' < "$stage/modules.order"))"
}

# Under TCG, decompressing the bzImage costs ~3 s per boot; cache the
# uncompressed vmlinux once and boot it through its PVH entry point instead.
extract_vmlinux() {
  local out=$1 magic off tmp
  command -v readelf >/dev/null || return 1
  tmp=$out.tmp.$$
  for magic in '\xfd7zXZ\x00:xz -dc' '\x28\xb5\x2f\xfd:zstd -qdc' '\x1f\x8b\x08:gzip -dc'; do
    off=$(LC_ALL=C grep -obUaP "${magic%%:*}" "$KERNEL" | head -n1 | cut -d: -f1)
    [[ -n $off ]] || continue
    # The payload is followed by trailing data, so the decompressor complains.
    tail -c +$((off + 1)) "$KERNEL" | ${magic#*:} 2>/dev/null > "$tmp" || true
    # 0x12 = XEN_ELFNOTE_PHYS32_ENTRY, the PVH entry point QEMU needs.
    if readelf -n "$tmp" 2>/dev/null | grep -q 'note type: (0x00000012)'; then
      mv -f "$tmp" "$out"; return 0
    fi
  done
  rm -f "$tmp"; return 1
}
mkdir -p "$CACHE"
KKEY=$(head -c 1048576 "$KERNEL" | cat - <(stat -c %s "$KERNEL") | sha256sum | cut -c1-16)
VMLINUX=$CACHE/vmlinux-$KVER-$KKEY
if [[ -s $VMLINUX ]] || extract_vmlinux "$VMLINUX"; then
  KERNEL=$VMLINUX
  find "$CACHE" -maxdepth 1 -name "vmlinux-$KVER-*" ! -name "${VMLINUX##*/}" \
    -mmin +60 -delete 2>/dev/null || true
else
  log "cannot extract a PVH vmlinux from $KERNEL; booting the bzImage"
fi

if [[ ! -s $INITRD ]]; then
  build_initramfs
  # Drop stale images of this kernel built by other versions of this script.
  find "$CACHE" -maxdepth 1 -name "initramfs-$KVER-*.cpio" ! -name "${INITRD##*/}" \
    -mmin +60 -delete 2>/dev/null || true
fi

# ------------------------------------------------------- per-run control ---
CTL=
QPID=
TAILS=()
# shellcheck disable=SC2317  # invoked through trap
cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  if [[ -n $QPID ]] && kill -0 "$QPID" 2>/dev/null; then
    kill "$QPID" 2>/dev/null || true; wait "$QPID" 2>/dev/null || true
  fi
  local t
  for t in "${TAILS[@]}"; do kill "$t" 2>/dev/null || true; wait "$t" 2>/dev/null || true; done
  if [[ -n $CTL ]]; then rm -rf -- "$CTL"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

CTL=$(mktemp -d "${TMPDIR:-/tmp}/berth-vm-run.XXXXXX")
chmod 0755 "$CTL"
: > "$CTL/stdout"; : > "$CTL/stderr"; : > "$CTL/console.log"
echo "$MODE" > "$CTL/mode"
echo "$TIMEOUT" > "$CTL/timeout"
{
  printf 'cd -- %q || { echo "%s: cannot chdir to %q in the VM" >&2; exit 125; }\n' "$CWD" "$PROG" "$CWD"
  for e in "${ENVS[@]}"; do printf 'export %s=%q\n' "${e%%=*}" "${e#*=}"; done
  printf 'exec'; printf ' %q' "$@"; printf '\n'
} > "$CTL/cmd.sh"

qesc() { printf '%s' "${1//,/,,}"; }   # QEMU option-value escaping
SEC_MODEL=passthrough
[[ $EUID == 0 ]] || SEC_MODEL=none
SHARE_ARGS=()
: > "$CTL/shares"
i=0
for d in "${WDIRS[@]}"; do
  [[ $d != *$'\n'* && $d != *' '* ]] || die "-w: paths with blanks are not supported: $d"
  SHARE_ARGS+=(-virtfs "local,path=$(qesc "$d"),mount_tag=w$i,security_model=$SEC_MODEL,multidevs=remap")
  echo "w$i $d" >> "$CTL/shares"
  i=$((i + 1))
done

CMDLINE="console=ttyS0 quiet loglevel=0 panic=-1 rdinit=/init"
CMDLINE+=" systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all"
CMDLINE+=" mitigations=off tsc=reliable no_timer_check random.trust_cpu=on"
CMDLINE+=" i8042.noaux i8042.nokbd i8042.nopnp"
[[ -z ${BERTH_VM_APPEND:-} ]] || CMDLINE+=" $BERTH_VM_APPEND"
: > "$CTL/masks"
if [[ $MODE == systemd ]]; then
  CMDLINE+=" systemd.unit=berth-test.target systemd.show_status=false"
  mkdir "$CTL/units"
  want_lines=
  for u in "${WANTS[@]}"; do want_lines+=$'\n'"Wants=$u"$'\n'"After=$u"; done
  # Only berth-test.target, berth-test.service and what they pull in start:
  # no sysinit.target/basic.target (use --want to add them), just D-Bus and
  # the journal sockets.  Type=exec lets the boot job queue drain while the
  # command runs, so `systemctl is-system-running --wait` works inside.
  cat > "$CTL/units/berth-test.target" <<EOF
[Unit]
Description=berth VM test
DefaultDependencies=no
Wants=berth-test.service
AllowIsolate=yes
EOF
  cat > "$CTL/units/berth-test.service" <<EOF
[Unit]
Description=berth VM test command
DefaultDependencies=no
Wants=dbus.socket systemd-journald.socket
After=dbus.socket systemd-journald.socket$want_lines
Conflicts=shutdown.target
Before=shutdown.target
SuccessAction=poweroff-immediate
FailureAction=poweroff-immediate

[Service]
Type=exec
ExecStart=/run/berth/busybox sh /run/berth/runner-systemd.sh
StandardInput=null
StandardOutput=journal
StandardError=journal
Delegate=yes
TimeoutStartSec=infinity
EOF
  # D-Bus is socket-activated on demand, without dragging in sysinit.target.
  for u in dbus.socket dbus.service; do
    mkdir -p "$CTL/units/$u.d"
    printf '[Unit]\nDefaultDependencies=no\n' > "$CTL/units/$u.d/berth.conf"
  done
  # Units the host image enables that have no business in a test VM.
  DEFAULT_MASKS=(
    apparmor.service systemd-pstore.service systemd-timesyncd.service
    e2scrub_reap.service postgresql.service containerd.service docker.service
    docker.socket podman.service podman.socket podman-restart.service
    apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer
    fstrim.timer man-db.timer logrotate.timer
    getty@tty1.service serial-getty@ttyS0.service
  )
  printf '%s\n' "${DEFAULT_MASKS[@]}" "${MASKS[@]}" > "$CTL/masks"
fi

QEMU_ARGS=(
  -accel tcg -cpu max -m "${BERTH_VM_MEM:-2048}" -smp "${BERTH_VM_SMP:-2}"
  -machine pc -nodefaults -no-user-config -display none -no-reboot
  -kernel "$KERNEL" -initrd "$INITRD" -append "$CMDLINE"
  -chardev "file,id=con,path=$(qesc "$CTL/console.log")" -serial chardev:con
  -virtfs "local,path=/,mount_tag=hostroot,security_model=$SEC_MODEL,readonly=on,multidevs=remap"
  -virtfs "local,path=$(qesc "$CTL"),mount_tag=berthctl,security_model=$SEC_MODEL,multidevs=remap"
  "${SHARE_ARGS[@]}"
)
[[ -r /usr/share/qemu/qboot.rom ]] && QEMU_ARGS+=(-bios /usr/share/qemu/qboot.rom)

# Hard deadline: the command's timeout plus generous boot/shutdown slack.
HARD=$((TIMEOUT + 300))
T0=$(date +%s.%N)
timeout -k 10 "$HARD" "$QEMU" "${QEMU_ARGS[@]}" </dev/null >"$CTL/qemu.log" 2>&1 &
QPID=$!
# Stream the command's output while it runs; tail exits once QEMU is gone.
tail -n +1 -s 0.2 -F --pid="$QPID" "$CTL/stdout" 2>/dev/null &
TAILS+=($!)
tail -n +1 -s 0.2 -F --pid="$QPID" "$CTL/stderr" >&2 2>/dev/null &
TAILS+=($!)
if [[ $CONSOLE == 1 ]]; then
  tail -n +1 -s 0.2 -F --pid="$QPID" "$CTL/console.log" >&2 2>/dev/null &
  TAILS+=($!)
fi

QRC=0
wait "$QPID" || QRC=$?
QPID=
T1=$(date +%s.%N)
for t in "${TAILS[@]}"; do wait "$t" 2>/dev/null || true; done
TAILS=()

if [[ -s $CTL/status ]]; then
  RC=$(<"$CTL/status")
  if [[ $VERBOSE == 1 && -s $CTL/started ]]; then
    TS=$(date -r "$CTL/started" +%s.%N)
    TF=$(date -r "$CTL/finished" +%s.%N 2>/dev/null || echo "$T1")
    log "$(awk -v k="$KVER" -v m="$MODE" -v u="$(cut -d' ' -f1 "$CTL/started")" \
      -v a="$T0" -v s="$TS" -v f="$TF" -v b="$T1" -v rc="$RC" 'BEGIN {
      printf "kernel %s, mode %s: boot-to-command %.1fs (guest uptime %.1fs), command %.1fs, poweroff %.1fs, total %.1fs; exit status %s",
        k, m, s - a, u, f - s, b - f, b - a, rc }')"
  fi
  [[ $RC =~ ^[0-9]+$ ]] || RC=125
  exit "$RC"
fi

if ((QRC == 124)); then
  printf '%s: the VM did not finish within %ss; killed it\n' "$PROG" "$HARD" >&2
else
  printf '%s: the VM stopped without reporting an exit status (qemu exit %s)\n' "$PROG" "$QRC" >&2
fi
if [[ -s $CTL/qemu.log ]]; then sed 's/^/qemu: /' "$CTL/qemu.log" >&2; fi
if [[ $VERBOSE == 1 ]]; then sed 's/^/console: /' "$CTL/console.log" >&2
else tail -n 30 "$CTL/console.log" | sed 's/^/console: /' >&2; fi
if [[ -s $CTL/started && ! -s $CTL/finished ]]; then exit 124; fi
exit 125
