#!/usr/bin/env bash
# layering_test.sh — the folders' include arrows point one way, as
# docs/architecture.md draws them: each library may include only the
# public headers of the libraries listed for it below. berthd links the
# cluster library, never the orchestrator's; the runtime never sees the
# images, network or supervisor code; the client (and the berth CLI in
# client/cli) sees base alone.
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
declare -A allowed=(
  [base]="base"
  [client]="base client"
  [cgroups]="base cgroups"
  [images]="base images"
  [net]="base net"
  [runtime]="base cgroups runtime"
  [cluster]="base cluster"
  [orchestrator]="base cluster orchestrator"
  [supervisor]="base cgroups images net runtime cluster supervisor"
)
fail=0
for dir in "${!allowed[@]}"; do
  while IFS=: read -r file _ inc; do
    lib=$(sed -E 's#.*"berth/([a-z_]+)/.*#\1#' <<<"$inc")
    if [[ " ${allowed[$dir]} " != *" $lib "* ]]; then
      echo "layering: $file includes berth/$lib/, which $dir/ may not use (allowed: ${allowed[$dir]})" >&2
      fail=1
    fi
  done < <(cd "$root" && grep -rnE '#include "berth/[a-z_]+/' "$dir" --include='*.cpp' --include='*.h' || true)
done
# The link lines say the same: no supervisor target links the orchestrator.
if grep -nE 'berth_orchestrator' "$root/supervisor/CMakeLists.txt" "$root/cluster/CMakeLists.txt" >&2; then
  echo "layering: the supervisor or the cluster library links berth_orchestrator" >&2
  fail=1
fi
# The client library and the CLI link base (and OpenSSL, Boost's headers)
# only: never the runtime, cgroups or libseccomp.
if grep -nE 'berth_(supervisor|runtime|cgroups|images|net|cluster|orchestrator|node)\b|SECCOMP' "$root/client/CMakeLists.txt" >&2; then
  echo "layering: client/ links a library other than base" >&2
  fail=1
fi
[ "$fail" = 0 ] && echo "layering: every include arrow is allowed"
exit "$fail"
