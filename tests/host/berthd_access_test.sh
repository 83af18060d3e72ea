#!/usr/bin/env bash
# berthd_access_test.sh — who may do what through berthd's API, tried as
# each client would: every route of the API by every role (a table here:
# a verb of api.h without a row fails the test) over mutual TLS with a
# certificate per role (OU=ROLE), and on the unix socket as a user in
# group berth (operator) and in group berth-admin (admin); two tenants
# (certificates bound to projects shop and blog) who cannot see or touch
# each other's containers, operations or events and create only in their
# own project; a node certificate refused on exec, console and export;
# `berth trust add|ls|rm` (a certificate without a role in its subject,
# trusted, then removed); `berth project set` limits refusing a create with
# nothing left behind; every refusal and mutation in `berth events --type
# audit` with who asked and its role.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/berthd_lib.sh"

for tool in openssl curl python3 jq setpriv groupadd; do
  command -v "$tool" >/dev/null || { echo "skip: $tool not installed"; exit 77; }
done

# The groups systemd's sysusers makes (systemd/berth.sysusers); made here
# when the machine lacks them, and removed at the end.
MADE_GROUPS=()
for g in berth berth-admin; do
  getent group "$g" >/dev/null || { groupadd -r "$g"; MADE_GROUPS+=("$g"); }
done
trap 'cleanup; for g in "${MADE_GROUPS[@]}"; do groupdel "$g"; done' EXIT
GID_OP=$(getent group berth | cut -d: -f3)
GID_ADMIN=$(getent group berth-admin | cut -d: -f3)

# --- certificates: one per role, two tenants, one the subject gives nothing --
PKI=$WORK/pki
source "$ROOT_DIR/tests/lib/pki.sh"
new_ca ca "berth test CA"
new_cert server ca berthd.test 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth'
for role in admin operator viewer node; do
  new_cert "$role" ca "$role-client/OU=$role" 'extendedKeyUsage=clientAuth'
done
new_cert shop ca 'shop-ci/OU=operator/O=shop' 'extendedKeyUsage=clientAuth'
new_cert blog ca 'blog-ci/OU=operator/O=blog' 'extendedKeyUsage=clientAuth'
new_cert twin ca 'shop-ci/OU=operator/O=twin' 'extendedKeyUsage=clientAuth'  # shop's CN, another project
new_cert plain ca 'auditor' 'extendedKeyUsage=clientAuth'

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ADDR=127.0.0.1:$PORT
start_berthd --listen-tcp "$ADDR" --tls-cert "$PKI/server.crt" --tls-key "$PKI/server.key" --tls-client-ca "$PKI/ca.crt"
"$BERTH" events --type audit >"$WORK/audit.log" 2>&1 &
EPID=$!

# as CERT METHOD PATH [BODY]: the HTTP status of the request with CERT's
# certificate; its body in $WORK/body.
as() {
  local cert=$1 method=$2 path=$3 body=${4:-}
  curl -sS --max-time 2 -o "$WORK/body" -w '%{http_code}' --cacert "$PKI/ca.crt" --cert "$PKI/$cert.crt" \
    --key "$PKI/$cert.key" -X "$method" ${body:+-H 'Content-Type: application/json' --data "$body"} \
    "https://$ADDR$path" 2>/dev/null || true
}
# as_unix GID METHOD PATH [BODY]: the same on the unix socket, as uid 65534
# with the supplementary group GID (none: "-").
as_unix() {
  local gid=$1 method=$2 path=$3 body=${4:-} groups
  [ "$gid" = - ] && groups=--clear-groups || groups="--groups=$gid"
  setpriv --reuid=65534 --regid=65534 "$groups" curl -sS --max-time 2 -o /dev/null -w '%{http_code}' \
    --unix-socket "$SOCK" -X "$method" ${body:+-H 'Content-Type: application/json' --data "$body"} "http://b$path" \
    2>/dev/null || true
}
remote() {  # remote CERT ARGS...: the berth CLI over TLS with CERT
  local cert=$1
  shift
  "$BERTH" --remote "$ADDR" --cert "$PKI/$cert.crt" --key "$PKI/$cert.key" --ca "$PKI/ca.crt" "$@"
}

