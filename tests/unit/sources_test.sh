#!/usr/bin/env bash
# sources_test.sh — tests mirror sources: every library source
# (<lib>/src/*.cpp) has tests/unit/<lib>/<name>_test.cpp, or a line in
# tests/unit/untested_sources.txt saying where it is tested instead.
set -euo pipefail
root=${1:?usage: sources_test.sh SOURCE_DIR}
list=$root/tests/unit/untested_sources.txt
bad=0
listed() { grep -q "^$1:" "$list"; }
for src in "$root"/*/src/*.cpp; do
  rel=${src#"$root"/}
  lib=${rel%%/*} name=$(basename "$rel" .cpp)
  if [ -f "$root/tests/unit/$lib/${name}_test.cpp" ]; then
    if listed "$rel"; then echo "sources: $rel has tests/unit/$lib/${name}_test.cpp: take its line out of $list" >&2; bad=1; fi
  elif ! listed "$rel"; then
    echo "sources: $rel has no tests/unit/$lib/${name}_test.cpp and no line in $list" >&2
    bad=1
  fi
done
while IFS= read -r line; do
  case $line in '#'* | '') continue ;; esac
  rel=${line%%:*}
  [ -f "$root/$rel" ] || { echo "sources: $list names $rel, which is gone" >&2; bad=1; }
  [ -n "$(echo "${line#*:}" | tr -d ' ')" ] || { echo "sources: $list gives no reason for $rel" >&2; bad=1; }
done <"$list"
[ "$bad" = 0 ] && echo "ok: every library source has its unit test or says where it is tested"
exit "$bad"
