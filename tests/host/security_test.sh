#!/usr/bin/env bash
# security_test.sh — regression tests for the runtime CVE classes; each
# fails on a runtime without the defence.
source "$(dirname "$0")/lib.sh"

# CVE-2019-5736: while the init is still the runtime's image (created, not
# started), it is not dumpable: a process in the container cannot open it
# through /proc/1/exe. The attack itself is tests/security/cve_2019_5736_test.sh.
b=$(make_bundle exe sleep 100)
"${RT[@]}" create --bundle "$b" exe
set +e; "${RT[@]}" exec exe sh -c 'cat /proc/1/exe > /dev/null' 2>/dev/null; rc=$?; set -e
check "CVE-2019-5736: /proc/1/exe of the runtime is not readable from the container" test "$rc" -ne 0
"${RT[@]}" delete --force exe

# CVE-2021-30465 class: a mount destination through a symlink that points
# outside the rootfs must land inside the rootfs.
rootfs2=$WORK/rootfs-escape
cp -a "$(base_rootfs)" "$rootfs2"
mkdir -p "$WORK/host-target"
ln -s "$WORK/host-target" "$rootfs2/escape"
b=$(JQ=".root.path=\"$rootfs2\" | .mounts += [{\"destination\":\"/escape/mnt\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"}]" make_bundle esc sh -c 'touch /escape/mnt/inside')
"${RT[@]}" run --bundle "$b" esc >/dev/null 2>&1 || true
check "CVE-2021-30465: nothing created in the host target" test -z "$(ls -A "$WORK/host-target")"
check "CVE-2021-30465: no host mount made" bash -c "! grep -q '$WORK/host-target' /proc/self/mountinfo"

# CVE-2024-21626: a cwd through a leaked fd must not reach the host.
for fd in 3 4 5 6 7 8 9; do
  b=$(JQ=".process.cwd=\"/proc/self/fd/$fd\"" make_bundle "cwd$fd" sh -c 'pwd; ls ..')
  set +e; out=$("${RT[@]}" run --bundle "$b" "cwd$fd" 2>&1); set -e
  if [[ "$out" == *"bin"* && "$out" != *"berth-runtime"* && "$out" == *"/sys/fs/cgroup"* ]]; then
    fail "CVE-2024-21626: cwd via fd $fd reached the host: $out"
  elif [[ "$out" == *"(unreachable)"* ]]; then
    fail "CVE-2024-21626: cwd via fd $fd is outside the root: $out"
  else
    ok "CVE-2024-21626: cwd via fd $fd stays inside"
  fi
done

# CVE-2022-29162: exec --cap never fills the inheritable set.
b=$(make_bundle caps sleep 100)
"${RT[@]}" run -d --bundle "$b" caps
inh=$("${RT[@]}" exec --cap CAP_NET_ADMIN caps sh -c 'grep CapInh /proc/self/status' | awk '{print $2}')
expect_eq "CVE-2022-29162: inheritable set empty after exec --cap" 0000000000000000 "$inh"
eff=$("${RT[@]}" exec --cap CAP_NET_ADMIN caps sh -c 'grep CapEff /proc/self/status' | awk '{print $2}')
check "exec --cap grants the capability" test $(( 0x$eff & (1 << 12) )) -ne 0
inh=$("${RT[@]}" exec caps sh -c 'grep CapInh /proc/self/status' | awk '{print $2}')
expect_eq "default inheritable set empty" 0000000000000000 "$inh"
"${RT[@]}" delete --force caps

# CVE-2023-27561: /proc as a symlink in the rootfs is refused.
rootfs3=$WORK/rootfs-procsym
cp -a "$(base_rootfs)" "$rootfs3"
rmdir "$rootfs3/proc"; mkdir -p "$rootfs3/fakeproc"; ln -s /fakeproc "$rootfs3/proc"
b=$(JQ=".root.path=\"$rootfs3\"" make_bundle procsym true)
set +e; out=$("${RT[@]}" run --bundle "$b" procsym 2>&1); rc=$?; set -e
check "CVE-2023-27561: /proc symlink refused" test "$rc" -ne 0
expect_contains "CVE-2023-27561: message" "ordinary directory" "$out"
check "CVE-2023-27561: nothing left" no_leftovers procsym

# /dev as a symlink out of the rootfs: devices land inside the rootfs.
rootfs4=$WORK/rootfs-devsym
cp -a "$(base_rootfs)" "$rootfs4"
mkdir -p "$WORK/host-dev"
rmdir "$rootfs4/dev"; ln -s "$WORK/host-dev" "$rootfs4/dev"
b=$(JQ=".root.path=\"$rootfs4\"" make_bundle devsym sh -c 'ls /dev/null')
"${RT[@]}" run --bundle "$b" devsym >/dev/null 2>&1 || true
check "/dev symlink: host directory untouched" test -z "$(ls -A "$WORK/host-dev")"

# A masked path that is a symlink in the rootfs is never followed to a
# host file, and the rootfs' own /dev/null is never used as the mask.
rootfs5=$WORK/rootfs-masksym
cp -a "$(base_rootfs)" "$rootfs5"
echo secret > "$WORK/host-secret"
ln -s "$WORK/host-secret" "$rootfs5/etc/masked"
b=$(JQ=".root.path=\"$rootfs5\" | .linux.maskedPaths += [\"/etc/masked\"]" make_bundle masksym true)
"${RT[@]}" run --bundle "$b" masksym >/dev/null 2>&1 || true
expect_eq "masked symlink: host file intact" secret "$(cat "$WORK/host-secret")"
check "masked symlink: no host mount" bash -c "! grep -q host-secret /proc/self/mountinfo"
b=$(JQ='.linux.maskedPaths += ["/etc/passwd"]' make_bundle mask sh -c 'cat /etc/passwd | wc -c; cat /proc/keys 2>&1 | wc -c')
out=$("${RT[@]}" run --bundle "$b" mask 2>&1 | tr '\n' ' ')
expect_eq "masked file reads empty" "0 0 " "$out"

finish
