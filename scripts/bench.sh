#!/usr/bin/env bash
# Runs the end-to-end benchmarks on kbt and on Linux in one invocation and
# writes bench/results/latest.json, latest.md and latest.png, then prints the
# table. Per workload the sides alternate, three runs each (kbt, Linux, kbt,
# Linux, kbt, Linux); the report gives every run, the medians and the ratio
# kbt/Linux (for latency Linux/kbt, so bigger is better everywhere).
# Usage: scripts/bench.sh [--seconds N] [--only WORKLOAD,...] [--rate R] [--micro]
#   --seconds N  length of each run (default 10)
#   --only LIST  some of cps,keepalive,bulk,syncookies,latency (default: all)
#   --rate R     requests/s for the latency workload (default: half the
#                smaller of the two sides' keep-alive medians in this run;
#                with --only and no keepalive, one calibration run a side)
#   --micro      the micro-benchmarks instead: build/bench/kbt-bench into
#                bench/results/micro.json, a table in bench/results/micro.md
# Installs what is missing (scripts/deps.sh) and builds (scripts/build.sh)
# when build/ lacks a program it needs. Needs root. Exits 0 when every run
# was clean, 1 when one failed (the report is still written), 2 on bad flags.
# The sides: bench/kbt_side.sh and bench/linux_side.sh (KBT_SIDE and
# LINUX_SIDE override them, e.g. to test this script). See bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; }
bad() { echo "bench.sh: $*" >&2; echo "bench.sh: see --help" >&2; exit 2; }

all_workloads=(cps keepalive bulk syncookies latency)
seconds=10
only=""
rate=""
micro=0
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --seconds) [ $# -ge 2 ] || bad "--seconds needs a value"; seconds=$2; shift 2 ;;
    --seconds=*) seconds=${1#*=}; shift ;;
    --only) [ $# -ge 2 ] || bad "--only needs a value"; only=$2; shift 2 ;;
    --only=*) only=${1#*=}; shift ;;
    --rate) [ $# -ge 2 ] || bad "--rate needs a value"; rate=$2; shift 2 ;;
    --rate=*) rate=${1#*=}; shift ;;
    --micro) micro=1; shift ;;
    *) bad "unknown argument '$1'" ;;
  esac
done
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ] || [ "$seconds" -gt 3600 ]; then
  bad "--seconds must be a whole number from 1 to 3600, not '$seconds'"
fi
if [ -n "$rate" ] && { ! [[ "$rate" =~ ^[0-9]+([.][0-9]+)?$ ]] || [ "${rate%%.*}" -lt 1 ]; }; then
  bad "--rate must be a number of requests/s (at least 1), not '$rate'"
fi
workloads=()
if [ -n "$only" ]; then
  IFS=, read -r -a asked <<<"$only"
  [ ${#asked[@]} -gt 0 ] || bad "--only needs at least one workload"
  for w in "${asked[@]}"; do
    case " ${all_workloads[*]} " in *" $w "*) ;; *) bad "unknown workload '$w' (${all_workloads[*]})" ;; esac
  done
  # In the order of the full run (latency last: its rate comes from keepalive).
  for w in "${all_workloads[@]}"; do
    case ",$only," in *",$w,"*) workloads+=("$w") ;; esac
  done
else
  workloads=("${all_workloads[@]}")
fi
[ "$micro" -eq 0 ] || [ -z "$only$rate" ] || bad "--micro runs the micro-benchmarks only: no --only or --rate"
[ "$(id -u)" -eq 0 ] || { echo "bench.sh: needs root (network namespaces, TAP, DPDK)" >&2; exit 1; }

kbt_side=${KBT_SIDE:-bench/kbt_side.sh}
linux_side=${LINUX_SIDE:-bench/linux_side.sh}
report=bench/report/report.py
python=/usr/bin/python3
results=bench/results

scripts/deps.sh || { echo "bench.sh: installing dependencies failed" >&2; exit 1; }
programs=(apps/kbt-httpd apps/kbt-load apps/kbt-echo apps/kbt-flood bench/kbt-bench
          bench/linux-http-open-loop)
for prog in "${programs[@]}"; do
  if [ ! -x "build/$prog" ]; then
    echo "bench.sh: build/$prog is missing: building (scripts/build.sh release)" >&2
    scripts/build.sh release || { echo "bench.sh: build failed" >&2; exit 1; }
    break
  fi
done
for prog in "${programs[@]}"; do
  [ -x "build/$prog" ] || { echo "bench.sh: build/$prog is missing after the build" \
    "(bench/ needs the meson option bench: meson configure build -Dbench=true)" >&2; exit 1; }
done
mkdir -p "$results"

tmp=$(mktemp -d /tmp/kbt-bench.XXXXXX)
side_pid=""
# shellcheck source=scripts/lib/stop_process.sh
. scripts/lib/stop_process.sh
cleanup() {
  # A side cleans up after itself on SIGTERM (its namespaces, processes).
  stop_process "$side_pid" TERM 30
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the micro-benchmarks
if [ "$micro" -eq 1 ]; then
  echo "bench.sh: build/bench/kbt-bench (JSON in $results/micro.json)" >&2
  timeout -k 10 1800 build/bench/kbt-bench --benchmark_format=json \
    --benchmark_out="$results/micro.json" >"$tmp/micro.stdout" 2>"$tmp/micro.log" &
  side_pid=$!
  micro_rc=0
  wait "$side_pid" || micro_rc=$?
  side_pid=""
  if [ "$micro_rc" -ne 0 ]; then
    tail -n 20 "$tmp/micro.log" >&2
    echo "bench.sh: kbt-bench failed (exit $micro_rc)" >&2
    exit 1
  fi
  "$python" "$report" micro --in "$results/micro.json" --md "$results/micro.md"
  exit 0
fi

# ---- the end-to-end workloads
for side in "$kbt_side" "$linux_side"; do
  [ -x "$side" ] || { echo "bench.sh: $side is missing or not executable" >&2; exit 1; }
done
"$python" "$report" machine >"$tmp/machine.json"
runs=$tmp/runs.jsonl
: >"$runs"
failures=0
limit=$((seconds + 180))  # start-up, the run, and stopping, per side

run_side() {  # side (kbt|linux), workload, round, [--calibration], [rate]
  local side=$1 workload=$2 round=$3 calib=${4:-} r=${5:-} script start end rc=0 rec_rc=0
  script=$kbt_side
  [ "$side" = linux ] && script=$linux_side
  local log="$tmp/$workload-$side-$round${calib:+-calibration}"
  echo "bench.sh: $workload round $round${calib:+ (calibration)}: $side: $script $workload $seconds${r:+ $r}" >&2
  start=$(date +%s.%N)
  # shellcheck disable=SC2086  # $r is empty or one number
  timeout -k 30 "$limit" "$script" "$workload" "$seconds" $r >"$log.out" 2>"$log.err" &
  side_pid=$!
  wait "$side_pid" || rc=$?
  side_pid=""
  end=$(date +%s.%N)
  if [ "$rc" -eq 124 ]; then
    echo "bench.sh: $side $workload did not finish within $limit s" >>"$log.err"
  fi
  local record=(record --side "$side" --workload "$workload" --round "$round" --exit "$rc"
                --wall "$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')" --stdout "$log.out")
  [ -z "$calib" ] || record+=(--calibration)
  "$python" "$report" "${record[@]}" >>"$runs" || rec_rc=$?
  if [ "$rc" -ne 0 ] || [ "$rec_rc" -ne 0 ]; then
    failures=$((failures + 1))
    echo "bench.sh: $side $workload round $round failed (exit $rc); the end of its stderr:" >&2
    tail -n 15 "$log.err" | sed 's/^/  | /' >&2
  fi
  # The line as the side printed it, for the person watching.
  head -c 300 "$log.out" | sed 's/^/  /' >&2
  echo >&2
}

latency_args=()  # for the report: the rate and how it was chosen
for workload in "${workloads[@]}"; do
  r=""
  if [ "$workload" = latency ]; then
    if [ -n "$rate" ]; then
      r=$rate
      latency_args=(--latency-rate "$r" --latency-rate-rule "$r req/s, given with --rate")
    else
      case " ${workloads[*]} " in
        *" keepalive "*) ;;
        *) run_side kbt keepalive 1 calibration
           run_side linux keepalive 1 calibration ;;
      esac
      if ! r=$("$python" "$report" rate --runs "$runs"); then
        echo "bench.sh: no keep-alive figure from both sides: the latency workload is skipped" >&2
        failures=$((failures + 1))
        continue
      fi
      latency_args=(--latency-rate "$r" --latency-rate-rule
        "$r req/s: half the smaller of the two sides' keep-alive medians in this invocation")
    fi
  fi
  for round in 1 2 3; do
    run_side kbt "$workload" "$round" "" "$r"
    run_side linux "$workload" "$round" "" "$r"
  done
done

echo >&2
"$python" "$report" report --runs "$runs" --machine "$tmp/machine.json" --out-dir "$results" \
  --seconds "$seconds" "${latency_args[@]}"
echo
echo "bench.sh: wrote $results/latest.json, $results/latest.md, $results/latest.png"
if [ "$failures" -gt 0 ]; then
  echo "bench.sh: $failures run(s) failed or had errors (see the table)" >&2
  exit 1
fi