# --- the role table ----------------------------------------------------------
# VERB METHOD PATH BODY LEAST-ROLE NODE: every verb of the API, a request
# that passes decoding (so only the rules answer 403), aimed where an
# allowed request changes nothing (a container that does not exist, a body
# the service refuses, stop-all and autostart on an empty node).
TABLE=$(cat <<'T'
ping             GET    /v1                                  -                                            viewer   yes
list             GET    /v1/containers                       -                                            viewer   yes
show             GET    /v1/containers/ghost                 -                                            viewer   no
log              GET    /v1/containers/ghost/log             -                                            viewer   no
snapshots        GET    /v1/containers/ghost/snapshots       -                                            viewer   no
images           GET    /v1/images                           -                                            viewer   no
image_inspect    GET    /v1/images/nosuch/img                -                                            viewer   no
networks         GET    /v1/networks                         -                                            viewer   no
operations       GET    /v1/operations                       -                                            viewer   no
operation        GET    /v1/operations/nosuch                -                                            viewer   no
operation_wait   GET    /v1/operations/nosuch/wait           -                                            viewer   no
events           GET    /v1/events                           -                                            viewer   no
metrics          GET    /metrics                             -                                            viewer   no
projects         GET    /v1/projects                         -                                            viewer   no
create           POST   /v1/containers                       {"name":"ghost","template":"nosuch/img"}     operator no
set              PATCH  /v1/containers/ghost                 {"ram":"64M"}                                operator no
destroy          DELETE /v1/containers/ghost                 -                                            operator no
start            POST   /v1/containers/ghost/start           -                                            operator no
stop             POST   /v1/containers/ghost/stop            -                                            operator no
restart          POST   /v1/containers/ghost/restart         -                                            operator no
suspend          POST   /v1/containers/ghost/suspend         -                                            operator no
resume           POST   /v1/containers/ghost/resume          -                                            operator no
exec             POST   /v1/containers/ghost/exec            {"args":["true"]}                            operator no
exec_terminal    POST   /v1/containers/ghost/exec            {"args":["sh"],"terminal":true}              operator no
console          GET    /v1/containers/ghost/console         -                                            operator no
snapshot         POST   /v1/containers/ghost/snapshot        {"name":"s"}                                 operator no
rollback         POST   /v1/containers/ghost/rollback        {"name":"s"}                                 operator no
commit           POST   /v1/containers/ghost/commit          {"tag":"x/y"}                                operator no
export_disk      POST   /v1/containers/ghost/export          {"cluster":"web.app.0"}                      operator no
operation_cancel DELETE /v1/operations/nosuch                -                                            operator no
image_pull       POST   /v1/images/pull                      {"ref":"127.0.0.1:1/nosuch/img"}             operator no
image_push       POST   /v1/images/push                      {"image":"nosuch/img","ref":"127.0.0.1:1/x"} operator no
build_template   POST   /v1/images                           {"template":"nosuch","tag":"x/y"}            operator no
image_remove     DELETE /v1/images/nosuch/img                -                                            admin    no
image_prune      POST   /v1/images/prune                     -                                            admin    no
network_create   POST   /v1/networks                         {"name":"t0"}                                admin    no
network_remove   DELETE /v1/networks/nosuch                  -                                            admin    no
stop_all         POST   /v1/stop-all                         -                                            admin    no
autostart        POST   /v1/autostart                        -                                            admin    no
trust_list       GET    /v1/trust                            -                                            admin    no
trust_add        POST   /v1/trust                            {"role":"viewer"}                            admin    no
trust_remove     DELETE /v1/trust/000000000000               -                                            admin    no
project_set      PATCH  /v1/projects/tabletest               {}                                           admin    no
T
)

