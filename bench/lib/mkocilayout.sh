#!/usr/bin/env bash
# mkocilayout.sh OUT_DIR TAG DIR... — an OCI image layout at OUT_DIR with
# one gzip layer per DIR (its contents under the same absolute path),
# tagged TAG. For benchmarks: real files from the host, many layers.
set -euo pipefail
out=${1:?usage: mkocilayout.sh OUT_DIR TAG DIR...}; tag=${2:?}; shift 2
mkdir -p "$out/blobs/sha256"
blob() { # blob FILE -> prints "hex size" after moving FILE into blobs/
  local d s; d=$(sha256sum "$1" | cut -d' ' -f1); s=$(stat -c %s "$1")
  mv "$1" "$out/blobs/sha256/$d"; echo "$d $s"
}
diff_ids=() layers=()
for src in "$@"; do
  tar --numeric-owner -C / -cf "$out/layer.tar" "${src#/}"
  diff_ids+=("sha256:$(sha256sum "$out/layer.tar" | cut -d' ' -f1)")
  gzip -1 -n "$out/layer.tar"
  read -r d s < <(blob "$out/layer.tar.gz")
  layers+=("{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$d\",\"size\":$s}")
done
ids=$(printf '"%s",' "${diff_ids[@]}"); ids=${ids%,}
ls=$(printf '%s,' "${layers[@]}"); ls=${ls%,}
printf '{"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":[%s]}}' "$ids" > "$out/config"
read -r cd cs < <(blob "$out/config")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s]}' "$cd" "$cs" "$ls" > "$out/manifest"
read -r md ms < <(blob "$out/manifest")
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"%s"}}]}' "$md" "$ms" "$tag" > "$out/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' > "$out/oci-layout"
