#!/usr/bin/env bash
# berthd_images_test.sh — images through berthd's API and the berth CLI
# against Debian's docker-registry with TLS (a CA made here) and htpasswd
# auth, seeded with skopeo: pull as an operation with progress (plain
# lines, operation-progress events), platform selection, inspect, a
# container made from the pulled image running the image's own process
# (no init label: INIT="app"), exec in it, push back and read with skopeo,
# rm refused while a container uses the image, prune, and the errors for a
# bad reference, a wrong password, a missing tag and unknown images, with
# nothing partial left in the store and nothing left on the host.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/berthd_lib.sh"
: "${BERTH_IMAGE:?set BERTH_IMAGE to the berth-image binary}"
source "$(dirname "${BASH_SOURCE[0]}")/registry_lib.sh"
trap 'stop_servers; cleanup' EXIT
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }
STORE=$STATE/images
tmp_files() { ls "$STORE/tmp" 2>/dev/null | wc -l; }

# ---- the registry and its images -------------------------------------------
start_auth_registry

mkdir -p "$SEED/blobs/sha256"
echo '{"imageLayoutVersion":"1.0.0"}' > "$SEED/oci-layout"
echo '{"schemaVersion":2, "manifests":[]}' > "$SEED/index.json"
"$ROOT_DIR/scripts/mkrootfs.sh" "$WORK/rootfs"
layer "$WORK/rootfs" "gzip -n -1" application/vnd.oci.image.layer.v1.tar+gzip; l1=$L_DESC d1=$L_DIFF
mkdir -p "$WORK/l2/etc" "$WORK/l2/srv"; echo "from the registry" > "$WORK/l2/etc/app-marker"
layer "$WORK/l2" "zstd -q -3 -c" application/vnd.oci.image.layer.v1.tar+zstd; l2=$L_DESC d2=$L_DIFF
# The app: a shell that says it is up, then waits for SIGTERM.
MANIFEST_CONFIG='{"Cmd":["/bin/sh","-c","echo up > /run/app-up; trap \"exit 0\" TERM; while :; do sleep 1; done"],"WorkingDir":"/srv"}'
index app "[$(manifest amd64 "[\"$d1\",\"$d2\"]" "[$l1,$l2]"),$(manifest arm64 "[\"$d1\",\"$d2\"]" "[$l1,$l2]")]"
MANIFEST_CONFIG='{"Cmd":[]}'
index noproc "[$(manifest amd64 "[\"$d1\"]" "[$l1]")]"
unset MANIFEST_CONFIG
seed app test/app:1
# A big incompressible layer, for pulls slow enough to cancel.
mkdir -p "$WORK/l3/srv"; head -c 3000000 /dev/urandom > "$WORK/l3/srv/blob"
layer "$WORK/l3" "gzip -n -1" application/vnd.oci.image.layer.v1.tar+gzip; l3=$L_DESC d3=$L_DIFF
index big "[$(manifest amd64 "[\"$d3\"]" "[$l3]")]"
seed big test/big:1
seed noproc test/noproc:1
printf '%s\n' "$CREDS" > "$WORK/creds"
AUTH=(--ca "$TLS/ca.crt" --creds-file "$WORK/creds")

start_berthd
"$BERTH" events > "$WORK/events" 2>&1 &
EPID=$!
set +e  # from here on, failures are counted, not fatal

# ---- pull through berthd ------------------------------------------------------
out=$("$BERTH" image pull "${AUTH[@]}" "$REG/test/app:1" 2>"$WORK/pull.err"); rc=$?
expect_eq "pull through berthd (TLS with the test CA, htpasswd auth)" 0 $rc
expect_contains "pull prints the tag and digest" "$REG/test/app:1 sha256:" "$out"
progress=$(cat "$WORK/pull.err")
expect_contains "progress: the platform chosen from the index" "to linux/amd64 manifest" "$progress"
expect_contains "progress: plain lines per layer" "layer sha256:" "$progress"
expect_contains "progress: layers finish" ": done" "$progress"
check "progress: no terminal codes in plain lines" bash -c '! grep -q $'"'"'\x1b'"'"' "$1"' _ "$WORK/pull.err"
sleep 0.3
check "events: operation-progress published" grep -q '"type":"operation-progress"' "$WORK/events"
check "events: image-pulled published" grep -q '"type":"image-pulled"' "$WORK/events"
check "events carry no password" bash -c '! grep -q "$1" "$2"' _ "$PASSWORD" "$WORK/events"
check "operations carry no password" bash -c '! curl -s --unix-socket "$1" http://berthd/v1/operations | grep -q "$2"' _ "$SOCK" "$PASSWORD"
check "berthd's log holds no password" bash -c '! grep -q "$1" "$2"' _ "$PASSWORD" "$WORK/berthd.log"
expect_contains "image ls shows it" "$REG/test/app:1" "$("$BERTH" image ls)"
expect_eq "no temp files left in the store" 0 "$(tmp_files)"
expect_eq "no CA copy left in the run dir" 0 "$(ls "$RUN/tmp" 2>/dev/null | wc -l)"
expect_contains "same store as berth-image" "$REG/test/app:1" "$("$BERTH_IMAGE" --store "$STORE" ls)"
insp=$("$BERTH" image inspect "$REG/test/app:1" --format json)
expect_eq "inspect: platform" linux/amd64 "$(jq -r .platform <<< "$insp")"
expect_eq "inspect: two layers" 2 "$(jq '.layers | length' <<< "$insp")"
expect_eq "inspect: the image's cmd" /bin/sh "$(jq -r '.config.cmd[0]' <<< "$insp")"

out=$("$BERTH" image pull --platform linux/arm64 --tag local/app-arm "${AUTH[@]}" "$REG/test/app:1" 2>/dev/null); rc=$?
expect_eq "pull another platform under a tag of its own" 0 $rc
expect_eq "inspect: the arm64 manifest" linux/arm64 "$("$BERTH" image inspect local/app-arm --format json | jq -r .platform)"

# On a terminal the progress is redrawn in place.
script -qec "$(printf '%q ' "$BERTH" image pull --tag local/tty "${AUTH[@]}" "$REG/test/app:1")" /dev/null \
  > "$WORK/tty.out" 2>&1; rc=$?
expect_eq "pull on a terminal" 0 $rc
check "terminal progress draws lines in place" grep -q $'\r\x1b\\[K' "$WORK/tty.out"
check "terminal progress shows the layers" grep -q "layer sha256:" "$WORK/tty.out"

# ---- a container from the pulled image --------------------------------------
out=$("$BERTH" create c0 --template "$REG/test/app:1" --disk 64M --root-password pw 2>&1); rc=$?
expect_eq "a password for an app container is refused" 2 $rc
expect_contains "... naming the field" "root_password: an app container" "$out"
expect_eq "... and nothing made" "" "$(ls "$STATE/containers")"
"$BERTH" create c1 --template "$REG/test/app:1" --disk 64M >/dev/null; rc=$?
expect_eq "create from the pulled image" 0 $rc
expect_contains "no init label: the image's process runs (INIT=app)" 'INIT="app"' "$(cat "$STATE/containers/c1/config")"
"$BERTH" start c1 >/dev/null; rc=$?
expect_eq "start" 0 $rc
for _ in $(seq 50); do "$BERTH" exec c1 -- test -e /run/app-up >/dev/null 2>&1 && break; sleep 0.1; done
expect_eq "the image's cmd ran" up "$("$BERTH" exec c1 -- cat /run/app-up 2>&1)"
expect_eq "exec sees the image's layers" "from the registry" "$("$BERTH" exec c1 -- cat /etc/app-marker 2>&1)"
expect_contains "PID 1 is the image's process" "/bin/sh -c echo up" "$("$BERTH" exec c1 -- sh -c "tr '\\0' ' ' < /proc/1/cmdline")"
expect_eq "PID 1 runs in the image's WorkingDir" /srv "$("$BERTH" exec c1 -- readlink /proc/1/cwd 2>&1)"
out=$("$BERTH" exec c1 -- df -k / 2>&1 | awk 'NR==2 {print $2}')
check "the disk quota holds ($out KiB)" test "${out:-0}" -gt 50000 -a "${out:-0}" -le 65536

err=$("$BERTH" set c1 --init busybox 2>&1); rc=$?
expect_eq "set --init busybox on an app container (boots /sbin/init at the next start)" 0 $rc
"$BERTH" set c1 --init app >/dev/null 2>&1

err=$("$BERTH" image rm "$REG/test/app:1" 2>&1); rc=$?
expect_eq "rm of an image in use exits 4" 4 $rc
expect_contains "rm in use: names the container" "is used by container c1" "$err"
expect_contains "still tagged after a refused rm" "$REG/test/app:1" "$("$BERTH" image ls)"

# ---- push back, read with skopeo ----------------------------------------------
out=$("$BERTH" image push "${AUTH[@]}" "$REG/test/app:1" "$REG/test/pushed:1" 2>"$WORK/push.err"); rc=$?
expect_eq "push through berthd" 0 $rc
expect_contains "push prints the destination" "$REG/test/pushed:1 sha256:" "$out"
arch=$("${SK[@]}" inspect --creds "$CREDS" --cert-dir "$CERTS" "docker://$REG/test/pushed:1" 2>/dev/null | jq -r .Architecture)
expect_eq "skopeo inspect reads the pushed image" amd64 "$arch"
"${SK[@]}" copy -q --src-creds "$CREDS" --src-cert-dir "$CERTS" "docker://$REG/test/pushed:1" "oci:$WORK/sk-out:1" \
  > "$WORK/sk.log" 2>&1; rc=$?
expect_eq "skopeo copies the pushed image" 0 $rc

# ---- bad input --------------------------------------------------------------
blobs_before=$(ls "$STORE/blobs/sha256" | wc -l)
err=$("$BERTH" image pull --ca "$TLS/ca.crt" --creds "$USER_NAME:wrong" "$REG/test/pushed:1" 2>&1); rc=$?
expect_eq "wrong password exits 1" 1 $rc
expect_contains "wrong password: names the user" "authentication failed for user \"$USER_NAME\"" "$err"
expect_contains "wrong password: the registry's 401" "HTTP 401" "$err"
check "wrong password: the password is not echoed" test "${err/wrong/}" = "$err"
err=$("$BERTH" image pull --ca "$TLS/ca.crt" "$REG/test/app:1" 2>&1); rc=$?
expect_contains "no credentials: clear error" "requires authentication" "$err"
err=$("$BERTH" image pull "${AUTH[@]}" "$REG/test/app:nope" 2>&1); rc=$?
expect_eq "missing tag exits 3" 3 $rc
expect_contains "missing tag: names the image" "pull $REG/test/app:nope: manifest test/app:nope" "$err"
expect_contains "missing tag: the registry's 404" "HTTP 404" "$err"
err=$("$BERTH" image pull "${AUTH[@]}" "$REG/Test/App" 2>&1); rc=$?
expect_eq "bad reference exits 2" 2 $rc
expect_contains "bad reference: named" "image reference \"$REG/Test/App\": repository must be lowercase" "$err"
err=$("$BERTH" image pull "${AUTH[@]}" --platform linux "$REG/test/app:1" 2>&1); rc=$?
expect_eq "bad platform exits 2" 2 $rc
expect_contains "bad platform: named" "platform: expected os/arch" "$err"
err=$("$BERTH" image pull --creds "$CREDS" "$REG/test/app:1" 2>&1); rc=$?
expect_contains "unknown CA: TLS error" "certificate" "$err"
err=$("$BERTH" image pull --ca "$WORK/nope.crt" "$REG/test/app:1" 2>&1); rc=$?
expect_eq "unreadable CA file exits 2" 2 $rc
expect_eq "failed pulls leave no partial blob" 0 "$(tmp_files)"
expect_eq "failed pulls store no blob" "$blobs_before" "$(ls "$STORE/blobs/sha256" | wc -l)"
err=$("$BERTH" image inspect test/nosuch:1 2>&1); rc=$?
expect_eq "inspect of an unknown image exits 3" 3 $rc
expect_contains "inspect unknown: named" "image test/nosuch:1: no such tag" "$err"
err=$("$BERTH" image rm test/nosuch:1 2>&1); rc=$?
expect_eq "rm of an unknown image exits 3" 3 $rc
err=$("$BERTH" image inspect 'bad ref' 2>&1); rc=$?
expect_eq "a reference with a space exits 2" 2 $rc
err=$("$BERTH" image push "${AUTH[@]}" test/nosuch:1 "$REG/test/x:1" 2>&1); rc=$?
expect_eq "push of an unknown image exits 3" 3 $rc
expect_contains "push unknown: named" "no image test/nosuch:1" "$err"
out=$("$BERTH" image pull "${AUTH[@]}" "$REG/test/noproc:1" 2>&1); rc=$?
expect_eq "pull an image with no process" 0 $rc
err=$("$BERTH" create c2 --template "$REG/test/noproc:1" 2>&1); rc=$?
expect_eq "create from an image with no init and no cmd exits 2" 2 $rc
expect_contains "no init, no cmd: says so" "no entrypoint or cmd to run" "$err"
check "nothing made for the refused create" test ! -e "$STATE/containers/c2"
"$BERTH" image build-template busybox berth/busybox >/dev/null
"$BERTH" create c3 --template berth/busybox --disk 32M >/dev/null
err=$("$BERTH" set c3 --init app 2>&1); rc=$?
expect_eq "set --init app on a template container exits 2" 2 $rc
expect_contains "set --init app: says why" "was not made from one" "$err"
"$BERTH" destroy c3 >/dev/null
"$BERTH" image rm berth/busybox >/dev/null

# ---- cancel -------------------------------------------------------------------
# A proxy in front of the registry sends blobs at 200 KB/s.
SPORT=$(free_port); SLOW=127.0.0.1:$SPORT
start_helper proxy "$SPORT" "$TLS/server.crt" "$TLS/server.key" "$REG" "$TLS/ca.crt" slow:200000 "$WORK/slow.log"
wait_https "https://$SLOW/v2/"
ops_json() { curl -s --unix-socket "$SOCK" "http://berthd/v1/operations${1:-}"; }
pulling() { # the id of the pull that is running
  local id=""
  for _ in $(seq 150); do
    id=$(ops_json | jq -r '[.[] | select(.action == "image-pull" and .status == "running")][0].id // empty')
    [ -n "$id" ] && break
    sleep 0.1
  done
  echo "$id"
}
"$BERTH" image pull "${AUTH[@]}" "$SLOW/test/big:1" >/dev/null 2>"$WORK/cancel.err" &
CPID=$!
id=$(pulling)
check "a slow pull is running (operation ${id:-none})" test -n "$id"
sleep 1  # into its layers
expect_eq "a pull may be cancelled" true "$(ops_json "/$id" | jq -r .may_cancel)"
out=$("$BERTH" operation cancel "$id" 2>&1); rc=$?
expect_eq "berth operation cancel" 0 $rc
expect_contains "cancel answers: cancelling" "cancelling" "$out"
start=$(now_ms); wait $CPID; rc=$?
check "the pulling CLI fails ($rc) soon after ($(( $(now_ms) - start )) ms)" test $rc -ne 0 -a $(( $(now_ms) - start )) -lt 5000
expect_contains "the pulling CLI says who cancelled" "cancelled by uid 0" "$(cat "$WORK/cancel.err")"
expect_eq "the operation ends cancelled" cancelled "$(ops_json "/$id" | jq -r .status)"
check "a cancelled pull tags nothing" bash -c '! "$1" image ls | grep -q test/big' _ "$BERTH"
check "events: operation-cancel published" grep -q '"type":"operation-cancel"' "$WORK/events"
# Ctrl-C in the CLI asks berthd to cancel the operation it follows.
"$BERTH" image pull "${AUTH[@]}" "$SLOW/test/big:1" >/dev/null 2>"$WORK/int.err" &
CPID=$!
id=$(pulling)
# Its first progress line: the CLI follows the operation, its Ctrl-C
# handler set (a SIGINT before that would find it still ignored).
for _ in $(seq 150); do [ -s "$WORK/int.err" ] && break; sleep 0.1; done
kill -INT $CPID; wait $CPID; rc=$?
check "Ctrl-C: the CLI fails ($rc)" test $rc -ne 0
expect_contains "Ctrl-C: the CLI asks berthd to cancel" "cancelling operation $id" "$(cat "$WORK/int.err")"
expect_eq "Ctrl-C: the operation ends cancelled" cancelled "$(ops_json "/$id" | jq -r .status)"
err=$("$BERTH" operation cancel "$id" 2>&1); rc=$?
expect_eq "cancel of a finished operation exits 4" 4 $rc
expect_contains "cancel of a finished operation says so" "already finished" "$err"
err=$("$BERTH" operation cancel 99999 2>&1); rc=$?
expect_eq "cancel of an unknown operation exits 3" 3 $rc
err=$("$BERTH" operation cancel x1 2>&1); rc=$?
expect_eq "cancel of a malformed id exits 2" 2 $rc
expect_contains "operation ls lists the cancelled pulls" "cancelled" "$("$BERTH" operation ls)"
out=$("$BERTH" image pull "${AUTH[@]}" "$REG/test/big:1" 2>/dev/null); rc=$?
expect_eq "the same pull, not cancelled, completes" 0 $rc
"$BERTH" image rm "$REG/test/big:1" >/dev/null

# ---- stop, destroy, rm, prune ----------------------------------------------
start=$(now_ms)
"$BERTH" stop c1 >/dev/null; rc=$?
expect_eq "stop: the app takes SIGTERM" 0 $rc
check "stop took less than the stop timeout ($(( $(now_ms) - start )) ms)" test $(( $(now_ms) - start )) -lt 10000
"$BERTH" destroy c1 >/dev/null
out=$("$BERTH" image rm "$REG/test/app:1" 2>&1); rc=$?
expect_eq "rm once no container uses it" 0 $rc
expect_contains "rm says what it untagged" "untagged $REG/test/app:1" "$out"
"$BERTH" image rm local/app-arm >/dev/null && "$BERTH" image rm local/tty >/dev/null &&
  "$BERTH" image rm "$REG/test/noproc:1" >/dev/null
out=$("$BERTH" image prune 2>&1); rc=$?
expect_eq "prune" 0 $rc
expect_contains "prune reports what it removed" "removed" "$out"
expect_eq "store empty after prune" 0 "$(ls "$STORE/blobs/sha256" | wc -l)"
expect_eq "no unpacked layer left" 0 "$(ls "$STORE/layers/sha256" 2>/dev/null | wc -l)"

# ---- nothing left behind -----------------------------------------------------
expect_eq "no mount left under the test dir" 0 "$(awk -v w="$WORK/" 'index($5, w) == 1' /proc/self/mountinfo | wc -l)"
expect_eq "no loop device left" 0 "$(losetup -a 2>/dev/null | grep -c "$WORK/" || true)"
expect_eq "no container process left" "" "$(our_pids)"
kill "$EPID" 2>/dev/null; wait "$EPID" 2>/dev/null; EPID=
stop_servers
check "no registry left running" test -z "$(jobs -pr | grep -v -x -e "$BPID" -e "$HANG_WATCH")"
expect_eq "store holds released" "" "$(ls "$STORE/holds")"
expect_eq "no sanitizer reports" "" "$(cat "$WORK"/sanitizer.* 2>/dev/null | head -20)"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