# Every verb of the API has its row.
verbs=$(sed -n '/^enum class Verb {/,/^};/p' "$ROOT_DIR/supervisor/include/berth/supervisor/api.h" | sed 's|//.*||' |
  tr ',{}' '\n\n\n' | sed 's/enum class Verb//; s/[[:space:]]//g' | grep -v '^$' | grep -v '^;$' | sort)
rows=$(awk '{print $1}' <<<"$TABLE" | sort)
expect_eq "the table has a row for every verb of api.h (missing: $(comm -23 <(echo "$verbs") <(echo "$rows") | tr '\n' ' '))" \
  "$verbs" "$rows"

rank() { case $1 in viewer) echo 1 ;; operator) echo 2 ;; admin) echo 3 ;; esac; }
table_bad=0
while read -r verb method path body least node; do
  [ "$body" = - ] && body=
  for role in viewer operator admin node; do
    code=$(as "$role" "$method" "$path" "$body")
    if [ "$role" = node ]; then allowed=$node
    elif [ "$(rank "$role")" -ge "$(rank "$least")" ]; then allowed=yes
    else allowed=no
    fi
    if { [ "$allowed" = yes ] && [ "$code" = 403 ]; } || { [ "$allowed" = no ] && [ "$code" != 403 ]; } || [ "$code" = 000 -a "$verb" != events -a "$verb" != console ]; then
      fail "table: $verb by $role: got $code, allowed=$allowed ($(head -c 200 "$WORK/body"))"
      table_bad=1
    fi
  done
  # The unix socket: group berth is operator, group berth-admin admin.
  for who in "$GID_OP:operator" "$GID_ADMIN,$GID_OP:admin"; do
    code=$(as_unix "${who%%:*}" "$method" "$path" "$body")
    role=${who##*:}
    [ "$(rank "$role")" -ge "$(rank "$least")" ] && allowed=yes || allowed=no
    if { [ "$allowed" = yes ] && [ "$code" = 403 ]; } || { [ "$allowed" = no ] && [ "$code" != 403 ]; }; then
      fail "table: $verb on the unix socket as $role: got $code, allowed=$allowed"
      table_bad=1
    fi
  done
done <<<"$TABLE"
[ "$table_bad" = 0 ] && ok "role table: $(wc -l <<<"$TABLE") routes x 4 certificates + 2 unix groups, each allowed or 403 as its row says"
as viewer POST /v1/containers/ghost/start >/dev/null
expect_eq "a refusal names the role and what it lacks" \
  '{"error":"tls:viewer-client (viewer) may not start: it needs the operator role"}' "$(tr -d '\n' <"$WORK/body")"
expect_eq "a user in neither group cannot reach the socket" 000 "$(as_unix - GET /v1/containers)"
as plain GET /v1/containers >/dev/null
expect_contains "a certificate without a role nor a trust entry: refused" \
  "certificate CN=auditor" "$(cat "$WORK/body")"
expect_contains "... and told how to be trusted" "berth trust add has not registered it" "$(cat "$WORK/body")"

# --- operators never reach the host ------------------------------------------
"$BERTH" image build-template busybox berth/busybox >/dev/null
mkdir -p "$WORK/hostdir/sbin"
cp /bin/true "$WORK/hostdir/sbin/init"
out=$(remote operator create p1 --template berth/busybox --privileged yes 2>&1 || true)
expect_contains "operator: a privileged container refused" "may not set privileged: only an admin may" "$out"
out=$(remote operator create p2 --rootfs "$WORK/hostdir" 2>&1 || true)
expect_contains "operator: a host directory as rootfs refused" "may not set rootfs: only an admin may" "$out"
out=$(remote operator create p3 --template berth/busybox --port tcp:22:22 2>&1 || true)
expect_contains "operator: a forward of the node's ssh port refused" "may not forward the node's port 22" "$out"
out=$(remote operator image build-template debian x/deb --mirror file:///srv/mirror 2>&1 || true)
expect_contains "operator: a template from a mirror of its choosing refused" "may not choose the mirror of a template build" "$out"
out=$(remote operator create p4 --template berth/busybox --port "8080:80 22:22" 2>&1 || true)
expect_contains "operator: a forward of port 22 hidden after a blank refused" "may not forward the node's port 22" "$out"
"$BERTH" create pv --template berth/busybox --disk 64M --privileged yes >/dev/null
out=$(remote operator exec pv -- true 2>&1 || true)
expect_contains "operator: no exec in an admin's privileged container" "may not exec container pv: it is privileged" "$out"
expect_eq "operator: nor a start of it" 403 "$(as operator POST /v1/containers/pv/start)"
expect_eq "operator: but its status, yes" 200 "$(as operator GET /v1/containers/pv)"
"$BERTH" destroy pv >/dev/null
expect_eq "operator: nothing made by the refused creates" "[]" "$("$BERTH" list --format json | jq -c '[.[].name]')"

# --- tenants -----------------------------------------------------------------
remote shop create s1 --template berth/busybox --disk 64M >/dev/null
remote blog create b1 --template berth/busybox --disk 64M >/dev/null
expect_eq "tenant's create goes into its project" "shop" "$("$BERTH" status s1 --format json | jq -r .config.project)"
expect_eq "... and the other's into its own" "blog" "$("$BERTH" status b1 --format json | jq -r .config.project)"
expect_eq "admin sees both" "b1 s1" "$("$BERTH" list --format json | jq -r '[.[].name] | sort | join(" ")')"
expect_eq "shop sees its own only" "s1" "$(remote shop list --format json | jq -r '[.[].name] | join(" ")')"
expect_eq "blog sees its own only" "b1" "$(remote blog list --format json | jq -r '[.[].name] | join(" ")')"
curl -sS -N --max-time 8 --cacert "$PKI/ca.crt" --cert "$PKI/shop.crt" --key "$PKI/shop.key" \
  "https://$ADDR/v1/events" >"$WORK/shop-events.log" 2>/dev/null &
SHOP_EV=$!
sleep 0.5
for verb in "GET /v1/containers/b1" "POST /v1/containers/b1/start" "GET /v1/containers/b1/log" \
  "DELETE /v1/containers/b1" "GET /v1/containers/b1/console" "POST /v1/containers/b1/snapshot {\"name\":\"x\"}"; do
  set -- $verb
  expect_eq "shop: $1 $2 of blog's container answers 404 (as if absent)" 404 "$(as shop "$1" "$2" "${3:-}")"
done
expect_eq "shop: exec in blog's container: 404" 404 "$(as shop POST /v1/containers/b1/exec '{"args":["true"]}')"
out=$(remote shop create s2 --template berth/busybox --project blog 2>&1 || true)
expect_contains "shop: a create in blog's project refused" "may not create in project blog" "$out"
"$BERTH" start b1 >/dev/null
remote shop start s1 >/dev/null
booted s1 || true
expect_eq "shop execs in its own container" "hi" "$(remote shop exec s1 -- echo hi)"
as shop GET /metrics >/dev/null
expect_eq "shop's metrics: its container's samples, none of blog's nor the node's" "s1" \
  "$(grep -v '^#' "$WORK/body" | grep -o 'name="[^"]*"' | sort -u | cut -d'"' -f2 | tr '\n' ' ' | sed 's/ $//')"
check "admin's metrics: both containers" grep -q 'name="b1"' <("$BERTH" metrics)
out=$(remote shop commit s1 berth/busybox 2>&1 || true)
expect_contains "shop: committing over the node's template refused (a tenant writes under projects/shop/)" \
  "may not write image berth/busybox: its images are projects/shop/..." "$out"
out=$(remote blog create b2 --template projects/shop/web:1 2>&1 || true)
expect_contains "blog: creating from shop's image refused" "may not use image projects/shop/web:1: it is project shop's" "$out"
out=$(remote operator image pull 127.0.0.1:1/x:1 --tag berth/busybox 2>&1 || true)
expect_contains "operator: pulling over the node's template refused" "may not replace image berth/busybox" "$out"
out=$(remote operator image build-template busybox berth/busybox 2>&1 || true)
expect_contains "operator: rebuilding the node's template refused" "only an admin may replace an image" "$out"
expect_eq "blog's container still there and running" running "$("$BERTH" status b1 --format json | jq -r .state)"
as shop GET /v1/operations >/dev/null
expect_eq "shop's operations list: its own only" "tls:shop-ci" "$(jq -r '[.[].by] | unique | join(" ")' "$WORK/body")"
as blog POST /v1/containers/b1/restart >/dev/null
blog_op=$(jq -r .id "$WORK/body")
expect_eq "shop cannot read blog's operation" 404 "$(as shop GET "/v1/operations/$blog_op")"
expect_eq "shop cannot cancel blog's operation" 404 "$(as shop DELETE "/v1/operations/$blog_op")"
as twin GET /v1/operations >/dev/null
expect_eq "a certificate with shop's CN in another project sees none of shop's operations" "[]" "$(tr -d ' \n' <"$WORK/body")"
curl -sS --max-time 30 -o /dev/null --cacert "$PKI/ca.crt" --cert "$PKI/blog.crt" --key "$PKI/blog.key" \
  "https://$ADDR/v1/operations/$blog_op/wait"  # blog's restart done before the end stops b1
sleep 1
kill "$SHOP_EV" 2>/dev/null; wait "$SHOP_EV" 2>/dev/null || true
expect_contains "shop's events: its container's start" '"name":"s1"' "$(grep '"started"' "$WORK/shop-events.log" || true)"
expect_eq "shop's events: nothing of blog's container" "" "$(grep '"b1"' "$WORK/shop-events.log" || true)"
expect_eq "shop's events: nothing without a project (node log lines)" "" "$(jq -c 'select(.project != "shop")' "$WORK/shop-events.log" 2>/dev/null | head -3)"

# --- a node certificate: migration only --------------------------------------
expect_eq "node: exec refused" 403 "$(as node POST /v1/containers/s1/exec '{"args":["true"]}')"
expect_eq "node: console refused" 403 "$(as node GET /v1/containers/s1/console)"
expect_eq "node: export of a container outside a migration refused" 403 "$(as node POST /v1/containers/s1/export)"
expect_eq "node: export naming a cluster id, on a node with no migration to it: refused" 403 \
  "$(as node POST /v1/containers/s1/export '{"cluster":"web.app.0"}')"
expect_contains "... saying why" "may not export web.app.0: it is not being migrated to node-client" "$(cat "$WORK/body")"
expect_eq "s1 still running after the node's tries" running "$("$BERTH" status s1 --format json | jq -r .state)"

# --- berth trust ---------------------------------------------------------------
out=$("$BERTH" trust add "$PKI/plain.crt" --role viewer --project shop)
fp=$(openssl x509 -in "$PKI/plain.crt" -noout -fingerprint -sha256 | cut -d= -f2 | tr -d : | tr A-F a-f)
expect_contains "trust add: prints the fingerprint" "$fp" "$out"
expect_contains "trust ls: the entry" "auditor" "$("$BERTH" trust ls)"
expect_eq "trusted viewer of shop: sees shop's container" "s1" "$(remote plain list --format json | jq -r '[.[].name] | join(" ")')"
expect_eq "trusted viewer: may not stop it" 403 "$(as plain POST /v1/containers/s1/stop)"
expect_eq "the trust store is written, root only" "600 $fp" \
  "$(stat -c %a "$STATE/trust.json") $(jq -r '.certificates[0].fingerprint' "$STATE/trust.json")"
out=$(remote operator trust ls 2>&1 || true)
expect_contains "trust ls: admin only" "may not trust-list: it needs the admin role" "$out"
out=$("$BERTH" trust add "$PKI/plain.key" --role viewer 2>&1 || true)
expect_contains "trust add of a file that is no certificate: named" "certificate: expected a PEM certificate" "$out"
out=$("$BERTH" trust add "$PKI/plain.crt" --role superuser 2>&1 || true)
expect_contains "trust add with a bad role: named" "role: expected viewer, operator, admin or node" "$out"
"$BERTH" trust rm "${fp:0:16}" >/dev/null
expect_eq "trust rm: the certificate is refused again, on a connection it already had" 403 "$(as plain GET /v1/containers)"

# --- project limits ----------------------------------------------------------
"$BERTH" project set shop --containers 1 --ram 1G >/dev/null
out=$(remote shop create s2 --template berth/busybox --ram 64M 2>&1 || true)
expect_contains "project limit: a second container refused" "containers: project shop may use 1, this would make 2" "$out"
expect_eq "project limit: nothing half-made" "b1 s1" "$("$BERTH" list --format json | jq -r '[.[].name] | sort | join(" ")')"
"$BERTH" project set shop --containers 2 >/dev/null
out=$(remote shop create s2 --template berth/busybox 2>&1 || true)
expect_contains "project limit: RAM must be given when limited" "ram: project shop limits RAM" "$out"
out=$(remote shop create s2 --template berth/busybox --ram 2G 2>&1 || true)
expect_contains "project limit: too much RAM refused" "ram: project shop may use 1073741824" "$out"
out=$(remote shop set s1 --ram 2G 2>&1 || true)
expect_contains "project limit: a set past the RAM limit refused" "ram: project shop may use 1073741824, this would make 2147483648" "$out"
expect_eq "... and the container's RAM unchanged" null "$("$BERTH" status s1 --format json | jq -r .config.ram)"
"$BERTH" project set shop --containers none --ram none >/dev/null
expect_eq "project ls: shop without limits, one container" "1 null" \
  "$("$BERTH" project ls --format json | jq -r '.[] | select(.name == "shop") | "\(.containers) \(.limits.containers)"')"

# --- audit -------------------------------------------------------------------
sleep 0.3
kill "$EPID" 2>/dev/null; wait "$EPID" 2>/dev/null || true
EPID=
expect_contains "audit: a refusal names who, its role and fingerprint" '"role":"viewer"' \
  "$(jq -c 'select(.allowed == false and .by == "tls:viewer-client")' "$WORK/audit.log" | head -1)"
expect_contains "audit: the tenant's create, with its project" '"projects":["shop"]' \
  "$(jq -c 'select(.action == "create" and .name == "s1" and .allowed)' "$WORK/audit.log" | head -1)"
expect_contains "audit: a unix user's mutation names its uid and role" '"role":"admin"' \
  "$(jq -c 'select(.action == "stop-all" and .allowed and (.by | startswith("uid 65534 ")))' "$WORK/audit.log" | head -1)"
expect_contains "audit: trust changes" '"action":"trust-remove"' "$(cat "$WORK/audit.log")"

"$BERTH" stop s1 --force >/dev/null 2>&1 || true
"$BERTH" stop b1 --force >/dev/null 2>&1 || true
"$BERTH" destroy s1 >/dev/null
"$BERTH" destroy b1 >/dev/null
expect_eq "no monitor or init left" "" "$(our_pids)"
expect_eq "no mounts left" 0 "$(grep -c "$WORK" /proc/self/mountinfo || true)"
expect_eq "no sanitizer reports" "" "$(cat "$WORK"/sanitizer.* 2>/dev/null | head -20)"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
