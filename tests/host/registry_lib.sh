# registry_lib.sh — what the registry host tests share: a TLS CA and
# server certificate made here, Debian's docker-registry started on a free
# 127.0.0.1 port with htpasswd auth, an OCI layout of seed images built
# with tar/gzip/zstd/jq, and skopeo copying them into the registry.
# Sourced after a lib that sets $WORK; the caller's EXIT trap runs
# stop_servers.
HELPERS=$(dirname "${BASH_SOURCE[0]}")/registry_helpers.py
for tool in docker-registry skopeo htpasswd openssl python3 zstd gzip jq curl; do
  command -v "$tool" >/dev/null || { echo "registry tests: $tool is missing (scripts/deps.sh installs it)"; exit 1; }
done

SERVER_PIDS=()
stop_servers() {
  local p
  for p in "${SERVER_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${SERVER_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  SERVER_PIDS=()
}

USER_NAME=berth
PASSWORD=s3cret-pass
CREDS=$USER_NAME:$PASSWORD
TLS=$WORK/tls
CERTS=$WORK/certs   # skopeo's --*-cert-dir: the CA as ca.crt
SK=(skopeo --insecure-policy)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_https URL: until the server answers at all (any status), 10 s at most.
wait_https() {
  local i
  for i in $(seq 100); do
    curl -s -o /dev/null --cacert "$TLS/ca.crt" "$1" && return 0
    sleep 0.1
  done
  echo "server at $1 did not come up"; return 1
}

# wait_port PORT: until something listens on 127.0.0.1:PORT, 10 s at most.
wait_port() {
  local i
  for i in $(seq 100); do
    python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$1" \
      2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listens on port $1"; return 1
}

make_tls() {
  mkdir -p "$TLS" "$CERTS"
  local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
  openssl req -x509 "${ec[@]}" -keyout "$TLS/ca.key" -out "$TLS/ca.crt" -days 2 -subj "/CN=berth test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req "${ec[@]}" -keyout "$TLS/server.key" -out "$TLS/server.csr" -subj "/CN=127.0.0.1" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > "$TLS/ext"
  openssl x509 -req -in "$TLS/server.csr" -CA "$TLS/ca.crt" -CAkey "$TLS/ca.key" -CAcreateserial \
    -out "$TLS/server.crt" -days 2 -extfile "$TLS/ext" 2>/dev/null
  cp "$TLS/ca.crt" "$CERTS/ca.crt"
  # The token server signs with its own self-signed RSA key (the registry
  # trusts that certificate as its rootcertbundle).
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TLS/token.key" -out "$TLS/token.crt" -days 2 \
    -subj "/CN=berth test token issuer" 2>/dev/null
}

# start_registry NAME PORT AUTH_YAML: a docker-registry with its own config
# and storage under $WORK/NAME.
start_registry() {
  local name=$1 port=$2 auth=$3 dir=$WORK/$1
  mkdir -p "$dir/data"
  cat > "$dir/config.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
  tls:
    certificate: $TLS/server.crt
    key: $TLS/server.key
$auth
EOF
  docker-registry serve "$dir/config.yml" > "$dir/log" 2>&1 &
  SERVER_PIDS+=($!)
  wait_https "https://127.0.0.1:$port/v2/"
}

start_helper() { # start_helper ARGS...: registry_helpers.py in the background
  python3 "$HELPERS" "$@" > "$WORK/helper-$1-$2.log" 2>&1 &
  SERVER_PIDS+=($!)
}

# ---- the seed image ---------------------------------------------------------
# blob FILE -> "digest size", moving FILE into the seed layout.
SEED=$WORK/seed
blob() {
  local d s; d=$(sha256sum "$1" | cut -d' ' -f1); s=$(stat -c %s "$1")
  mv "$1" "$SEED/blobs/sha256/$d"; echo "sha256:$d $s"
}
# layer DIR COMPRESSOR MEDIATYPE -> sets L_DESC (descriptor JSON) and L_DIFF
layer() {
  local t=$WORK/layer.tar
  tar --numeric-owner --sort=name --mtime=@1700000000 -C "$1" -cf "$t" .
  L_DIFF=sha256:$(sha256sum "$t" | cut -d' ' -f1)
  $2 < "$t" > "$t.c"
  rm -f "$t"
  local d s; read -r d s < <(blob "$t.c")
  L_DESC=$(jq -nc --arg m "$3" --arg d "$d" --argjson s "$s" '{mediaType:$m, digest:$d, size:$s}')
}
# manifest ARCH DIFF_IDS_JSON LAYERS_JSON -> prints a platform descriptor;
# $MANIFEST_CONFIG (a JSON object) is merged into the image config.
manifest() {
  local cfg=$WORK/cfg man=$WORK/man cd cs md ms
  jq -nc --arg a "$1" --argjson ids "$2" --argjson extra "${MANIFEST_CONFIG:-{\}}" '{architecture:$a, os:"linux",
    config:({Env:["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], Cmd:["/bin/sh"]} + $extra), rootfs:{type:"layers", diff_ids:$ids}}' > "$cfg"
  read -r cd cs < <(blob "$cfg")
  jq -nc --arg cd "$cd" --argjson cs "$cs" --argjson ls "$3" '{schemaVersion:2,
    mediaType:"application/vnd.oci.image.manifest.v1+json",
    config:{mediaType:"application/vnd.oci.image.config.v1+json", digest:$cd, size:$cs}, layers:$ls}' > "$man"
  read -r md ms < <(blob "$man")
  jq -nc --arg d "$md" --argjson s "$ms" --arg a "$1" '{mediaType:"application/vnd.oci.image.manifest.v1+json",
    digest:$d, size:$s, platform:{architecture:$a, os:"linux"}}'
}
# index NAME DESCRIPTORS_JSON: an index blob tagged NAME in the seed layout
index() {
  local ix=$WORK/ix d s
  jq -nc --argjson m "$2" '{schemaVersion:2, mediaType:"application/vnd.oci.image.index.v1+json", manifests:$m}' > "$ix"
  read -r d s < <(blob "$ix")
  jq --arg d "$d" --argjson s "$s" --arg n "$1" '.manifests += [{mediaType:"application/vnd.oci.image.index.v1+json",
    digest:$d, size:$s, annotations:{"org.opencontainers.image.ref.name":$n}}]' "$SEED/index.json" > "$SEED/i2"
  mv "$SEED/i2" "$SEED/index.json"
}

# seed REF_NAME REPO:TAG [skopeo flags]: copies a seed image into the registry
seed() {
  "${SK[@]}" copy -q --all --dest-creds "$CREDS" --dest-cert-dir "$CERTS" "${@:3}" \
    "oci:$SEED:$1" "docker://$REG/$2" > "$WORK/seed.log" 2>&1 || { cat "$WORK/seed.log"; return 1; }
}

# start_auth_registry: a CA and certificate, a registry "reg" on a free
# port with htpasswd auth for $USER_NAME/$PASSWORD; sets PORT and REG.
start_auth_registry() {
  make_tls
  htpasswd -Bbn "$USER_NAME" "$PASSWORD" > "$WORK/htpasswd"
  PORT=$(free_port)
  REG=127.0.0.1:$PORT
  start_registry reg "$PORT" "auth:
  htpasswd:
    realm: berth-test
    path: $WORK/htpasswd"
}
