#!/usr/bin/env bash
# Usage: tests/vm/smoke.sh [plain|systemd|all]  — smoke-test run-in-vm.sh (pure cgroup v2, output and exit status; systemd as PID 1).
# shellcheck disable=SC2016  # single-quoted scripts expand in the guest
set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
VM=$HERE/run-in-vm.sh
MODE=${1:-all}
FAILS=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/berth-vm-smoke.XXXXXX")
trap 'rm -rf -- "$TMP"' EXIT

pass() { printf 'PASS: %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*"; FAILS=$((FAILS + 1)); }

# expect NAME WANT_RC WANT_STDOUT_REGEX -- [run-in-vm options] -- COMMAND...
expect() {
  local name=$1 want_rc=$2 want_out=$3 rc=0
  shift 4
  "$VM" -t 300 "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
  if [[ $rc != "$want_rc" ]]; then
    fail "$name: exit status $rc, want $want_rc"
  elif [[ -n $want_out ]] && ! grep -Eq -- "$want_out" "$TMP/out"; then
    fail "$name: stdout does not match /$want_out/"
  else
    pass "$name"; return 0
  fi
  sed 's/^/  stdout: /' "$TMP/out"; sed 's/^/  stderr: /' "$TMP/err"
}

# Checks run in the guest; prints one line per verdict, exits nonzero on failure.
read -r -d '' CGCHECK <<'EOF' || true
set -u
ok=1
t=$(stat -fc %T /sys/fs/cgroup)
[ "$t" = cgroup2fs ] || { echo "cgroup fs type: $t"; ok=0; }
v1=$(awk '$3 == "cgroup"' /proc/mounts)
[ -z "$v1" ] || { echo "cgroup v1 mounted: $v1"; ok=0; }
c=" $(cat /sys/fs/cgroup/cgroup.controllers) "
for x in memory pids cpu; do
  case $c in *" $x "*) ;; *) echo "controller $x missing from:$c"; ok=0 ;; esac
done
echo "controllers:$c"
[ $ok = 1 ] && echo CGROUP2-PURE-OK
[ $ok = 1 ]
EOF

if [[ $MODE == plain || $MODE == all ]]; then
  expect "plain: pure cgroup v2 with memory/pids/cpu" 0 '^CGROUP2-PURE-OK$' -- \
    /bin/sh -c "$CGCHECK"
  expect "plain: exit status and stdout/stderr propagate" 3 '^to-stdout$' -- \
    /bin/sh -c 'echo to-stdout; echo to-stderr >&2; exit 3'
  if grep -qx to-stderr "$TMP/err" && ! grep -q to-stderr "$TMP/out"; then
    pass "plain: stderr kept apart from stdout"
  else
    fail "plain: stderr not delivered separately"
  fi
  expect "plain: false fails" 1 '' -- false
  expect "plain: -C, -e and the tmpfs overlay" 0 '^/usr/share X=a b ok$' -- \
    -C /usr/share -e 'X=a b' -- /bin/sh -c 'touch /usr/share/.berth-vm && echo "$PWD X=$X ok"'
fi

if [[ $MODE == systemd || $MODE == all ]]; then
  expect "systemd: PID 1 is systemd, boot completes, test unit delegated" 0 \
    '^berth-test.service running$' -- --systemd -- /bin/sh -c '
      [ "$(cat /proc/1/comm)" = systemd ] || { echo "PID 1 is $(cat /proc/1/comm)"; exit 1; }
      state=$(systemctl is-system-running --wait) || true
      cg=$(cut -d: -f3 /proc/self/cgroup)
      [ "$cg" = /system.slice/berth-test.service ] || { echo "cgroup $cg"; exit 1; }
      [ "$(systemctl show -P Delegate berth-test.service)" = yes ] || { echo "not delegated"; exit 1; }
      echo "berth-test.service $state"'
  expect "systemd: pure cgroup v2 with memory/pids/cpu" 0 '^CGROUP2-PURE-OK$' -- --systemd -- \
    /bin/sh -c "$CGCHECK"
  expect "systemd: exit status propagates" 5 '^x$' -- --systemd -- /bin/sh -c 'echo x; exit 5'
fi

if ((FAILS)); then echo "$FAILS check(s) failed"; exit 1; fi
echo "all checks passed"
