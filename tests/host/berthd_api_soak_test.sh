#!/usr/bin/env bash
# berthd_api_soak_test.sh — berthd under a stream of malformed and refused
# requests, as a careless or hostile client sends them: 50,000 (BERTH_SOAK_N)
# requests, four fifths on the unix socket and one fifth over mutual TLS on
# loopback (api_soak.py: broken request lines, unknown methods and paths,
# bodies that are not JSON or carry unknown fields and wrong types, bad
# container names, oversized headers and bodies, requests cut short). Every
# answer is a 4xx (or the connection closes), berthd still serves, and no
# container changed: the records and the running init are the same.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/berthd_lib.sh"
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }
N=${BERTH_SOAK_N:-50000}

PKI=$WORK/pki
source "$ROOT_DIR/tests/lib/pki.sh"
new_ca ca "berth soak CA"
new_cert server ca berthd.test 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth'
new_cert client ca soak-client 'extendedKeyUsage=clientAuth'
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start_berthd --listen-tcp "127.0.0.1:$PORT" --tls-cert "$PKI/server.crt" --tls-key "$PKI/server.key" \
  --tls-client-ca "$PKI/ca.crt"
make_init_rootfs
"$BERTH" create c1 --rootfs "$TPL" --ram 64M >/dev/null
"$BERTH" create c2 --rootfs "$TPL" >/dev/null
"$BERTH" start c1 >/dev/null
before=$("$BERTH" list --format json | jq -c 'sort_by(.name) | map({name, state, init_pid, config})')
records=$(cat "$STATE"/containers/*/config)

t0=$(now_ms)
out=$(python3 "$ROOT_DIR/tests/host/api_soak.py" --unix "$SOCK" --tls "127.0.0.1:$PORT" --ca "$PKI/ca.crt" \
  --cert "$PKI/client.crt" --key "$PKI/client.key" -n "$N" 2>&1) || true
echo "$out" | sed 's/^/# /'
echo "# $N requests in $(( $(now_ms) - t0 )) ms"
expect_contains "every one of the $N requests answered 4xx or closed" "bad answers: 0" "$out"
expect_contains "... all of them sent" "sent: $N" "$out"
check "berthd still runs" kill -0 "$BPID"
check "... and serves" "$BERTH" status c1
expect_eq "no container changed" "$before" \
  "$("$BERTH" list --format json | jq -c 'sort_by(.name) | map({name, state, init_pid, config})')"
expect_eq "no record changed" "$records" "$(cat "$STATE"/containers/*/config)"
expect_eq "no operation was started" "[]" "$(curl -s --unix-socket "$SOCK" http://berthd/v1/operations |
  jq -c '[.[] | select(.action != "create" and .action != "start")]')"

"$BERTH" stop c1 >/dev/null
for c in c1 c2; do "$BERTH" destroy "$c" >/dev/null; done
echo "# passed $PASSED, failed $FAILED"
[ "$FAILED" -eq 0 ]
