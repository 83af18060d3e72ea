#!/usr/bin/env bash
# Usage: bench/json.sh [options]
#
# JSON benchmark: berth's base/json against Boost.JSON (1.81), on the
# documents berth's processes read and write:
#   spec      the config.json of `berth-runtime spec` (what every create parses)
#   spec-big  the same with 60 mounts, 100 environment variables and a
#             seccomp profile naming every x86-64 syscall
#   list      500 containers as berthd's GET /v1/containers returns them
#   monitor   the monitor's messages: hello, an exec request, an exec's
#             exit document, the exit line (one document a line)
# For each it prints parse and dump time (µs per document set, the least
# of three rounds), the peak RSS and the private (anonymous) RSS of a
# process that reads, parses and dumps it once, and the berth/Boost ratios;
# then the wall time of such a process (start-up included) and stripped
# sizes: the programs, berth-runtime and berth-monitor as built, and copies
# of those two with Boost.JSON linked in as well. Boost.JSON is measured
# compiled in (`boost/json/src.hpp` in one file) and, for sizes, also from
# libboost_json.a. The programs without a JSON library (`none`) give the
# baseline.
#
# Options:
#   --build DIR   build directory (default <repo>/build); needs
#                 berth-runtime, berth-monitor and, in bench/, the programs
#                 berth-bench-json-* and berth-{runtime,monitor}-boostjson
#                 (built when libboost-json1.81-dev is installed)
#   -n N          process starts per program for the start-up row (default 300)
#   --short       one tenth of the repetitions, N=10 (CI smoke mode; never
#                 fails on a time)
#   -h, --help    this help
#
# Exit status: 0, or 1 if a program fails, or 2 on a usage error. Without
# the Boost.JSON programs it says so and exits 0.
set -euo pipefail

source "$(dirname "$(readlink -f -- "${BASH_SOURCE[0]}")")/lib/common.sh"

BUILD=$REPO/build
N=300
SCALE=1
while (($#)); do
  case $1 in
    --build) (($# >= 2)) || die "--build needs a directory"; BUILD=$2; shift 2 ;;
    -n) (($# >= 2)) || die "-n needs a number"; N=$2; shift 2 ;;
    --short) N=10; SCALE=10; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done
[[ $N =~ ^[1-9][0-9]*$ ]] || die "bad N: $N"
[[ ${EPOCHREALTIME:-} ]] || die "bash >= 5 required (EPOCHREALTIME)"
command -v python3 >/dev/null || die "python3 required (it writes the documents)"
BUILD=$(cd "$BUILD" && pwd)
IMPLS=(none berth boost boostlib)
if ! build_targets "$BUILD" berth-bench-json-none berth-bench-json-berth berth-bench-json-boost berth-bench-json-boostlib \
  berth-runtime-boostjson berth-monitor-boostjson; then
  echo "$PROG: libboost-json1.81-dev was not found when $BUILD was configured; skipped"
  exit 0
fi
for i in "${IMPLS[@]}"; do
  if [[ ! -x $BUILD/bench/berth-bench-json-$i ]]; then
    echo "$PROG: $BUILD/bench/berth-bench-json-$i not built (install libboost-json1.81-dev and rebuild); skipped"
    exit 0
  fi
done
for b in runtime/berth-runtime supervisor/berth-monitor bench/berth-runtime-boostjson bench/berth-monitor-boostjson; do
  [[ -x $BUILD/$b ]] || { echo "$PROG: $BUILD/$b not found" >&2; exit 1; }
done

TMP=$(mktemp -d /tmp/berth-json-bench.XXXXXX)
trap 'rm -rf -- "$TMP"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
for i in "${IMPLS[@]}"; do cp -- "$BUILD/bench/berth-bench-json-$i" "$TMP/$i"; done

# ---------------------------------------------------------- documents ---
(cd "$TMP" && "$BUILD/runtime/berth-runtime" spec && mv config.json spec.json)
python3 - "$TMP" <<'PY'
import json, re, sys
d = sys.argv[1]
spec = json.load(open(f"{d}/spec.json"))
big = json.loads(json.dumps(spec))
big["process"]["env"] += [f"VAR_{i:03d}=value-{i:03d}-" + "x" * 24 for i in range(100)]
big["mounts"] += [{"destination": f"/srv/data{i:02d}", "type": "bind",
                   "source": f"/var/lib/berth/volumes/vol{i:02d}/_data",
                   "options": ["rbind", "rprivate", "nosuid", "nodev"]} for i in range(60)]
try:
    names = re.findall(r"^#define __NR_(\w+)", open("/usr/include/x86_64-linux-gnu/asm/unistd_64.h").read(), re.M)
except OSError:
    names = [f"syscall{i}" for i in range(360)]
rules = [{"names": names[:-20], "action": "SCMP_ACT_ALLOW"}]
rules += [{"names": [n], "action": "SCMP_ACT_ALLOW",
           "args": [{"index": 0, "value": 2080505856, "op": "SCMP_CMP_MASKED_EQ", "valueTwo": 0}]}
          for n in names[-20:]]
big["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
                           "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
                           "syscalls": rules}
json.dump(big, open(f"{d}/spec-big.json", "w"), indent="\t")

# entry_json of supervisor/src/node_service.cpp, record_json's fields
cs = []
for i in range(500):
    running = i % 4 != 0
    c = {"name": f"ct{i:03d}", "state": "running" if running else "stopped"}
    if running:
        c.update({"init_pid": 100000 + i, "monitor_pid": 99000 + i, "started": 1733500000 + i, "uptime": 86400 + i})
    c["addresses"] = [f"198.18.{i // 250}.{i % 250 + 2}"]
    c["config"] = {"name": f"ct{i:03d}", "hostname": f"ct{i:03d}.example.net", "template": "berth/debian",
                   "disk": "10G", "ram": "1G", "swap": "512M", "cpus": "2", "pids": "4096",
                   "autostart": "yes", "restart": "on-failure", "net": f"lan:198.18.{i // 250}.{i % 250 + 2}",
                   "nameserver": "198.18.0.1", "ports": f"{8000 + i}:80", "project": f"team{i % 7}"}
    cs.append(c)
json.dump(cs, open(f"{d}/list.json", "w"))

# supervisor/monitor/main.cpp (hello, exit line), supervisor/monitor/sessions.cpp
# (exit document), supervisor/src/node_service.cpp (the exec request)
lines = [{"pid": 123456, "monitor": 123450, "started": 1733500000},
         {"args": ["/bin/bash", "-l"], "terminal": True, "env": ["TERM=xterm-256color", "LANG=C.UTF-8"],
          "rows": 50, "cols": 200},
         {"code": 0},
         {"exit": {"code": 0, "time": "2024-12-06T15:46:40Z"}}]
with open(f"{d}/monitor.jsonl", "w") as f:
    for l in lines:
        f.write(json.dumps(l, separators=(",", ":")) + "\n")
PY

DOCS=(spec spec-big list monitor)
declare -A FILE=([spec]=spec.json [spec-big]=spec-big.json [list]=list.json [monitor]=monitor.jsonl)
declare -A REPS=([spec]=5000 [spec-big]=500 [list]=50 [monitor]=50000)
declare -A T=()

fail() { echo "$PROG: $*" >&2; exit 1; }
for d in "${DOCS[@]}"; do
  f=$TMP/${FILE[$d]}
  for i in berth boost; do
    read -r T[$i.$d.parse] T[$i.$d.dump] < <("$TMP/$i" time $((REPS[$d] / SCALE)) "$f") || fail "$i: $d failed"
  done
  for i in none berth boost; do
    read -r T[$i.$d.rss] T[$i.$d.anon] < <("$TMP/$i" once "$f") || fail "$i: $d failed"
  done
done

# Start-up: a fresh process that reads, parses and dumps the document once,
# N times each, the programs in turn so that load hits them alike.
for d in spec monitor; do
  for i in none berth boost; do T[$i.$d.start]=0; done
  for ((k = 0; k < N; k++)); do
    for i in none berth boost; do
      t0=$EPOCHREALTIME
      "$TMP/$i" once "$TMP/${FILE[$d]}" >/dev/null
      t1=$EPOCHREALTIME
      T[$i.$d.start]=$(awk -v s="${T[$i.$d.start]}" -v a="$t0" -v b="$t1" 'BEGIN{printf "%.6f", s + b - a}')
    done
  done
  for i in none berth boost; do
    T[$i.$d.start]=$(awk -v s="${T[$i.$d.start]}" -v n="$N" 'BEGIN{printf "%.3f", s * 1000 / n}')
  done
done

stripped() { cp -- "$1" "$TMP/s" && strip "$TMP/s" && stat -c %s "$TMP/s"; }
declare -A S=()
for i in "${IMPLS[@]}"; do S[$i]=$(stripped "$TMP/$i"); done
S[runtime]=$(stripped "$BUILD/runtime/berth-runtime")
S[monitor]=$(stripped "$BUILD/supervisor/berth-monitor")
S[runtime+boost]=$(stripped "$BUILD/bench/berth-runtime-boostjson")
S[monitor+boost]=$(stripped "$BUILD/bench/berth-monitor-boostjson")

# ------------------------------------------------------------- report ---
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.2fx", a/b; else print "-" }'; }
kib() { awk -v a="$1" 'BEGIN{printf "%.1f", a/1024}'; }
echo "== JSON: base/json against Boost.JSON $(dpkg-query -W -f='${Version}' libboost-json1.81-dev 2>/dev/null || echo '?') =="
echo "host: $(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "build: $(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$BUILD/CMakeCache.txt" | sed 's/^$/RelWithDebInfo (default)/'); ratios are berth/Boost (below 1: berth better)"
echo
fmt='%-9s %7s | %8s %8s %6s | %7s %7s %6s | %5s %5s %5s %6s | %4s %5s %5s %6s\n'
printf "$fmt" doc bytes parse_us "" "" dump_us "" "" peak_RSS_KiB "" "" "" anon_RSS_KiB "" "" ""
printf "$fmt" "" "" berth boost ratio berth boost ratio none berth boost ratio none berth boost ratio
for d in "${DOCS[@]}"; do
  printf "$fmt" "$d" "$(stat -c %s "$TMP/${FILE[$d]}")" \
    "${T[berth.$d.parse]}" "${T[boost.$d.parse]}" "$(ratio "${T[berth.$d.parse]}" "${T[boost.$d.parse]}")" \
    "${T[berth.$d.dump]}" "${T[boost.$d.dump]}" "$(ratio "${T[berth.$d.dump]}" "${T[boost.$d.dump]}")" \
    "${T[none.$d.rss]}" "${T[berth.$d.rss]}" "${T[boost.$d.rss]}" "$(ratio "${T[berth.$d.rss]}" "${T[boost.$d.rss]}")" \
    "${T[none.$d.anon]}" "${T[berth.$d.anon]}" "${T[boost.$d.anon]}" "$(ratio "${T[berth.$d.anon]}" "${T[boost.$d.anon]}")"
done
echo
echo "process start + read + parse + dump once, ms (N=$N each, interleaved):"
fmt2='%-9s %8s %8s %8s %7s\n'
printf "$fmt2" doc none berth boost ratio
for d in spec monitor; do
  printf "$fmt2" "$d" "${T[none.$d.start]}" "${T[berth.$d.start]}" "${T[boost.$d.start]}" \
    "$(ratio "${T[berth.$d.start]}" "${T[boost.$d.start]}")"
done
echo
echo "stripped sizes, KiB (libstdc++ static, libc shared, as berth-runtime):"
printf '  bench program without JSON        %8s\n' "$(kib "${S[none]}")"
printf '  + base/json                       %8s  (+%s)\n' "$(kib "${S[berth]}")" "$(kib $((S[berth] - S[none])))"
printf '  + Boost.JSON (src.hpp, one file)  %8s  (+%s)\n' "$(kib "${S[boost]}")" "$(kib $((S[boost] - S[none])))"
printf '  + Boost.JSON (libboost_json.a)    %8s  (+%s)\n' "$(kib "${S[boostlib]}")" "$(kib $((S[boostlib] - S[none])))"
printf '  berth-runtime                     %8s  + Boost.JSON: %s (+%s)\n' "$(kib "${S[runtime]}")" \
  "$(kib "${S[runtime+boost]}")" "$(kib $((S[runtime+boost] - S[runtime])))"
printf '  berth-monitor (fully static)      %8s  + Boost.JSON: %s (+%s)\n' "$(kib "${S[monitor]}")" \
  "$(kib "${S[monitor+boost]}")" "$(kib $((S[monitor+boost] - S[monitor])))"
