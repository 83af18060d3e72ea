#!/usr/bin/env bash
# berthd_tls_test.sh — berthd's API on a TCP port with mutual TLS: a CA, a
# server certificate for 127.0.0.1 and client certificates made here; curl
# with a client certificate gets the API, without one, with one of another
# CA, in plain HTTP or silent it is refused and berthd keeps serving;
# oversized and malformed requests over TLS get 4xx; the berth CLI with
# --remote builds the busybox template, creates, starts, execs (also on a
# pty), stops and destroys a container and events say who asked (the
# certificate's CN); the CLI names a distrusted server and a refused
# client certificate; bad flags and files stop berthd at start with their
# names; nothing left behind.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/berthd_lib.sh"

for tool in openssl curl python3; do
  command -v "$tool" >/dev/null || { echo "skip: $tool not installed"; exit 77; }
done

# --- certificates ------------------------------------------------------------
PKI=$WORK/pki
source "$ROOT_DIR/tests/lib/pki.sh"
new_ca ca "berth test CA"
new_ca other "another CA"
new_cert server ca berthd.test 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth'
new_cert client ca 'orchestrator-1/OU=admin' 'extendedKeyUsage=clientAuth'
new_cert stranger other orchestrator-x 'extendedKeyUsage=clientAuth'

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ADDR=127.0.0.1:$PORT
TLS_FLAGS=(--listen-tcp "$ADDR" --tls-cert "$PKI/server.crt" --tls-key "$PKI/server.key" --tls-client-ca "$PKI/ca.crt")

# --- startup errors: each names the flag or the file ------------------------
bad_start() {  # bad_start FLAG...: berthd's output; it must exit by itself
  local d=$WORK/bad
  mkdir -p "$d"
  timeout 10 "$BERTHD" --state-dir "$d/state" --run-dir "$d/run" --socket "$d/sock" --cgroup-parent "$CG" \
    --monitor "$BERTH_MONITOR" "$@" 2>&1 && echo "exit 0" || echo "exit $?"
}
out=$(bad_start --listen-tcp "$ADDR" --tls-cert "$PKI/server.crt" --tls-client-ca "$PKI/ca.crt")
expect_contains "no --tls-key: refused naming the flag" "--listen-tcp needs --tls-key" "$out"
expect_contains "no --tls-key: berthd exits 2" "exit 2" "$out"
out=$(bad_start --listen-tcp "$ADDR" --tls-key "$PKI/server.key" --tls-client-ca "$PKI/ca.crt")
expect_contains "no --tls-cert: refused naming the flag" "--tls-cert" "$out"
out=$(bad_start --tls-cert "$PKI/server.crt")
expect_contains "TLS file without --listen-tcp refused" "--tls-cert without --listen-tcp" "$out"
out=$(bad_start --listen-tcp "$ADDR" --tls-cert "$PKI/nosuch.crt" --tls-key "$PKI/server.key" --tls-client-ca "$PKI/ca.crt")
expect_contains "missing certificate file named" "$PKI/nosuch.crt" "$out"
expect_contains "missing certificate: berthd exits 1" "exit 1" "$out"
out=$(bad_start --listen-tcp "$ADDR" --tls-cert "$PKI/server.crt" --tls-key "$PKI/client.key" --tls-client-ca "$PKI/ca.crt")
expect_contains "key of another certificate refused" "--tls-key $PKI/client.key: not a PEM private key that matches the certificate in $PKI/server.crt" "$out"
out=$(bad_start --listen-tcp "$ADDR" --tls-cert "$PKI/server.ext" --tls-key "$PKI/server.key" --tls-client-ca "$PKI/ca.crt")
expect_contains "certificate file that is no PEM named" "--tls-cert $PKI/server.ext: not a PEM certificate" "$out"
out=$(bad_start --listen-tcp "localhost:$PORT" "${TLS_FLAGS[@]:2}")
expect_contains "listen address must be a literal" "not a name" "$out"
out=$(bad_start --listen-tcp "::1:$PORT" "${TLS_FLAGS[@]:2}")
expect_contains "unbracketed IPv6 refused" "[ADDR]:PORT" "$out"

