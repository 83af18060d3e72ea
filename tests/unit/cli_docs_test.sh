#!/usr/bin/env bash
# cli_docs_test.sh — the man pages and the bash completion against the
# binaries: the pages render without a warning, every verb, sub-verb and
# flag that berth's (and berthd's, berth-orchestrator's and
# berth-cluster's) usage prints is documented and
# completed, and the completion works, quietly, without berthd.
# usage: cli_docs_test.sh BERTH [BERTHD [BERTH-ORCHESTRATOR BERTH-CLUSTER]]
#        (no root; no berthd needed)
set -uo pipefail

berth=${1:?usage: cli_docs_test.sh BERTH [BERTHD]}
berthd=${2:-}
orch=${3:-}
cluster=${4:-}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
man1=$root/docs/man/berth.1
man8=$root/docs/man/berthd.8
completion=$root/supervisor/completion/berth.bash
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export BERTH_SOCKET=$tmp/no-berthd.sock  # unreachable on purpose
unset BERTH_REMOTE BERTH_TLS_CERT BERTH_TLS_KEY BERTH_TLS_CA

failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# --- (a) the pages render without warnings ---------------------------------
for page in "$man1" "$man8"; do
  out=$(groff -man -ww -z "$page" 2>&1) || fail "groff failed on $page"
  [[ -z $out ]] || fail "groff warns on $page: $out"
  if command -v man >/dev/null; then
    out=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
    [[ -z $out ]] || fail "man warns on $page: $out"
  fi
done

# --- what the binaries say they accept --------------------------------------
"$berth" >/dev/null 2>"$tmp/usage"
rc=$?
[[ $rc == 2 ]] || fail "berth without arguments exited $rc, not 2"
"$berth" image >/dev/null 2>"$tmp/image-usage"
[[ -s $tmp/usage && -s $tmp/image-usage ]] || fail "berth printed no usage"

# The verbs: the first word of each usage entry. Entries are separated by
# three or more spaces, ", " or "): " (the cluster line); "a|b" is two.
first_words() {
  awk '{ line = $0; sub(/^ +/, "", line)
         n = split(line, seg, /   +|, |\): /)
         for (i = 1; i <= n; i++) { split(seg[i], w, " "); m = split(w[1], v, "|")
           for (j = 1; j <= m; j++) if (v[j] ~ /^[a-z][a-z-]*$/) print v[j] } }' | sort -u
}
verbs=$(tail -n +2 "$tmp/usage" | first_words)
# The sub-verbs of VERB: the first word after it in each of its entries
# ("operation ls | show ID" gives ls and show).
sub_verbs() {
  awk -v verb="$1" '{ line = $0; sub(/^ +/, "", line); n = split(line, seg, /   +/)
         for (i = 1; i <= n; i++) { if (seg[i] !~ ("^" verb " ")) continue
           rest = substr(seg[i], length(verb) + 2); k = split(rest, alt, / \| /)
           for (a = 1; a <= k; a++) { split(alt[a], w, " "); m = split(w[1], v, "|")
             for (j = 1; j <= m; j++) if (v[j] ~ /^[a-z][a-z-]*$/) print v[j] } } }' | sort -u
}
# The flags of the usage entry that starts with PATTERN and its
# continuation lines (those starting with spaces and "[").
entry_flags() {
  awk -v pat="$1" '$0 ~ pat { on = 1; print; next } on && /^ +\[/ { print; next } { on = 0 }' |
    grep -o -- '--[a-z][a-z0-9-]*' | sort -u
}
[[ $(wc -w <<<"$verbs") -ge 20 ]] || fail "found only these verbs in berth's usage: $verbs"
for v in create image network start list; do
  grep -qx "$v" <<<"$verbs" || fail "verb $v not found in berth's usage (the test's parser is out of step)"
done

# --- --help and VERB --help: usage on stdout, exit 0 --------------------------
"$berth" --help >"$tmp/help" 2>/dev/null || fail "berth --help exited $?, not 0"
cmp -s "$tmp/help" "$tmp/usage" || fail "berth --help does not print the usage on stdout"
for v in $verbs; do
  case $v in env | node | cluster) continue ;; esac  # berth-cluster's
  out=$("$berth" "$v" --help 2>/dev/null) || fail "berth $v --help exited $?, not 0"
  grep -qw -- "$v" <<<"$out" || fail "berth $v --help does not show $v's usage: $out"
done
"$berth" image pull --help 2>/dev/null | grep -q "berth image pull REF" || fail "berth image pull --help shows no usage"
"$berth" nosuch --help >/dev/null 2>&1 && fail "berth nosuch --help exited 0"
if [[ -n $berthd ]]; then
  "$berthd" --help 2>/dev/null | grep -q -- "--state-dir" || fail "berthd --help does not print its usage on stdout with 0"
fi

# --- completion -------------------------------------------------------------
# completions WORD...: what the completion offers for the command line WORDs
# (the last is the word being completed), one per line; anything it
# writes to stderr is a failure.
completions() {
  bash --norc --noprofile -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _berth
      printf "%s\n" "${COMPREPLY[@]}"' _ "$completion" "$@" 2>"$tmp/err"
  [[ -s $tmp/err ]] && fail "completion of '$*' wrote to stderr: $(cat "$tmp/err")"
  return 0
}
offers() {  # offers WORD WORD...: fails unless completing the WORDs offers WORD
  local want=$1
  shift
  grep -qxF -- "$want" <<<"$(completions "$@")" || fail "completing '$*' does not offer $want"
}

