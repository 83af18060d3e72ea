#!/usr/bin/env bash
# lint.sh — checks the C++ changed since a commit: clang-format on the changed lines, clang-tidy on the changed .cpp files.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: scripts/lint.sh [--build DIR] [--jobs N] [BASE]

Checks the C++ files changed between BASE and the working tree:
  - formatting of the changed lines only (git clang-format --diff BASE,
    against .clang-format); the diff it proposes is printed;
  - clang-tidy (.clang-tidy) over the changed .cpp files, with the
    compile_commands.json of DIR; headers are checked through them.

BASE defaults to HEAD~1; in a first commit every file is checked, and in
a shallow clone that lacks HEAD~1 nothing is (the change is unknown).

  --build DIR   build directory whose compile_commands.json clang-tidy reads
                (default: build/ at the top of the tree); configured with
                -DCMAKE_EXPORT_COMPILE_COMMANDS=ON when it has none
  --jobs N      clang-tidy processes at once (default: the number of CPUs)
  -h, --help    this text

Exit status: 0 clean, 1 a finding, 2 a usage error.
EOF
}

die_usage() {
  echo "lint.sh: $1" >&2
  echo "usage: scripts/lint.sh [--build DIR] [--jobs N] [BASE] (--help for more)" >&2
  exit 2
}

root=$(cd "$(dirname "$0")/.." && pwd)
build=""
jobs=$(nproc)
base=""
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --build) [ $# -ge 2 ] || die_usage "--build needs a directory"; build=$2; shift 2 ;;
    --build=*) build=${1#--build=}; shift ;;
    --jobs) [ $# -ge 2 ] || die_usage "--jobs needs a number"; jobs=$2; shift 2 ;;
    --jobs=*) jobs=${1#--jobs=}; shift ;;
    -*) die_usage "unknown option $1" ;;
    *) [ -z "$base" ] || die_usage "one BASE at the most (got $base and $1)"; base=$1; shift ;;
  esac
done
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || die_usage "--jobs takes a positive number, not $jobs"
build=${build:-$root/build}
[ -n "$build" ] || die_usage "--build needs a directory"
build=$(mkdir -p "$build" && cd "$build" && pwd)
cd "$root"

for tool in clang-format clang-tidy git-clang-format; do
  command -v "$tool" >/dev/null || { echo "lint.sh: $tool not found (scripts/deps.sh installs it)" >&2; exit 2; }
done

empty_tree=$(git hash-object -t tree /dev/null)
# What to compare with: BASE, or HEAD~1, or (no parent) the empty tree, so
# that every line counts as changed.
if [ -n "$base" ]; then
  git rev-parse --verify -q "$base^{commit}" >/dev/null || die_usage "BASE $base: no such commit"
elif git rev-parse --verify -q 'HEAD~1^{commit}' >/dev/null; then
  base=HEAD~1
elif [ "$(git rev-parse --is-shallow-repository)" = true ]; then
  # A shallow clone hides the parent: what changed is unknown, and the
  # tree's existing lines are not all formatted, so nothing is checked.
  echo "lint.sh: shallow clone without HEAD~1: nothing to compare with; skipped (fetch the parent to lint)"
  exit 0
else
  base=$empty_tree
  echo "lint.sh: no HEAD~1 (a first commit): checking every file"
fi

exts='cpp,cc,cxx,h,hpp'
mapfile -t changed < <(git diff --name-only --diff-filter=ACMR "$base" -- \
  '*.cpp' '*.cc' '*.cxx' '*.h' '*.hpp')
if [ ${#changed[@]} -eq 0 ]; then
  echo "lint.sh: no C++ changed since $base"
  exit 0
fi
failed=0

# ---- formatting: the changed lines only --------------------------------------
if [ "$base" = "$empty_tree" ]; then
  # No commit to compare with (git clang-format wants one): whole files.
  fmt_out=$(for f in "${changed[@]}"; do
    { clang-format --style=file "$f" | diff -u --label "a/$f" --label "b/$f" "$f" -; } |
      sed '1i diff --git a/'"$f"' b/'"$f" || true
  done)
else
  # git clang-format (14) exits 0 whether or not it prints a diff.
  fmt_out=$(git clang-format --diff --extensions "$exts" "$base" -- "${changed[@]}" 2>&1) ||
    { echo "$fmt_out" >&2; echo "lint.sh: git clang-format failed" >&2; exit 2; }
fi
if grep -q '^diff --git' <<<"$fmt_out"; then
  fix="git clang-format $base"
  [ "$base" != "$empty_tree" ] || fix="clang-format -i FILE"
  echo "format: clang-format would change these lines (fix with: $fix):"
  echo "$fmt_out"
  failed=1
else
  echo "format: ${#changed[@]} file(s) clean"
fi

# ---- clang-tidy: the changed .cpp files --------------------------------------
sources=()
for f in "${changed[@]}"; do
  case "$f" in *.cpp|*.cc|*.cxx) sources+=("$f") ;; esac
done
if [ ${#sources[@]} -gt 0 ]; then
  db=$build/compile_commands.json
  if [ ! -f "$db" ]; then
    echo "lint.sh: configuring $build for its compile_commands.json"
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DBERTH_TESTS=ON >/dev/null ||
      { echo "lint.sh: cmake could not configure $build" >&2; exit 2; }
  fi
  grep -qF "\"file\": \"$root/" "$db" ||
    { echo "lint.sh: $db was not configured from $root" >&2; exit 2; }
  tidy=()
  for f in "${sources[@]}"; do
    if grep -qF "\"file\": \"$root/$f\"" "$db"; then tidy+=("$f")
    else echo "tidy: $f is not built in $build (no compile command): skipped"; fi
  done
  if [ ${#tidy[@]} -gt 0 ]; then
    out=$(mktemp -d)
    trap 'rm -rf "$out"' EXIT
    # One clang-tidy a file, N at once; each file's report is printed whole.
    printf '%s\n' "${tidy[@]}" | xargs -P "$jobs" -I{} sh -c \
      'clang-tidy -p "$1" --quiet "$2" >"$3/$(echo "$2" | tr / _).log" 2>&1 || echo "$2" >>"$3/failed"' \
      _ "$build" {} "$out"
    if [ -s "$out/failed" ]; then
      while read -r f; do
        echo "tidy: $f:"
        grep -v '^[0-9].* generated\.$\|^Suppressed [0-9]* warnings\|^Use -header-filter\|^Use -system-headers' \
          "$out/$(echo "$f" | tr / _).log" || true
      done < "$out/failed"
      failed=1
    else
      echo "tidy: ${#tidy[@]} file(s) clean"
    fi
  fi
fi

exit $failed
