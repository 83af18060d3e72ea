# assert.sh — the checks a test script counts: ok/fail lines ("ok - ...",
# "FAIL - ..."), PASSED and FAILED for its summary. Sourced.
PASSED=0 FAILED=0
ok() { PASSED=$((PASSED + 1)); echo "ok - $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL - $*"; }
expect_eq() { if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: expected [$2], got [$3]"; fi; }
expect_contains() { if [[ "$3" == *"$2"* ]]; then ok "$1"; else fail "$1: [$2] not in [$3]"; fi; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }
