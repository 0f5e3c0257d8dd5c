#!/usr/bin/env bash
# Runs the simulator soak (tests/sim/soak_test.cc) over a range of seeds,
# 1..10000 by default, split over parallel jobs. Prints each job's summary,
# the replay lines of failing seeds and one total; exits non-zero when any
# seed failed or a job crashed.
# Usage: scripts/soak.sh [--seeds FIRST:COUNT] [--jobs N] [--build DIR]
#   --seeds FIRST:COUNT  the seeds to run (default 1:10000)
#   --jobs N             processes, each a contiguous slice (default: nproc)
#   --build DIR          a meson build holding tests/sim/kbt-sim (default
#                        build; when its kbt-sim is missing, `build` is made
#                        with scripts/build.sh release)
# Logs go to $KBT_SOAK_OUT (default DIR/soak-out/<date-time>), one per job.
# Replay one seed: DIR/tests/sim/kbt-sim --gtest_filter=Soak.* --seed=N
set -uo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; }
first=1 count=10000 jobs=$(nproc) build=build extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --seeds) [ $# -ge 2 ] || { usage >&2; exit 2; }; range=$2; shift 2
      first=${range%%:*} count=${range#*:}
      [ "$range" != "$first" ] || { echo "soak.sh: --seeds wants FIRST:COUNT" >&2; exit 2; } ;;
    --jobs) [ $# -ge 2 ] || { usage >&2; exit 2; }; jobs=$2; shift 2 ;;
    --build) [ $# -ge 2 ] || { usage >&2; exit 2; }; build=$2; shift 2 ;;
    *) echo "soak.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
for v in "$first" "$count" "$jobs"; do
  case "$v" in ''|*[!0-9]*|0) echo "soak.sh: '$v' is not a positive integer" >&2; exit 2 ;; esac
done

sim=$build/tests/sim/kbt-sim
if [ ! -x "$sim" ]; then
  if [ "$build" != build ]; then
    echo "soak.sh: $sim not found (ninja -C $build tests/sim/kbt-sim)" >&2
    exit 1
  fi
  echo "soak.sh: $sim missing, building it (scripts/build.sh release)"
  scripts/build.sh release >/dev/null || { echo "soak.sh: build failed" >&2; exit 1; }
fi

out=${KBT_SOAK_OUT:-$build/soak-out/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
[ "$jobs" -le "$count" ] || jobs=$count
# Same as test.sh: DPDK keeps EAL-lifetime allocations, so leaks are
# counted by the soak itself (mempools), not by LeakSanitizer.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

echo "soak.sh: seeds $first..$((first + count - 1)) in $jobs jobs with $sim; logs in $out"
start=$(date +%s)
pids=()
for ((j = 0; j < jobs; j++)); do
  lo=$((first + count * j / jobs))
  hi=$((first + count * (j + 1) / jobs))
  # Each job its own EAL: --no-shconf in kbt-sim keeps them apart.
  "$sim" --gtest_brief=1 --gtest_filter='Soak.*' --soak-seeds="$lo:$((hi - lo))" \
    "${extra[@]}" >"$out/job$j.log" 2>&1 &
  pids+=($!)
done
crashed=0
for ((j = 0; j < jobs; j++)); do
  wait "${pids[$j]}"
  rc=$?
  summary=$(grep '^soak summary:' "$out/job$j.log" | tail -1)
  if [ -z "$summary" ]; then
    crashed=$((crashed + 1))
    echo "job $j: exit $rc and no summary: crashed? tail of $out/job$j.log:"
    tail -20 "$out/job$j.log" | sed 's/^/  /'
  else
    echo "job $j: exit $rc ${summary#soak summary: }"
  fi
done

sum() { grep -h '^soak summary:' "$out"/job*.log | grep -o " $1=[0-9]*" | cut -d= -f2 |
        awk '{s += $1} END {printf "%.0f\n", s}'; }
seeds=$(sum seeds) failed=$(sum failed)
echo "soak.sh: $seeds seeds run of $count, $failed failed, $crashed jobs crashed," \
  "$(sum connections) connections, $(sum bytes) bytes, lost=$(sum lost)" \
  "duplicated=$(sum duplicated) reordered=$(sum reordered) corrupted=$(sum corrupted)" \
  "queue_dropped=$(sum queue_dropped), $(( $(date +%s) - start )) s"
if [ "$failed" -gt 0 ] || [ "$crashed" -gt 0 ] || [ "$seeds" -lt "$count" ]; then
  # gtest's failure message and the loop both print a seed's replay line.
  grep -h '^replay:' "$out"/job*.log | sort -u -t= -k3n
  echo "soak.sh: FAILED"
  exit 1
fi
echo "soak.sh: all passed"