# --- berthd with the TCP listener --------------------------------------------
start_berthd "${TLS_FLAGS[@]}"
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
# A peer that connects and says nothing: berthd drops it after its handshake timeout.
python3 -c 'import socket, sys, time; s = socket.create_connection(("127.0.0.1", int(sys.argv[1]))); time.sleep(30)' "$PORT" &
SILENT=$!
SILENT_SINCE=$(date +%s)

out=$(bad_start "${TLS_FLAGS[@]}")
expect_contains "a port in use is named" "--listen-tcp $ADDR: Address already in use" "$out"

CURL_OK=(curl -sS --max-time 10 --cacert "$PKI/ca.crt" --cert "$PKI/client.crt" --key "$PKI/client.key")
alive() { "$BERTH" list >/dev/null 2>&1 && "${CURL_OK[@]}" -o /dev/null "https://$ADDR/v1"; }

expect_eq "ping over TLS" '{"api":"v1","server":"berthd"}' "$("${CURL_OK[@]}" "https://$ADDR/v1")"
expect_eq "container list over TLS" "[]" "$("${CURL_OK[@]}" "https://$ADDR/v1/containers" | tr -d ' \n')"
# TLS 1.1 offered by a client that allows it (security level 0): berthd refuses.
timeout 10 openssl s_client -connect "$ADDR" -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' -CAfile "$PKI/ca.crt" \
  -cert "$PKI/client.crt" -key "$PKI/client.key" </dev/null >"$WORK/tls11.out" 2>&1 || true
expect_contains "TLS 1.1 refused by berthd" "unsupported protocol" "$(grep 'tls handshake' "$WORK/berthd.log" || true)"

# berthd's log lines are events too: the refused handshake below is one.
"$BERTH" events --type log >"$WORK/log-events" 2>&1 &
LOGEV=$!
sleep 0.3
out=$(curl -sS --max-time 10 --cacert "$PKI/ca.crt" "https://$ADDR/v1/containers" 2>&1; echo "rc=$?")
check "without a client certificate: refused" test "${out##*rc=}" != 0
logged() { grep -q '"type":"log".*"level":"warning".*"message":"berthd: tls handshake from 127.0.0.1:' "$WORK/log-events"; }
for _ in $(seq 50); do logged && break; sleep 0.1; done
check "a refused handshake is a log event" logged
kill "$LOGEV" 2>/dev/null; wait "$LOGEV" 2>/dev/null || true
check "the log-only stream carries nothing but log events" test -z "$(grep -v '"type":"log"' "$WORK/log-events" || true)"
check "berthd serves after a client without certificate" alive
out=$(curl -sS --max-time 10 --cacert "$PKI/ca.crt" --cert "$PKI/stranger.crt" --key "$PKI/stranger.key" "https://$ADDR/v1/containers" 2>&1; echo "rc=$?")
check "certificate of another CA: refused" test "${out##*rc=}" != 0
check "berthd serves after a stranger's certificate" alive
out=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' "http://$ADDR/v1/containers"; echo " rc=$?")
check "plain HTTP on the TLS port: no answer" test "${out%% *}" = 000
check "berthd serves after plain HTTP" alive
expect_contains "failed handshakes logged" "tls handshake from 127.0.0.1:" "$(cat "$WORK/berthd.log")"

head -c 2000000 /dev/zero | tr '\0' ' ' > "$WORK/big.json"
expect_eq "too large body over TLS: 413" 413 "$("${CURL_OK[@]}" -o /dev/null -w '%{http_code}' --data-binary @"$WORK/big.json" "https://$ADDR/v1/containers")"
expect_eq "malformed JSON over TLS: 400" 400 "$("${CURL_OK[@]}" -o /dev/null -w '%{http_code}' --data-binary '{nope' "https://$ADDR/v1/containers")"
# A request line that is not HTTP, over a verified TLS connection.
out=$(python3 - "$PORT" "$PKI" <<'PY'
import socket, ssl, sys
port, pki = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=pki + "/ca.crt")
ctx.load_cert_chain(pki + "/client.crt", pki + "/client.key")
for junk in (b"\x00\x01GARBAGE\r\n\r\n", b"GET /v1 HTTP/1.1\r\nContent-Length: x\r\n\r\n"):
    with ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="127.0.0.1") as s:
        s.sendall(junk)
        print(s.recv(4096).split(b"\r\n")[0].decode())
PY
)
expect_eq "garbage over TLS: 400 twice" "HTTP/1.1 400 Bad Request HTTP/1.1 400 Bad Request" "$(echo $out)"
check "berthd serves after malformed requests over TLS" alive

