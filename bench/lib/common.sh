# common.sh — sourced by every bench script: its own path, the repo, the
# usage text (the script's header comment) and die().
SELF=$(readlink -f -- "${BASH_SOURCE[1]}")
REPO=$(cd "$(dirname "$SELF")/.." && pwd)
PROG=${SELF##*/}
usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$SELF"; }
die() { printf '%s: %s\n' "$PROG" "$*" >&2; exit 2; }
