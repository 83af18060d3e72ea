#!/usr/bin/env bash
# cve_2019_5736_test.sh — CVE-2019-5736, the attack carried out: the
# container's process (cve_2019_5736_attack.c, static) plants a
# `#!/proc/self/exe` script, holds the process the administrator's
# `berth-runtime exec` runs it in, opens its /proc/PID/exe and, once the
# runtime has exited, writes a payload into that binary. Asserted on the
# host: the runtime's binary is unchanged and the payload never ran.
#
# The binary attacked is a copy of $BERTH_RUNTIME (a defence that fails
# must not destroy the build's binary). With BERTH_EXPECT_ESCAPE=1 the test
# asserts the opposite, that the attack succeeds: prove.sh runs it so
# against a build without the defence (BERTH_TEST_UNDEFEND=cve-2019-5736).
source "$(dirname "$0")/lib.sh"

mkdir -p "$WORK/bin"
VICTIM=$WORK/bin/berth-runtime
cp "$BERTH_RUNTIME" "$VICTIM"
V=("$VICTIM" --root "$STATE")
before=$(sha256sum < "$VICTIM")
marker=$WORK/payload-ran

rootfs=$WORK/rootfs-5736
BERTH_RUNTIME=$VICTIM attack_rootfs_5736 "$rootfs"

b=$(JQ=".root.path=\"$rootfs\"" make_bundle cve5736 /attack /hold /bin/x "$marker")
"${V[@]}" run -d --bundle "$b" cve5736 > "$WORK/attack.log" 2>&1
for _ in $(seq 200); do [ -e "$rootfs/ready" ] && break; sleep 0.05; done
check "the attacker planted its trigger" test -e "$rootfs/ready"

# The administrator's ordinary exec of a program the container provides,
# then (whatever the attacker did meanwhile) the next call of the runtime.
set +e
bounded 150 "${V[@]}" exec cve5736 /bin/x > "$WORK/exec.log" 2>&1
touch "$rootfs/done"
for _ in $(seq 300); do
  [ "$("${RT[@]}" state cve5736 2>/dev/null | jq -r .status)" = stopped ] && break
  sleep 0.5
done
"$VICTIM" --version > /dev/null 2>&1
set -e
verdict=$(cat "$rootfs/verdict" 2>/dev/null || echo "none")
echo "# attacker: $(tr '\n' ' ' < "$WORK/attack.log")"
after=$(sha256sum < "$VICTIM")

judge_5736 "berth-runtime exec" "$verdict" "$before" "$after" "$marker"
"${RT[@]}" delete --force cve5736 >/dev/null 2>&1 || true
finish
