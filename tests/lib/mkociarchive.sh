#!/usr/bin/env bash
# mkociarchive.sh ROOTFS OUT.tar NAME — packs a root filesystem as a
# one-layer OCI image archive (oci-layout, index.json, blobs/sha256) that
# `ctr image import` and `skopeo copy oci-archive:` accept. For tests only.
set -euo pipefail
rootfs=${1:?usage: mkociarchive.sh ROOTFS OUT.tar NAME}; out=${2:?}; name=${3:?}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/blobs/sha256"
blob() { # blob FILE -> prints "digest size" after moving FILE into blobs/
  local d s; d=$(sha256sum "$1" | cut -d' ' -f1); s=$(stat -c %s "$1")
  mv "$1" "$tmp/blobs/sha256/$d"; echo "$d $s"
}
tar --numeric-owner -C "$rootfs" -cf "$tmp/layer" .
diffid=$(sha256sum "$tmp/layer" | cut -d' ' -f1)
read -r ld ls < <(blob "$tmp/layer")
jq -n --arg d "sha256:$diffid" '{architecture:"amd64", os:"linux",
  config:{Env:["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd:["/bin/sh"]},
  rootfs:{type:"layers", diff_ids:[$d]}}' > "$tmp/config"
read -r cd cs < <(blob "$tmp/config")
jq -n --arg cd "sha256:$cd" --argjson cs "$cs" --arg ld "sha256:$ld" --argjson ls "$ls" '{schemaVersion:2,
  mediaType:"application/vnd.oci.image.manifest.v1+json",
  config:{mediaType:"application/vnd.oci.image.config.v1+json", digest:$cd, size:$cs},
  layers:[{mediaType:"application/vnd.oci.image.layer.v1.tar", digest:$ld, size:$ls}]}' > "$tmp/manifest"
read -r md ms < <(blob "$tmp/manifest")
jq -n --arg md "sha256:$md" --argjson ms "$ms" --arg n "$name" '{schemaVersion:2, manifests:[{
  mediaType:"application/vnd.oci.image.manifest.v1+json", digest:$md, size:$ms,
  annotations:{"io.containerd.image.name":$n, "org.opencontainers.image.ref.name":($n|split(":")|last)}}]}' > "$tmp/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' > "$tmp/oci-layout"
tar -C "$tmp" -cf "$out" oci-layout index.json blobs
