#!/usr/bin/env bash
# Installs what is missing, builds the optimised and the ASan+UBSan builds, and
# runs every test in both; then runs each libFuzzer target for
# KBT_FUZZ_SECONDS (default 40; 0: none) in the clang fuzz build, and replays
# the fuzz corpora. Exits non-zero when anything fails.
# Usage: scripts/test.sh [meson test arguments, e.g. a suite: --suite unit]
#        (with arguments, only those meson tests: no fuzzing)
set -uo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
  -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac

scripts/deps.sh || { echo "test.sh: installing dependencies failed" >&2; exit 1; }
scripts/build.sh all || { echo "test.sh: build failed" >&2; exit 1; }
echo "== built in ${SECONDS}s"

# ASan: DPDK keeps EAL-lifetime allocations until exit, so leak checking is
# left to the tests that count mempool objects themselves.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

total_pass=0
total_fail=0
for dir in build build-asan; do
  echo "== tests in $dir (at ${SECONDS}s)"
  meson test -C "$dir" --print-errorlogs --no-rebuild "$@"
  log="$dir/meson-logs/testlog.json"
  if [ -f "$log" ]; then
    # One JSON object per line per test; anything but OK (a skip too) fails.
    ran=$(grep -c '"result"' "$log" || true)
    pass=$(grep -c '"result": "OK"' "$log" || true)
    fail=$((ran - pass))
    total_pass=$((total_pass + pass))
    total_fail=$((total_fail + fail))
  else
    total_fail=$((total_fail + 1))
  fi
done

fuzz_seconds=${KBT_FUZZ_SECONDS:-40}
if [ $# -eq 0 ] && [ "$fuzz_seconds" -gt 0 ]; then
  echo "== fuzzing, ${fuzz_seconds}s a target (at ${SECONDS}s)"
  if scripts/fuzz.sh "$fuzz_seconds"; then
    total_pass=$((total_pass + 1))
  else
    total_fail=$((total_fail + 1))
  fi
  echo "== fuzz corpora and regressions replayed in build-fuzz"
  if meson test -C build-fuzz --print-errorlogs --no-rebuild --suite fuzz; then
    total_pass=$((total_pass + 1))
  else
    total_fail=$((total_fail + 1))
  fi
fi

echo "$total_pass passed, $total_fail failed in ${SECONDS}s"
[ "$total_fail" -eq 0 ]
