#!/usr/bin/env bash
# help_test.sh — every program of the project answers -h and --help with
# its usage on stdout and exit status 0, and writes nothing on stderr.
# usage: help_test.sh PROGRAM...   (no root; nothing is started)
set -uo pipefail
bad=0
for prog in "$@"; do
  for flag in -h --help; do
    out=$(env -u CNI_COMMAND "$prog" "$flag" 2>/tmp/help_test.err.$$)
    rc=$?
    err=$(cat /tmp/help_test.err.$$)
    if [ "$rc" -ne 0 ] || [[ "$out" != *usage* ]] || [ -n "$err" ]; then
      echo "help: $(basename "$prog") $flag: exit $rc, stdout [${out:0:80}], stderr [${err:0:80}]" >&2
      bad=1
    fi
  done
done
rm -f /tmp/help_test.err.$$
[ "$bad" = 0 ] && echo "ok: $# programs answer -h and --help with their usage"
exit "$bad"