# --- the berth CLI over TLS ----------------------------------------------------
remote() { "$BERTH" --remote "$ADDR" --cert "$PKI/client.crt" --key "$PKI/client.key" --ca "$PKI/ca.crt" "$@"; }
remote events > "$WORK/events.log" 2>&1 &
EPID=$!
expect_contains "remote list" "NAME" "$(remote list)"
out=$(remote image build-template busybox berth/busybox)
expect_contains "remote: busybox template built" "berth/busybox sha256:" "$out"
remote create t1 --template berth/busybox --disk 64M >/dev/null
expect_contains "remote: created" "t1" "$(remote list)"
expect_contains "remote: started" "running" "$(remote start t1)"
check "remote: booted" booted t1
expect_eq "remote exec: output" "hello" "$(remote exec t1 -- echo hello)"
set +e
remote exec t1 -- sh -c 'exit 7'; rc=$?
set -e
expect_eq "remote exec: the exit status comes back" 7 "$rc"
out=$(BERTH_REMOTE=$ADDR BERTH_TLS_CERT=$PKI/client.crt BERTH_TLS_KEY=$PKI/client.key BERTH_TLS_CA=$PKI/ca.crt \
  BERTH_SOCKET=/nonexistent "$BERTH" status t1 --format json | jq -r .state)
expect_eq "remote through the environment" running "$out"
set +e
out=$(remote exec -t t1 -- sh -c 'test -t 0 && echo on-a-pty; exit 4' </dev/null 2>&1); rc=$?
set -e
expect_contains "remote exec -t: relayed onto a pty" "on-a-pty" "$out"
expect_eq "remote exec -t: the exit status" 4 "$rc"

out=$("$BERTH" --remote "$ADDR" --cert "$PKI/client.crt" --key "$PKI/client.key" --ca "$PKI/other.crt" list 2>&1; echo "rc=$?")
expect_contains "CLI: a server of another CA is not trusted" "server certificate not trusted" "$out"
expect_contains "CLI: unreachable exit code" "rc=5" "$out"
out=$("$BERTH" --remote "$ADDR" --cert "$PKI/stranger.crt" --key "$PKI/stranger.key" --ca "$PKI/ca.crt" list 2>&1; echo "rc=$?")
expect_contains "CLI: a refused client certificate is named" "server refused the client certificate" "$out"
out=$("$BERTH" --remote "localhost:$PORT" --cert "$PKI/client.crt" --key "$PKI/client.key" --ca "$PKI/ca.crt" list 2>&1; echo "rc=$?")
expect_contains "CLI: a certificate without the host name is not trusted" "server certificate not trusted" "$out"
out=$("$BERTH" --remote "$ADDR" --cert "$PKI/client.crt" list 2>&1; echo "rc=$?")
expect_contains "CLI: --remote without --key refused" "--remote needs --key" "$out"

remote stop t1 >/dev/null
remote destroy t1 >/dev/null
expect_eq "remote: destroyed" "[]" "$("${CURL_OK[@]}" "https://$ADDR/v1/containers" | tr -d ' \n')"
sleep 0.3
kill "$EPID" 2>/dev/null; wait "$EPID" 2>/dev/null || true
EPID=
expect_contains "events: who asked is the client certificate's CN" '"by":"tls:orchestrator-1"' "$(grep '"create"' "$WORK/events.log" || true)"
expect_contains "events: the exec's operation too" '"by":"tls:orchestrator-1"' "$(grep '"exec"' "$WORK/events.log" || true)"

# The silent peer: dropped after the handshake timeout (10 s).
left=$((SILENT_SINCE + 12 - $(date +%s)))
[ "$left" -gt 0 ] && sleep "$left"
expect_contains "silent peer dropped after the handshake timeout" "no handshake within" "$(cat "$WORK/berthd.log")"
kill "$SILENT" 2>/dev/null; wait "$SILENT" 2>/dev/null || true
check "berthd still serves at the end" alive

expect_eq "no monitor or init left" "" "$(our_pids)"
expect_eq "no mounts left" 0 "$(grep -c "$WORK" /proc/self/mountinfo || true)"
expect_eq "no sanitizer reports" "" "$(cat "$WORK"/sanitizer.* 2>/dev/null | head -20)"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
