#!/usr/bin/env bash
# disk_test.sh — OS templates and container disks with berth-image and
# berth-runtime: a busybox template boots its init; a disk's quota shows
# in df inside the container and ENOSPC stops writes there; online grow,
# offline shrink (refused when the data does not fit), snapshot of a
# running container and rollback, commit to a new image (whiteouts,
# opaque directories, id shift undone) that skopeo reads and that runs;
# a disk's changes exported and imported into disks with other id shifts;
# bad input and bad streams; no mount or loop device left.
source "$(dirname "$0")/lib.sh"
: "${BERTH_IMAGE:?set BERTH_IMAGE to the berth-image binary}"
IMG=("$BERTH_IMAGE" --store "$WORK/store")
DISKS=$WORK/disks
mkdir -p "$DISKS"

cleanup_disks() {
  set +e
  [ -z "${HOLDER:-}" ] || kill "$HOLDER" 2>/dev/null
  for id in $(ls "$STATE" 2>/dev/null); do "${RT[@]}" delete --force "$id" >/dev/null 2>&1; done
  for d in "$DISKS"/*; do [ -d "$d" ] && "${IMG[@]}" disk destroy "$d" >/dev/null 2>&1; done
  cleanup
}
trap cleanup_disks EXIT

# system_bundle NAME ROOTFS: the container's init (busybox) as process,
# with CAP_SYS_BOOT so that its poweroff ends the container.
system_bundle() {
  local b=$WORK/bundles/$1
  mkdir -p "$b"
  (cd "$b" && "$BERTH_RUNTIME" spec)
  jq --arg r "$2" --arg h "$1" '.root={path:$r, readonly:false} | .hostname=$h | .process.terminal=false
      | .process.args=["/sbin/init"]
      | .process.capabilities |= with_entries(.value += ["CAP_SYS_BOOT"])' "$b/config.json" > "$b/c.json"
  mv "$b/c.json" "$b/config.json"
  echo "$b"
}

wait_booted() { # wait_booted ID: until rcS has run (10 s at most)
  local i
  for i in $(seq 100); do
    "${RT[@]}" exec "$1" test -e /run/berth-booted 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

stop_system() { # stop_system ID: busybox init's poweroff, then delete
  "${RT[@]}" kill "$1" USR2
  local i
  for i in $(seq 100); do
    [ "$("${RT[@]}" state "$1" | jq -r .status)" = stopped ] && break
    sleep 0.1
  done
  "${RT[@]}" delete "$1"
}

# df_field ID FIELD: df -k of / inside the container (2=size, 4=available).
df_field() { "${RT[@]}" exec "$1" df -k / | awk -v f="$2" 'NR==2 {print $f}'; }

# --- the busybox template --------------------------------------------------
out=$("${IMG[@]}" build-template busybox berth/busybox)
expect_contains "busybox template built" "berth/busybox sha256:" "$out"
check "template listed" bash -c "'${IMG[0]}' --store '$WORK/store' ls | grep -q '^berth/busybox '"

# --- bad input: clear errors, nothing left -------------------------------
err=$("${IMG[@]}" disk create --size 1K berth/busybox "$DISKS/bad" 2>&1) && fail "tiny disk accepted" || expect_contains "too small a size named" "size:" "$err"
err=$("${IMG[@]}" disk create --size 10Q berth/busybox "$DISKS/bad" 2>&1) && fail "bad unit accepted" || expect_contains "bad unit named" 'unknown unit "Q"' "$err"
err=$("${IMG[@]}" disk create berth/nosuch "$DISKS/bad" 2>&1) && fail "missing image accepted" || expect_contains "missing image named" "berth/nosuch" "$err"
check "no half-made disk left" test ! -e "$DISKS/bad"
mkdir "$DISKS/exists"
err=$("${IMG[@]}" disk create berth/busybox "$DISKS/exists" 2>&1) && fail "existing dir reused" || expect_contains "existing dir refused" "File exists" "$err"
rmdir "$DISKS/exists"
err=$("${IMG[@]}" build-template busybox --busybox /bin/true berth/x 2>&1) && fail "dynamic busybox accepted" || expect_contains "dynamic busybox refused" "dynamically linked" "$err"

# --- a 64 MiB disk, the quota seen inside ----------------------------------
D1=$DISKS/c1
"${IMG[@]}" disk create --size 64M berth/busybox "$D1" >/dev/null
alloc=$(du -k "$D1/disk.img" | cut -f1)
check "disk image is sparse (${alloc} KiB allocated)" test "$alloc" -lt 16384
expect_eq "a new disk's note: never attached (its first mount asks no loop device)" none "$(cat "$D1/loop")"
R1=$("${IMG[@]}" disk mount "$D1")
expect_eq "mount prints the rootfs" "$D1/rootfs" "$R1"
expect_eq "mounting twice is fine" "$D1/rootfs" "$("${IMG[@]}" disk mount "$D1")"
B1=$(system_bundle c1 "$R1")
"${RT[@]}" run -d --bundle "$B1" c1 </dev/null >/dev/null
check "busybox init boots (rcS ran)" wait_booted c1
expect_eq "init is pid 1" "init" "$("${RT[@]}" exec c1 cat /proc/1/comm)"
size=$(df_field c1 2)
check "df inside shows the 64 MiB quota (${size} KiB)" test "$size" -gt 40000 -a "$size" -le 65536
out=$("${RT[@]}" exec c1 sh -c 'dd if=/dev/zero of=/big bs=1M count=200 2>&1; echo rc=$?')
expect_contains "writing past the quota fails with ENOSPC inside" "No space left on device" "$out"
expect_contains "dd failed" "rc=1" "$out"
# What the host gave the disk: the image's own allocation (delayed
# allocation included), not the host's free space, which anything else
# writing to that file system moves.
alloc=$(du -k "$D1/disk.img" | cut -f1)
check "the host gave the disk at most its quota (${alloc} KiB allocated)" test "$alloc" -lt 70000
"${RT[@]}" exec c1 rm /big

# --- changes, online grow, snapshot while running --------------------------
"${RT[@]}" exec c1 sh -c 'echo hello > /etc/motd && rm /etc/os-release && rm -rf /var && mkdir -p /var/log && touch /var/log/fresh'
echo x > "$R1/owned" && chown 1234:5678 "$R1/owned"
# ext4 grows online only with CAP_SYS_RESOURCE (missing from this host's
# bounding set, present in the VM tier).
if (( ($(awk '/^CapEff/ {print "0x"$2}' /proc/self/status) >> 24) & 1 )); then
  "${IMG[@]}" disk resize "$D1" 128M
  size=$(df_field c1 2)
  check "grown online to 128 MiB while running (${size} KiB)" test "$size" -gt 100000
else
  err=$("${IMG[@]}" disk resize "$D1" 128M 2>&1) && fail "online grow without CAP_SYS_RESOURCE" ||
    expect_contains "online grow without CAP_SYS_RESOURCE: clear error" "needs CAP_SYS_RESOURCE" "$err"
  size=$(df_field c1 2)
  check "refused grow left the disk as it was (${size} KiB)" test "$size" -lt 65536
fi
"${IMG[@]}" disk snapshot "$D1" s1
"${RT[@]}" exec c1 touch /after-snapshot
check "snapshot listed" bash -c "'${IMG[0]}' --store '$WORK/store' disk snapshots '$D1' | grep -q '^s1'"
err=$("${IMG[@]}" disk rollback "$D1" s1 2>&1) && fail "rollback of a mounted disk" || expect_contains "rollback needs the container stopped" "stop the container first" "$err"
err=$("${IMG[@]}" disk snapshot "$D1" ../x 2>&1) && fail "bad snapshot name accepted" || expect_contains "bad snapshot name named" 'snapshot name "../x"' "$err"
stop_system c1
"${IMG[@]}" disk umount "$D1"
check "unmounted: no mount left" bash -c "! grep -q ' $D1/' /proc/self/mountinfo"
check "unmounted: loop device detached" bash -c "! losetup -a | grep -q '$D1/disk.img'"
"${IMG[@]}" disk resize "$D1" 128M
"${IMG[@]}" disk mount "$D1" >/dev/null
size=$(df -k --output=size "$D1/rootfs" | tail -1)
check "grown offline to 128 MiB (${size} KiB)" test "$size" -gt 100000
"${IMG[@]}" disk umount "$D1"
"${IMG[@]}" disk rollback "$D1" s1
R1=$("${IMG[@]}" disk mount "$D1")
check "rollback: later file gone" test ! -e "$R1/after-snapshot"
expect_eq "rollback: earlier change kept" "hello" "$(cat "$R1/etc/motd")"
"${IMG[@]}" disk umount "$D1"

# --- an unmount while another mount namespace holds a copy -----------------
# A mount namespace made while the disk is mounted (a container starting
# meanwhile) keeps its file system alive after the unmount here: mounting
# again must reach that file system, not a second one over the same file.
R1=$("${IMG[@]}" disk mount "$D1")
unshare --mount --propagation private sleep 300 &
HOLDER=$!
for _ in $(seq 50); do grep -q " $D1/" "/proc/$HOLDER/mountinfo" 2>/dev/null && break; sleep 0.1; done
echo held > "$R1/while-held"
"${IMG[@]}" disk umount "$D1"
check "held: the image stays attached after the unmount" bash -c "losetup -a | grep -q '$D1/disk.img'"
R1=$("${IMG[@]}" disk mount "$D1")
expect_eq "held: a file written before the unmount is there once mounted again" held "$(cat "$R1/while-held" 2>&1)"
expect_eq "held: one loop device on the image" 1 "$(losetup -j "$D1/disk.img" | wc -l)"
expect_eq "held: the attach noted its device" "$(losetup -j "$D1/disk.img" | cut -d: -f1 | xargs basename)" "$(cat "$D1/loop")"
# A note cut short (a crash while writing it) is no answer: every loop
# device is asked, and the held one is still found.
"${IMG[@]}" disk umount "$D1"
printf 'loo' > "$D1/loop"
R1=$("${IMG[@]}" disk mount "$D1")
expect_eq "held, note cut short: the file is there once mounted again" held "$(cat "$R1/while-held" 2>&1)"
expect_eq "held, note cut short: still one loop device on the image" 1 "$(losetup -j "$D1/disk.img" | wc -l)"
# A crash between "attaching" and the device's name: the same.
"${IMG[@]}" disk umount "$D1"
printf 'attaching\n' > "$D1/loop"
R1=$("${IMG[@]}" disk mount "$D1")
expect_eq "held, note left at attaching: still one loop device on the image" 1 "$(losetup -j "$D1/disk.img" | wc -l)"
rm "$R1/while-held"
"${IMG[@]}" disk umount "$D1"
kill "$HOLDER"; wait "$HOLDER" 2>/dev/null || true; HOLDER=
for _ in $(seq 50); do losetup -a | grep -q "$D1/disk.img" || break; sleep 0.1; done
check "held: detached once the other namespace is gone" bash -c "! losetup -a | grep -q '$D1/disk.img'"

# --- offline shrink --------------------------------------------------------
"${IMG[@]}" disk resize "$D1" 48M
"${IMG[@]}" disk mount "$D1" >/dev/null
head -c 30M /dev/zero > "$D1/rootfs/fill"
"${IMG[@]}" disk umount "$D1"
err=$("${IMG[@]}" disk resize "$D1" 20M 2>&1) && fail "shrink below the data accepted" || expect_contains "shrink below the data refused" "shrink to" "$err"
"${IMG[@]}" disk mount "$D1" >/dev/null
expect_eq "data intact after a refused shrink" "31457280" "$(stat -c %s "$D1/rootfs/fill")"
err=$("${IMG[@]}" disk resize "$D1" 32M 2>&1) && fail "shrink while mounted" || expect_contains "shrink needs the disk unmounted" "stop the container first" "$err"
rm "$D1/rootfs/fill"
"${IMG[@]}" disk umount "$D1"

# --- commit to an image, read by skopeo, run -------------------------------
out=$("${IMG[@]}" disk commit "$D1" berth/custom)
expect_contains "committed" "berth/custom sha256:" "$out"
"${IMG[@]}" export-oci --name custom berth/custom "$WORK/oci-custom" >/dev/null
layers=$(skopeo inspect --raw "oci:$WORK/oci-custom:custom" | jq '.layers | length')
expect_eq "skopeo reads the committed image: base layer + one" "2" "$layers"
D2=$DISKS/c2
"${IMG[@]}" disk create --size 64M berth/custom "$D2" >/dev/null
R2=$("${IMG[@]}" disk mount "$D2")
expect_eq "committed file present" "hello" "$(cat "$R2/etc/motd")"
check "whiteout: deleted file stays deleted" test ! -e "$R2/etc/os-release"
check "opaque directory: the base's /var/run is hidden" test ! -e "$R2/var/run"
check "opaque directory: new content kept" test -e "$R2/var/log/fresh"
expect_eq "owners kept" "1234:5678" "$(stat -c %u:%g "$R2/owned")"
B2=$(system_bundle c2 "$R2")
"${RT[@]}" run -d --bundle "$B2" c2 </dev/null >/dev/null
check "the committed image boots" wait_booted c2
stop_system c2

# --- a shifted disk (user-namespaced container) ----------------------------
D3=$DISKS/c3
"${IMG[@]}" disk create --size 32M --shift 200000:200000 berth/busybox "$D3" >/dev/null
R3=$("${IMG[@]}" disk mount "$D3")
expect_eq "shifted disk: image files owned by the shifted root" "200000:200000" "$(stat -c %u:%g "$R3/bin/busybox")"
expect_eq "shifted disk: upper owned by the shifted root" "200000:200000" "$(stat -c %u:%g "$D3/mnt/upper")"
echo y > "$R3/newfile" && chown 201000:201000 "$R3/newfile"
rm "$R3/etc/os-release"  # the whiteout is made as the mounter: host root, outside the range
"${IMG[@]}" disk umount "$D3"
"${IMG[@]}" disk commit "$D3" berth/unshifted >/dev/null
D4=$DISKS/c4
"${IMG[@]}" disk create --size 32M berth/unshifted "$D4" >/dev/null
R4=$("${IMG[@]}" disk mount "$D4")
expect_eq "commit shifts owners back" "1000:1000" "$(stat -c %u:%g "$R4/newfile")"
check "commit of a shifted disk keeps a deletion" test ! -e "$R4/etc/os-release"

# --- export a disk's changes, import them into others ---------------------
# A shifted disk's changes go to a disk with another shift (through a pipe)
# and to an unshifted one (through a file); both must show A's tree.
DA=$DISKS/xa DB=$DISKS/xb DC=$DISKS/xc
"${IMG[@]}" disk create --size 64M --shift 100000:100000 berth/busybox "$DA" >/dev/null
out=$("${IMG[@]}" disk export "$DA" "$WORK/never-mounted.tgz")
expect_contains "a never mounted disk exports an empty stream" "0 entries" "$out"
RA=$("${IMG[@]}" disk mount "$DA")
(
  cd "$RA"
  echo new > newfile && chown 101000:101000 newfile
  echo changed > etc/hostname
  rm etc/os-release
  rm -rf var && mkdir -p var/log && touch var/log/fresh && chown -R 100000:100000 var
  ln -s /etc/hostname link && chown -h 100000:100000 link
  echo linked > hl1 && chown 100000:100000 hl1 && ln hl1 hl2
  echo x > xfile && chown 100000:100000 xfile
  python3 -c 'import os; os.setxattr("xfile", "user.berth", b"hello")'
  echo o > owned && chown 101234:105678 owned
  head -c 1M /dev/urandom > random && chown 100000:100000 random
)
"${IMG[@]}" disk umount "$DA"
"${IMG[@]}" disk export "$DA" "$WORK/changes.tgz" >/dev/null
check "export to a file: gzip'd tar" bash -c "tar -tzf '$WORK/changes.tgz' 2>/dev/null | grep -qx 'etc/.wh.os-release'"
"${IMG[@]}" disk create --size 64M --shift 300000:300000 berth/busybox "$DB" >/dev/null
"${IMG[@]}" disk create --size 64M berth/busybox "$DC" >/dev/null
if "${IMG[@]}" disk export "$DA" | "${IMG[@]}" disk import "$DB" >/dev/null; then
  ok "export | import through a pipe"
else
  fail "export | import through a pipe"
fi
"${IMG[@]}" disk import "$DC" "$WORK/changes.tgz" >/dev/null
check "import leaves the disk unmounted" bash -c "! grep -q ' $DB/' /proc/self/mountinfo"
# tree_of ROOT SHIFT: every entry's type, mode, owner (less SHIFT), size,
# link target and mtime, then every file's content.
tree_of() {
  (cd "$1" && find . -mindepth 1 -printf '%P|%y|%m|%U|%G|%s|%l|%Ts\n' |
    awk -F'|' -v OFS='|' -v b="$2" '{ $4 -= b; $5 -= b; print }' | sort &&
    find . -type f -exec sha256sum {} + | sort -k2)
}
RA=$("${IMG[@]}" disk mount "$DA")
RB=$("${IMG[@]}" disk mount "$DB")
RC=$("${IMG[@]}" disk mount "$DC")
tree_of "$RA" 100000 > "$WORK/tree-a"
check "imported with another shift: the same tree" cmp -s "$WORK/tree-a" <(tree_of "$RB" 300000)
check "imported unshifted: the same tree" cmp -s "$WORK/tree-a" <(tree_of "$RC" 0)
expect_eq "owners shifted into the new range" "301234:305678" "$(stat -c %u:%g "$RB/owned")"
expect_eq "owners unshifted" "1234:5678" "$(stat -c %u:%g "$RC/owned")"
expect_eq "changed lower file" "changed" "$(cat "$RB/etc/hostname")"
check "deleted lower file stays deleted" test ! -e "$RB/etc/os-release"
check "opaque directory hides the lower /var/run" test ! -e "$RB/var/run" -a -e "$RB/var/log/fresh"
expect_eq "hard link kept" "$(stat -c %i "$RB/hl1")" "$(stat -c %i "$RB/hl2")"
expect_eq "symlink kept" "/etc/hostname" "$(readlink "$RB/link")"
expect_eq "xattr kept" "b'hello'" "$(python3 -c 'import os, sys; print(os.getxattr(sys.argv[1], "user.berth"))' "$RB/xfile")"
err=$("${IMG[@]}" disk import "$DB" "$WORK/changes.tgz" 2>&1) && fail "import into a mounted disk" ||
  expect_contains "import into a mounted disk refused" "import into $DB: the disk is mounted" "$err"
for d in "$DA" "$DB" "$DC"; do "${IMG[@]}" disk umount "$d"; done
err=$("${IMG[@]}" disk import "$DB" "$WORK/changes.tgz" 2>&1) && fail "import into a disk with changes" ||
  expect_contains "import into a disk with changes refused" "already has changes" "$err"

# --- bad streams: clear errors, nothing written outside -------------------
head -c 300000 "$WORK/changes.tgz" > "$WORK/truncated.tgz"
mkdir "$WORK/outside"
python3 - "$WORK" <<'PY'
import io, sys, tarfile
work = sys.argv[1]
def layer(name, entries):  # entries: (path, type, data or link target)
    with tarfile.open(f"{work}/{name}.tgz", "w:gz") as t:
        for path, kind, arg in entries:
            ti = tarfile.TarInfo(path)
            if kind == "file":
                ti.size = len(arg)
                t.addfile(ti, io.BytesIO(arg))
            else:
                ti.type, ti.linkname = (tarfile.SYMTYPE if kind == "sym" else tarfile.LNKTYPE), arg
                t.addfile(ti)
layer("dotdot", [("ok", "file", b"ok\n"), ("../../escaped", "file", b"x\n")])
layer("abs-symlink", [("evil", "sym", f"{work}/outside"), ("evil/pwned", "file", b"x\n")])
layer("hardlink", [("h", "hard", "../../../etc/passwd")])
layer("too-big", [("big", "file", bytes(17 << 20))])
PY
bad_import() { # bad_import NAME EXPECTED: a fresh 16 MiB disk refuses stream NAME
  local d=$DISKS/bad-$1 err
  "${IMG[@]}" disk create --size 16M berth/busybox "$d" >/dev/null
  err=$("${IMG[@]}" disk import "$d" "$WORK/$1.tgz" 2>&1) && fail "stream $1 accepted" ||
    expect_contains "stream $1 refused: $2" "$2" "$err"
  expect_contains "stream $1: the error names the disk" "berth-image: import into $d: " "$err"
  check "stream $1: disk left unmounted" bash -c "! grep -q ' $d/' /proc/self/mountinfo"
  "${IMG[@]}" disk destroy "$d"
}
bad_import truncated "truncated gzip input"
bad_import dotdot 'entry ../../escaped: path has a ".." component'
bad_import abs-symlink "entry evil/pwned: parent directory: open evil"
bad_import hardlink 'entry h: hardlink target ../../../etc/passwd: path has a ".." component'
bad_import too-big "entry big: size 17825792 exceeds the layer limit of 16777216 bytes"
check "nothing written outside the upper directory" test -z "$(ls "$WORK/outside")" -a ! -e "$DISKS/escaped"
for d in "$DA" "$DB" "$DC"; do "${IMG[@]}" disk destroy "$d"; done

# --- destroy and prune: nothing left --------------------------------------
for d in "$D1" "$D2" "$D3" "$D4"; do "${IMG[@]}" disk destroy "$d"; done
check "destroyed disks removed" test -z "$(ls "$DISKS")"
check "no mount under the test dir" bash -c "! grep -q '$WORK' /proc/self/mountinfo"
check "no loop device on the test's images" bash -c "! losetup -a | grep -q '$WORK'"
"${IMG[@]}" rm berth/custom >/dev/null
"${IMG[@]}" rm berth/unshifted >/dev/null
out=$("${IMG[@]}" prune)
expect_contains "prune removes the committed layers once no disk holds them" "removed" "$out"
check "the busybox template's layer is still there" bash -c "ls '$WORK/store/layers/sha256' | grep -q ."
finish