# --- (b) every verb, sub-verb and flag is documented and completed ----------
# (each line with a space added, so that a verb's end is a font change or a space)
commands=$(awk '/^\.SH COMMANDS/ { on = 1; next } /^\.SH / { on = 0 } on { print $0 " " }' "$man1")
[[ -n $commands ]] || fail "berth.1 has no COMMANDS section"
roff() { printf '%s' "${1//-/\\-}"; }  # --boot-order as the page writes it
bold() {  # bold WORDS: COMMANDS has them set in bold, as a whole word
  local w
  w=$(roff "$1")
  grep -qF -e "\\fB$w\\f" -e "\\fB$w " -e "\\fB$w|" <<<"$commands"
}
for v in $verbs; do
  bold "$v" || fail "verb $v is not in berth.1's COMMANDS"
  offers "$v" "$berth" ""
done
for group in image network operation; do
  grep -qx "$group" <<<"$verbs" || continue
  subs=$( (cat "$tmp/usage"; sed -n 's/^.*berth image \([a-z-]*\).*/image \1/p' "$tmp/image-usage") | sub_verbs "$group")
  [[ -n $subs ]] || fail "no sub-verbs of $group found in the usage"
  for s in $subs; do
    bold "$group $s" || fail "$group $s is not in berth.1's COMMANDS"
    offers "$s" "$berth" "$group" ""
  done
done
for f in $(cat "$tmp/usage" "$tmp/image-usage" | grep -o -- '--[a-z][a-z0-9-]*' | sort -u); do
  grep -qF -- "$(roff "$f")" "$man1" || fail "flag $f is not in berth.1"
done
for f in $(head -1 "$tmp/usage" | grep -o -- '--[a-z][a-z0-9-]*'); do offers "$f" "$berth" "--"; done
for f in $(entry_flags '^  create ' <"$tmp/usage"); do
  offers "$f" "$berth" create web1 --
  case $f in --template | --rootfs | --privileged | --project) ;; *) offers "$f" "$berth" set web1 -- ;; esac
done
for f in $(entry_flags '^  network create ' <"$tmp/usage"); do offers "$f" "$berth" network create lan --; done
for s in $(sed -n 's/^.*berth image \([a-z-]*\).*/\1/p' "$tmp/image-usage"); do
  flags=$(grep "berth image $s " "$tmp/image-usage" | grep -o -- '--[a-z][a-z0-9-]*')
  grep -q "berth image $s .*REGISTRY FLAGS" "$tmp/image-usage" &&
    flags+=" $(sed -n '/REGISTRY FLAGS:/,$p' "$tmp/image-usage" | grep -o -- '--[a-z][a-z0-9-]*')"
  for f in $flags; do offers "$f" "$berth" image "$s" a b --; done
done
if [[ -n $berthd ]]; then
  "$berthd" --help >"$tmp/berthd-usage" 2>/dev/null
  grep -q '^usage: berthd' "$tmp/berthd-usage" || fail "berthd printed no usage"
  for f in $(grep -o -- '--[a-z][a-z0-9-]*' "$tmp/berthd-usage" | sort -u); do
    grep -qF -- "$(roff "$f")" "$man8" || fail "berthd flag $f is not in berthd.8"
  done
fi

# berth-orchestrator(8) and berth-cluster(1): they render without warnings
# and hold every flag their --help prints.
for pair in "${orch}:$root/docs/man/berth-orchestrator.8" "${cluster}:$root/docs/man/berth-cluster.1"; do
  bin=${pair%%:*} page=${pair#*:}
  [[ -n $bin ]] || continue
  out=$(groff -man -ww -z "$page" 2>&1) || fail "groff failed on $page"
  [[ -z $out ]] || fail "groff warns on $page: $out"
  "$bin" --help >"$tmp/cluster-usage" || fail "${bin##*/} --help exited $?"
  grep -q "^usage: ${bin##*/}" "$tmp/cluster-usage" || fail "${bin##*/} --help printed no usage on stdout"
  for f in $(grep -o -- '--[a-z][a-z0-9-]*' "$tmp/cluster-usage" | sort -u); do
    grep -qF -- "$(roff "$f")" "$page" || fail "flag $f of ${bin##*/} is not in ${page##*/}"
  done
done

# --- (c) the completion itself, berthd unreachable and answering ------------
offers create "$berth" ""
offers image "$berth" ""
offers pull "$berth" image ""
offers json "$berth" list --format ""
[[ -z $(completions "$berth" start "") ]] || fail "names offered although berthd is unreachable"
[[ -z $(completions "$berth" image rm "") ]] || fail "images offered although berthd is unreachable"
# Names come from berth's tables: a stand-in prints them as berth does.
cat >"$tmp/berth" <<'EOF'
#!/bin/sh
case "$*" in
  list) printf '%-20s %-10s %s\n' NAME STATE PID web1 running 12 db-2 stopped - ;;
  "image ls") printf '%-50s %s\n' TAG DIGEST berth/busybox sha256:1 reg.example:5000/team/app:1 sha256:2 ;;
  "network ls") printf '%-16s %s\n' NAME MODE lan bridged ;;
  *) exit 2 ;;
esac
EOF
chmod +x "$tmp/berth"
[[ $(completions "$tmp/berth" start "" | sort | tr '\n' ' ') == "db-2 web1 " ]] ||
  fail "container names from berth list: got '$(completions "$tmp/berth" start "")'"
offers lan "$tmp/berth" create db1 --net ""
offers berth/busybox "$tmp/berth" create db1 --template ""
# bash splits "reg.example:5000" at ':' and replaces only what follows it.
offers 5000/team/app:1 "$tmp/berth" image rm reg.example : 50

if ((failures)); then
  echo "cli_docs_test: $failures failure(s)" >&2
  exit 1
fi
echo "cli_docs_test: ok ($(wc -w <<<"$verbs") verbs)"
