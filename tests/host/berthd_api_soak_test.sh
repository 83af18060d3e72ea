#!/usr/bin/env bash
# berthd_api_soak_test.sh — berthd under a stream of malformed and refused
# requests, as a careless or hostile client sends them: 50,000 (BERTH_SOAK_N)
# requests, four fifths on the unix socket and one fifth over mutual TLS on
# loopback (api_soak.py: broken request lines, unknown methods and paths,
# bodies that are not JSON or carry unknown fields and wrong types, bad
# container names, oversized headers and bodies, requests cut short). Every
# answer is a 4xx (or the connection closes), berthd still serves, and no
# container changed: the records and the running init are the same. Then
# one TCP client past --max-client-rate gets 429 with Retry-After, and past
# --max-client-connections its next connection's request gets 429.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/berthd_lib.sh"
N=${BERTH_SOAK_N:-50000}

PKI=$WORK/pki
source "$ROOT_DIR/tests/lib/pki.sh"
new_ca ca "berth soak CA"
new_cert server ca berthd.test 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth'
new_cert client ca 'soak-client/OU=admin' 'extendedKeyUsage=clientAuth'
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
TLS=(--listen-tcp "127.0.0.1:$PORT" --tls-cert "$PKI/server.crt" --tls-key "$PKI/server.key" --tls-client-ca "$PKI/ca.crt")
# The soak's one TLS client asks faster than a client may by default.
start_berthd "${TLS[@]}" --max-client-rate 1000000
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

# --- one TCP client's connections and request rate --------------------------
kill "$BPID"; wait "$BPID" 2>/dev/null || true
start_berthd "${TLS[@]}" --max-client-rate 1 --max-client-connections 2
curl_tls() { curl -s --cacert "$PKI/ca.crt" --cert "$PKI/client.crt" --key "$PKI/client.key" "$@"; }
for _ in $(seq 30); do printf 'url = "https://127.0.0.1:%s/v1/containers"\noutput = "/dev/null"\n' "$PORT"; done \
  > "$WORK/burst.cfg"
t0=$(now_ms)
curl_tls -w '%{http_code} %header{retry-after}\n' -K "$WORK/burst.cfg" > "$WORK/codes"
took=$(( $(now_ms) - t0 ))
answered=$(grep -c '^200 $' "$WORK/codes" || true) refused=$(grep -c '^429 1$' "$WORK/codes" || true)
echo "# 30 requests over TLS in $took ms, at most 1 a second (bursts of 2): $answered answered, $refused refused"
# The bucket: 2 at once, one more for each second the burst took.
check "the burst is answered as far as the bucket goes ($answered)" \
  test "$answered" -ge 2 -a "$answered" -le $(( 2 + took / 1000 + 1 ))
expect_eq "... the rest refused with 429 and Retry-After: 1" 30 $(( answered + refused ))
sleep 3
out=$(python3 - "$PORT" "$PKI" <<'EOF'
import socket, ssl, sys
port, pki = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=f"{pki}/ca.crt")
ctx.load_cert_chain(f"{pki}/client.crt", f"{pki}/client.key")
conns = [ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="127.0.0.1") for _ in range(3)]
for c in conns:
    c.sendall(b"GET /v1/containers HTTP/1.1\r\nHost: berthd\r\n\r\n")
    print(c.recv(4096).split(b"\r\n")[0].decode())
EOF
)
expect_eq "two connections of one client answered, a third refused" "HTTP/1.1 200 OK,HTTP/1.1 200 OK,HTTP/1.1 429 Too Many Requests" \
  "$(echo "$out" | paste -sd,)"
check "the unix socket has no such limit" "$BERTH" status c1

"$BERTH" stop c1 >/dev/null
for c in c1 c2; do "$BERTH" destroy "$c" >/dev/null; done
echo "# passed $PASSED, failed $FAILED"
[ "$FAILED" -eq 0 ]
