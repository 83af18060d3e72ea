#!/usr/bin/env bash
# registry_test.sh — berth-image against real registries on 127.0.0.1:
# Debian's docker-registry with TLS (a CA made here) and htpasswd auth,
# and a second one behind a bearer-token server. Seeded with skopeo from a
# multi-layer (gzip + zstd), multi-platform (amd64 + arm64) OCI layout.
# Pulls, unpacks and runs a container with berth-runtime, pushes back and
# reads the result with skopeo, imports and exports OCI layouts and
# docker-archive tarballs, and checks the errors for bad credentials,
# missing tags, corrupt and truncated blobs, 429/500 answers, cut
# transfers (resumed with Range) and a registry that never answers.
source "$(dirname "$0")/lib.sh"
: "${BERTH_IMAGE:?set BERTH_IMAGE to the berth-image binary}"
source "$(dirname "$0")/registry_lib.sh"

trap 'stop_servers; cleanup' EXIT
IMG=("$BERTH_IMAGE" --store "$WORK/store")

build_seed() {
  mkdir -p "$SEED/blobs/sha256"
  echo '{"imageLayoutVersion":"1.0.0"}' > "$SEED/oci-layout"
  echo '{"schemaVersion":2, "manifests":[]}' > "$SEED/index.json"
  local gz="gzip -n -1" zs="zstd -q -3 -c"
  local mgz=application/vnd.oci.image.layer.v1.tar+gzip mzs=application/vnd.oci.image.layer.v1.tar+zstd
  layer "$(base_rootfs)" "$gz" $mgz; local l1=$L_DESC d1=$L_DIFF
  local t=$WORK/l2; mkdir -p "$t/etc" "$t/bin"; echo "layer two" > "$t/etc/layer2"; : > "$t/bin/.wh.vi"
  layer "$t" "$gz" $mgz; local l2=$L_DESC d2=$L_DIFF
  t=$WORK/l3a; mkdir -p "$t/etc"; echo amd64 > "$t/etc/arch"
  layer "$t" "$zs" $mzs; local l3a=$L_DESC d3a=$L_DIFF
  t=$WORK/l3b; mkdir -p "$t/etc"; echo arm64 > "$t/etc/arch"
  layer "$t" "$zs" $mzs; local l3b=$L_DESC d3b=$L_DIFF
  local amd arm amdgz armgz
  amd=$(manifest amd64 "[\"$d1\",\"$d2\",\"$d3a\"]" "[$l1,$l2,$l3a]")
  arm=$(manifest arm64 "[\"$d1\",\"$d2\",\"$d3b\"]" "[$l1,$l2,$l3b]")
  index multi "[$amd,$arm]"
  # gzip only, for Docker schema2 manifest lists (which cannot carry zstd).
  amdgz=$(manifest amd64 "[\"$d1\",\"$d2\"]" "[$l1,$l2]")
  armgz=$(manifest arm64 "[\"$d1\",\"$d2\"]" "[$l1,$l2]")
  index gz "[$amdgz,$armgz]"
  # Small images with a layer of their own, to be damaged in the registry.
  for name in corrupt truncated cut; do
    t=$WORK/l-$name; mkdir -p "$t/data"; head -c 300000 /dev/urandom > "$t/data/$name"
    layer "$t" "$gz" $mgz; local ln=$L_DESC dn=$L_DIFF
    index "$name" "[$(manifest amd64 "[\"$d1\",\"$dn\"]" "[$l1,$ln]")]"
    eval "LAYER_$name=\$(jq -r .digest <<< \"\$ln\")"
  done
}

# registry_blob_file DIGEST: where the htpasswd registry keeps a blob
registry_blob_file() { local h=${1#sha256:}; echo "$WORK/reg/data/docker/registry/v2/blobs/sha256/${h:0:2}/$h/data"; }

# ---- set up -----------------------------------------------------------------
start_auth_registry
build_seed
seed multi test/busybox:multi
seed gz test/busybox:v2s2 --format v2s2
for name in corrupt truncated cut; do seed "$name" "test/$name:1"; done
AUTH=(--ca "$TLS/ca.crt" --creds "$CREDS")
set +e  # from here on, failures are counted, not fatal

# ---- pull, unpack, run --------------------------------------------------------
out=$("${IMG[@]}" pull --platform linux/amd64 "${AUTH[@]}" "$REG/test/busybox:multi" 2>"$WORK/pull.err")
rc=$?
expect_eq "pull multi-platform image with TLS and basic auth" 0 $rc
expect_contains "pull prints the tag" "$REG/test/busybox:multi sha256:" "$out"
expect_contains "progress names the platform chosen from the index" "to linux/amd64 manifest" "$(cat "$WORK/pull.err")"
expect_eq "three layers unpacked in the store" 3 "$(ls "$WORK/store/layers/sha256" | wc -l)"
expect_eq "no temp files left" 0 "$(ls "$WORK/store/tmp" | wc -l)"
mt=$(jq -r --arg t "$REG/test/busybox:multi" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"]==$t) | .platform.architecture' "$WORK/store/index.json")
expect_eq "tag names the amd64 manifest" amd64 "$mt"

"${IMG[@]}" unpack "$REG/test/busybox:multi" "$WORK/rootfs-amd64" >/dev/null
expect_eq "zstd top layer applied" amd64 "$(cat "$WORK/rootfs-amd64/etc/arch" 2>/dev/null)"
expect_eq "gzip middle layer applied" "layer two" "$(cat "$WORK/rootfs-amd64/etc/layer2" 2>/dev/null)"
check "whiteout removed /bin/vi" test ! -e "$WORK/rootfs-amd64/bin/vi"

b=$WORK/bundles/pulled; mkdir -p "$b"; ln -s "$WORK/rootfs-amd64" "$b/rootfs"
(cd "$b" && "$BERTH_RUNTIME" spec)
jq '.process.terminal=false | .process.args=["/bin/sh","-c","echo hello from $(cat /etc/arch) $(cat /etc/layer2)"] | .root.readonly=false' \
  "$b/config.json" > "$b/c.json" && mv "$b/c.json" "$b/config.json"
out=$("${RT[@]}" run -b "$b" pulled-ctr 2>&1)
expect_eq "container from the pulled image runs" "hello from amd64 layer two" "$out"
"${RT[@]}" delete --force pulled-ctr >/dev/null 2>&1 || true

"${IMG[@]}" pull --platform linux/arm64 --tag arm "${AUTH[@]}" "$REG/test/busybox:multi" >/dev/null 2>&1
"${IMG[@]}" unpack --platform linux/arm64 arm "$WORK/rootfs-arm64" >/dev/null
expect_eq "arm64 entry of the index pulled" arm64 "$(cat "$WORK/rootfs-arm64/etc/arch" 2>/dev/null)"

"${IMG[@]}" pull "${AUTH[@]}" "$REG/test/busybox:v2s2" >/dev/null 2>"$WORK/v2s2.err"
expect_eq "Docker manifest list + schema2 manifest pulled" "application/vnd.docker.distribution.manifest.v2+json" \
  "$(jq -r --arg t "$REG/test/busybox:v2s2" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"]==$t) | .mediaType' "$WORK/store/index.json")"

digest=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"]=="'"$REG/test/busybox:multi"'") | .digest' "$WORK/store/index.json")
out=$("${IMG[@]}" pull --no-unpack "${AUTH[@]}" "$REG/test/busybox@$digest" 2>&1)
expect_contains "pull by digest" "@$digest $digest" "$out"

# ---- errors -------------------------------------------------------------------
err=$("${IMG[@]}" pull --ca "$TLS/ca.crt" --creds "$USER_NAME:wrong" "$REG/test/busybox:multi" 2>&1); rc=$?
expect_eq "wrong password fails" 1 $rc
expect_contains "wrong password: 401 names the user" "authentication failed for user \"$USER_NAME\"" "$err"
expect_contains "wrong password: status shown" "HTTP 401" "$err"
err=$("${IMG[@]}" pull --ca "$TLS/ca.crt" "$REG/test/busybox:multi" 2>&1)
expect_contains "no credentials: clear error" "requires authentication" "$err"
printf '%s\n' "$CREDS" > "$WORK/creds"
out=$("${IMG[@]}" pull --no-unpack --ca "$TLS/ca.crt" --creds-file "$WORK/creds" "$REG/test/busybox:v2s2" 2>&1); rc=$?
expect_eq "credentials from a file" 0 $rc
err=$("${IMG[@]}" pull "${AUTH[@]}" "$REG/test/busybox:nope" 2>&1); rc=$?
expect_eq "missing tag fails" 1 $rc
expect_contains "missing tag: names the image" "pull $REG/test/busybox:nope: manifest test/busybox:nope" "$err"
expect_contains "missing tag: 404" "not found (HTTP 404 (MANIFEST_UNKNOWN" "$err"
err=$("${IMG[@]}" pull --creds "$CREDS" "$REG/test/busybox:multi" 2>&1)
expect_contains "unknown CA: TLS error" "certificate" "$err"
err=$("${IMG[@]}" pull "${AUTH[@]}" "$REG/Test/Busybox" 2>&1)
expect_contains "bad reference: named" "image reference \"$REG/Test/Busybox\": repository must be lowercase" "$err"

# A blob whose bytes changed in the registry (same size): rejected, not stored.
f=$(registry_blob_file "$LAYER_corrupt")
printf 'XXXXXXXX' | dd of="$f" bs=1 seek=1000 conv=notrunc status=none
err=$("${IMG[@]}" pull "${AUTH[@]}" "$REG/test/corrupt:1" 2>&1); rc=$?
expect_eq "corrupt blob fails" 1 $rc
expect_contains "corrupt blob: digest mismatch named" "store blob $LAYER_corrupt: content has digest" "$err"
check "corrupt blob: not in the store" test ! -e "$WORK/store/blobs/sha256/${LAYER_corrupt#sha256:}"
expect_eq "corrupt blob: no partial file" 0 "$(ls "$WORK/store/tmp" | wc -l)"

# A blob cut short on the registry's disk.
f=$(registry_blob_file "$LAYER_truncated")
truncate -s 1000 "$f"
err=$("${IMG[@]}" pull --retries 1 "${AUTH[@]}" "$REG/test/truncated:1" 2>&1); rc=$?
expect_eq "truncated blob fails" 1 $rc
expect_contains "truncated blob: named" "blob $LAYER_truncated" "$err"
check "truncated blob: not in the store" test ! -e "$WORK/store/blobs/sha256/${LAYER_truncated#sha256:}"
"${IMG[@]}" prune >/dev/null
expect_eq "prune clears what an interrupted pull kept" 0 "$(ls "$WORK/store/tmp" | wc -l)"

# A registry that accepts and never answers.
HPORT=$(free_port)
start_helper hang "$HPORT" "$TLS/server.crt" "$TLS/server.key"
wait_port "$HPORT"
start=$(date +%s)
err=$("${IMG[@]}" pull --timeout 2 --retries 1 "${AUTH[@]}" "127.0.0.1:$HPORT/test/busybox:multi" 2>&1); rc=$?
took=$(( $(date +%s) - start ))
expect_eq "hanging registry fails" 1 $rc
expect_contains "hanging registry: timeout named" "timed out" "$err"
check "hanging registry: gives up within 10 s (took ${took}s)" test "$took" -le 10

# ---- faults injected in front of the real registry ----------------------------
proxy() { # proxy MODE: a fresh fault proxy; sets PREG and PLOG
  PPORT=$(free_port); PREG=127.0.0.1:$PPORT; PLOG=$WORK/proxy-$PPORT.log; : > "$PLOG"
  start_helper proxy "$PPORT" "$TLS/server.crt" "$TLS/server.key" "$REG" "$TLS/ca.crt" "$1" "$PLOG"
  wait_https "https://$PREG/v2/"; : > "$PLOG"
}
S2=("$BERTH_IMAGE" --store "$WORK/store2")
proxy status:429:2
out=$("${S2[@]}" pull --no-unpack "${AUTH[@]}" "$PREG/test/busybox:multi" 2>&1); rc=$?
expect_eq "429 twice, then served: pull succeeds after backoff" 0 $rc
proxy status:500:100
err=$("${S2[@]}" pull --retries 2 "${AUTH[@]}" "$PREG/test/busybox:multi" 2>&1); rc=$?
expect_eq "500 every time fails" 1 $rc
expect_contains "500: attempts counted" "registry answered HTTP 500 (TOOMANYREQUESTS: injected by the test) after 3 attempts" "$err"
proxy cut
out=$("${S2[@]}" pull --no-unpack "${AUTH[@]}" "$PREG/test/cut:1" 2>&1); rc=$?
expect_eq "cut transfers resume with Range" 0 $rc
check "a Range request followed the cut" grep -q "blobs/$LAYER_cut bytes=" "$PLOG"
rm -rf "$WORK/store2"
out=$("${S2[@]}" pull --retries 0 --no-unpack "${AUTH[@]}" "$PREG/test/cut:1" 2>&1); rc=$?
expect_eq "cut without retries fails" 1 $rc
partial=$(ls "$WORK/store2/tmp" | grep '^partial-' | head -1)
check "the interrupted blob is kept as a partial file" test -n "$partial"
check "... but not as a blob" test ! -e "$WORK/store2/blobs/sha256/${partial#partial-}"
proxy pass
out=$("${S2[@]}" pull --no-unpack "${AUTH[@]}" "$PREG/test/cut:1" 2>&1); rc=$?
expect_eq "the next pull resumes the partial file" 0 $rc
check "... with a Range request" grep -q "blobs/sha256:${partial#partial-} bytes=" "$PLOG"

# ---- push ---------------------------------------------------------------------
out=$("${IMG[@]}" push "${AUTH[@]}" "$REG/test/busybox:multi" "$REG/test/pushed:1" 2>"$WORK/push.err"); rc=$?
expect_eq "push to a new repository" 0 $rc
"${SK[@]}" copy -q --src-creds "$CREDS" --src-cert-dir "$CERTS" "docker://$REG/test/pushed:1" "oci:$WORK/skopeo-out:1" \
  > "$WORK/sk.log" 2>&1; rc=$?
expect_eq "skopeo copies the pushed image" 0 $rc
arch=$("${SK[@]}" inspect --creds "$CREDS" --cert-dir "$CERTS" "docker://$REG/test/pushed:1" 2>/dev/null | jq -r .Architecture)
expect_eq "skopeo inspect reads the pushed image" amd64 "$arch"
out=$("${IMG[@]}" push --chunk-size 65536 "${AUTH[@]}" "$REG/test/busybox:multi" "$REG/test/chunked:1" 2>&1); rc=$?
expect_eq "chunked push (PATCH)" 0 $rc
proxy status:500:2:PATCH
out=$("${IMG[@]}" push --chunk-size 65536 "${AUTH[@]}" "$REG/test/busybox:multi" "$PREG/test/chunked-retry:1" 2>&1); rc=$?
expect_eq "chunked push goes on after failed chunks" 0 $rc
check "... asking the registry what it kept" grep -q "^GET /v2/test/chunked-retry/blobs/uploads/" "$PLOG"
S3=("$BERTH_IMAGE" --store "$WORK/store3")
"${S3[@]}" pull "${AUTH[@]}" "$REG/test/chunked:1" >/dev/null 2>&1 &&
  "${S3[@]}" unpack "$REG/test/chunked:1" "$WORK/rootfs-chunked" >/dev/null
expect_eq "chunked push pulls back intact" amd64 "$(cat "$WORK/rootfs-chunked/etc/arch" 2>/dev/null)"

# ---- import and export --------------------------------------------------------
"${IMG[@]}" export-oci "$REG/test/busybox:multi" "$WORK/exported" >/dev/null
arch=$("${SK[@]}" inspect "oci:$WORK/exported:multi" 2>/dev/null | jq -r .Architecture)
expect_eq "skopeo reads the exported OCI layout" amd64 "$arch"
S4=("$BERTH_IMAGE" --store "$WORK/store4")
"${S4[@]}" import-oci --name multi "$SEED" seeded:multi >/dev/null 2>"$WORK/imp.err" || cat "$WORK/imp.err"
"${S4[@]}" unpack seeded:multi "$WORK/rootfs-imported" >/dev/null
expect_eq "import-oci picks this platform from a nested index" amd64 "$(cat "$WORK/rootfs-imported/etc/arch" 2>/dev/null)"
"${SK[@]}" copy -q "oci:$SEED:gz" "docker-archive:$WORK/saved.tar:test/saved:1" >/dev/null 2>&1
out=$("${S4[@]}" import-docker "$WORK/saved.tar" 2>&1); rc=$?
expect_eq "import-docker" 0 $rc
expect_contains "import-docker tags the RepoTag" "docker.io/test/saved:1 sha256:" "$out"
"${S4[@]}" unpack test/saved:1 "$WORK/rootfs-saved" >/dev/null
expect_eq "docker-archive layers applied" "layer two" "$(cat "$WORK/rootfs-saved/etc/layer2" 2>/dev/null)"
head -c 2000 "$WORK/saved.tar" > "$WORK/short.tar"
err=$("${S4[@]}" import-docker "$WORK/short.tar" x:1 2>&1)
expect_contains "truncated docker-archive: error names the file" "import docker archive $WORK/short.tar" "$err"

# ---- rm, prune ------------------------------------------------------------------
"${S4[@]}" rm seeded:multi >/dev/null
"${S4[@]}" rm test/saved:1 >/dev/null
out=$("${S4[@]}" prune)
expect_contains "prune after rm removes the blobs" "removed" "$out"
expect_eq "store is empty after prune" 0 "$(ls "$WORK/store4/blobs/sha256" | wc -l)"
err=$("${S4[@]}" rm seeded:multi 2>&1)
expect_contains "rm of a missing tag names it" "image seeded:multi: no such tag" "$err"

# ---- bearer tokens ----------------------------------------------------------------
TPORT=$(free_port); RPORT=$(free_port)
start_helper token "$TPORT" "$TLS/server.crt" "$TLS/server.key" "$TLS/token.crt" "$TLS/token.key" \
  "$USER_NAME" "$PASSWORD" berth-registry berth-issuer
wait_https "https://127.0.0.1:$TPORT/"
start_registry treg "$RPORT" "auth:
  token:
    realm: https://127.0.0.1:$TPORT/token
    service: berth-registry
    issuer: berth-issuer
    rootcertbundle: $TLS/token.crt"
REG_SAVED=$REG; REG=127.0.0.1:$RPORT
seed multi test/busybox:multi
REG=$REG_SAVED
S5=("$BERTH_IMAGE" --store "$WORK/store5")
out=$("${S5[@]}" pull "${AUTH[@]}" "127.0.0.1:$RPORT/test/busybox:multi" 2>&1); rc=$?
expect_eq "pull through a bearer-token challenge" 0 $rc
out=$("${S5[@]}" push "${AUTH[@]}" "127.0.0.1:$RPORT/test/busybox:multi" "127.0.0.1:$RPORT/test/pushed-token:1" 2>&1); rc=$?
expect_eq "push with a pull,push token" 0 $rc
err=$("${S5[@]}" pull --ca "$TLS/ca.crt" --creds "$USER_NAME:wrong" "127.0.0.1:$RPORT/test/busybox:multi" 2>&1)
expect_contains "bad password at the token server" "authentication failed for user \"$USER_NAME\" at the token server" "$err"

# ---- figures: berth-image pull vs skopeo copy of the same image, same run ------
# The test image, and one of three 8 MiB layers that do not compress.
BIG=$WORK/big; mkdir -p "$BIG/blobs/sha256"
echo '{"imageLayoutVersion":"1.0.0"}' > "$BIG/oci-layout"; echo '{"schemaVersion":2,"manifests":[]}' > "$BIG/index.json"
SEED_SAVED=$SEED; SEED=$BIG
ls_json=""; ids_json=""
for i in 1 2 3; do
  mkdir -p "$WORK/big-l$i"; head -c $((8 << 20)) /dev/urandom > "$WORK/big-l$i/f$i"
  layer "$WORK/big-l$i" "gzip -n -1" application/vnd.oci.image.layer.v1.tar+gzip
  ls_json+="${ls_json:+,}$L_DESC"; ids_json+="${ids_json:+,}\"$L_DIFF\""
done
index big "[$(manifest amd64 "[$ids_json]" "[$ls_json]")]"
SEED=$SEED_SAVED
"${SK[@]}" copy -q --dest-creds "$CREDS" --dest-cert-dir "$CERTS" "oci:$BIG:big" "docker://$REG/test/big:1" >/dev/null 2>&1
figure() { # figure NAME REF: one berth-image pull (no unpack, then with) and one skopeo copy
  local s1 s2 s3 s4 bytes
  rm -rf "$WORK/fig-a" "$WORK/fig-b" "$WORK/fig-sk"
  s1=$(date +%s%N)
  "$BERTH_IMAGE" --quiet --store "$WORK/fig-a" pull --no-unpack "${AUTH[@]}" "$2" >/dev/null 2>&1
  s2=$(date +%s%N)
  "$BERTH_IMAGE" --quiet --store "$WORK/fig-b" pull "${AUTH[@]}" "$2" >/dev/null 2>&1
  s3=$(date +%s%N)
  "${SK[@]}" copy -q --src-creds "$CREDS" --src-cert-dir "$CERTS" "docker://$2" "oci:$WORK/fig-sk:x" >/dev/null 2>&1
  s4=$(date +%s%N)
  bytes=$(du -sb "$WORK/fig-a/blobs" | cut -f1)
  echo "figure: $1 ($bytes bytes of blobs): berth-image pull $(( (s2 - s1) / 1000000 )) ms," \
    "with unpack $(( (s3 - s2) / 1000000 )) ms; skopeo copy to oci: $(( (s4 - s3) / 1000000 )) ms"
}
figure "test/busybox:multi, 3 layers" "$REG/test/busybox:multi"
figure "test/big:1, 3 x 8 MiB layers" "$REG/test/big:1"

# ---- a full disk: the store on a 12 MiB tmpfs, 24 MiB of layers ---------------
mkdir -p "$WORK/small"
mount -t tmpfs -o size=12m tmpfs "$WORK/small"
err=$("$BERTH_IMAGE" --quiet --store "$WORK/small/store" pull --no-unpack "${AUTH[@]}" "$REG/test/big:1" 2>&1); rc=$?
expect_eq "pull onto a full disk fails" 1 $rc
expect_contains "full disk: the error says so" "No space left on device" "$err"
expect_contains "full disk: the error names the blob" "blob sha256:" "$err"
check "full disk: no partial blob kept" test -z "$(ls "$WORK/small/store/tmp")"
check "full disk: no unverified blob stored" bash -c 'for f in "$1"/blobs/sha256/*; do [ -e "$f" ] || continue; [ "$(sha256sum "$f" | cut -c1-64)" = "${f##*/}" ] || exit 1; done' _ "$WORK/small/store"
check "full disk: not tagged" bash -c "! grep -q test/big '$WORK/small/store/index.json'"
umount "$WORK/small"

stop_servers
check "no registry or helper left running" test -z "$(jobs -pr)"
finish
