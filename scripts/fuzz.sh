#!/usr/bin/env bash
# Runs the libFuzzer targets (tests/fuzz/) for SECONDS each, from the seed
# corpus, in a clang build of their own (ASan + UBSan + coverage), set up
# on first use. Prints one line per target (runs, exec/s, coverage,
# crashes) and exits non-zero when any target crashed or broke an invariant.
# Usage: scripts/fuzz.sh SECONDS [TARGET...]     (default: every target)
#   KBT_FUZZ_BUILD  build dir (default build-fuzz)
#   KBT_FUZZ_OUT    where corpora, logs and crash inputs go (default
#                   $KBT_FUZZ_BUILD/fuzz-out/<date-time>); crash inputs land
#                   in $KBT_FUZZ_OUT/<target>/crashes/
#   KBT_FUZZ_JOBS   targets run at once (default: the number of CPUs)
# The seed corpus is copied, so runs never grow tests/fuzz/corpus/.
# Replay a crash: $KBT_FUZZ_BUILD/tests/fuzz/<target> <crash file>
set -uo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; }
case "${1:-}" in
  -h|--help) usage; exit 0 ;;
  ''|*[!0-9]*) usage >&2; exit 2 ;;
esac
seconds=$1
shift

all_targets=(fuzz_wire_frame fuzz_wire_tcp_options fuzz_syn_cookie
             fuzz_tcp_listen_cookies_always fuzz_tcp_listen_cookies_never
             fuzz_tcp_established)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
  case " ${all_targets[*]} " in
    *" $t "*) ;;
    *) echo "fuzz.sh: unknown target '$t' (one of: ${all_targets[*]})" >&2; exit 2 ;;
  esac
done

build=${KBT_FUZZ_BUILD:-build-fuzz}
out=${KBT_FUZZ_OUT:-$build/fuzz-out/$(date +%Y%m%d-%H%M%S)}
jobs=${KBT_FUZZ_JOBS:-$(nproc)}

command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ not found (apt-get install clang-14 libclang-rt-14-dev)" >&2; exit 1; }
if [ ! -f "$build/build.ninja" ]; then
  # fuzzer-no-link must reach the whole lib for coverage, so it goes in
  # cpp_args; sanitizers=true adds ASan + UBSan everywhere.
  CXX=clang++ meson setup "$build" -Dfuzz=true -Dtests=true -Dbench=false \
    -Dsanitizers=true -Dbuildtype=debugoptimized -Dcpp_args=-fsanitize=fuzzer-no-link \
    >/dev/null || { echo "fuzz.sh: meson setup $build failed" >&2; exit 1; }
fi
ninja -C "$build" $(printf 'tests/fuzz/%s ' "${targets[@]}") >/dev/null ||
  { echo "fuzz.sh: building the fuzz targets failed (ninja -C $build tests/fuzz/...)" >&2; exit 1; }

# DPDK keeps EAL-lifetime allocations until exit: leaks are checked per
# input by libFuzzer, not at exit. UBSan findings stop the run like crashes.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:strict_string_checks=1:leak_check_at_exit=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

run_one() {  # target
  local t=$1 dir="$out/$1"
  mkdir -p "$dir/corpus" "$dir/crashes"
  cp -r tests/fuzz/corpus/"$t"/. "$dir/corpus/" 2>/dev/null || true
  # -timeout: one input taking 20 s is a hang; -rss_limit_mb: EAL memory
  # (128 MB) plus ASan's shadow and quarantine stay well below it.
  "$build/tests/fuzz/$t" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 \
    -print_final_stats=1 -artifact_prefix="$dir/crashes/" "$dir/corpus" >"$dir/log" 2>&1
  echo $? >"$dir/rc"
}

echo "fuzz.sh: ${#targets[@]} targets, ${seconds}s each, $jobs at a time; output in $out"
mkdir -p "$out"
running=0
for t in "${targets[@]}"; do
  if [ "$running" -ge "$jobs" ]; then
    wait -n
    running=$((running - 1))
  fi
  run_one "$t" &
  running=$((running + 1))
done
wait

failed=0
for t in "${targets[@]}"; do
  dir="$out/$t"
  rc=$(cat "$dir/rc" 2>/dev/null || echo 1)
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$dir/log" | tail -1 | grep -o '[0-9]*$')
  speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$dir/log" | tail -1 | grep -o '[0-9]*$')
  cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$dir/log" | tail -1)
  corpus=$(find "$dir/corpus" -type f | wc -l)
  crashes=$(find "$dir/crashes" -type f | wc -l)
  status=ok
  if [ "$rc" != 0 ] || [ "$crashes" -gt 0 ]; then
    status=FAILED
    failed=1
  fi
  printf '%-32s %-6s runs %s (%s/s), %s, corpus %s, crashes %s\n' "$t" "$status" \
    "${runs:-?}" "${speed:-?}" "${cov:-cov: ?}" "$corpus" "$crashes"
  if [ "$status" = FAILED ]; then
    grep -m1 -E 'INVARIANT BROKEN|ERROR: (AddressSanitizer|libFuzzer|LeakSanitizer)|runtime error' -A2 "$dir/log" | sed 's/^/    /'
    echo "    log: $dir/log; inputs: $dir/crashes/"
  fi
done
exit "$failed"
