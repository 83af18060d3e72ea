# common.sh — sourced by every bench script: its own path, the repo, the
# usage text (the script's header comment) and die().
SELF=$(readlink -f -- "${BASH_SOURCE[1]}")
REPO=$(cd "$(dirname "$SELF")/.." && pwd)
PROG=${SELF##*/}
usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$SELF"; }
die() { printf '%s: %s\n' "$PROG" "$*" >&2; exit 2; }

# build_targets DIR TARGET... — builds the bench's on-demand programs
# (EXCLUDE_FROM_ALL) in build directory DIR. Returns 1, building nothing,
# when DIR's build does not define them (their library is not installed);
# a failing build is an error.
build_targets() {
  local dir=$1 t; shift
  for t in "$@"; do
    cmake --build "$dir" --target help 2>/dev/null | grep -q "^\(\.\.\. \)\?$t\(: \|$\)" || return 1
  done
  cmake --build "$dir" --target "$@" >/dev/null || die "building $* in $dir failed"
}
