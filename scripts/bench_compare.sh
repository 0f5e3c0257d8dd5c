#!/usr/bin/env bash
# Compares the kbt side of the end-to-end benchmarks between two commits,
# side by side on this machine: is the new one within the run-to-run spread
# of the old? Each commit is built (release, apps only) in its own git
# worktree under build-compare/, and each runs with its own
# bench/kbt_side.sh. Per workload the commits alternate (old, new, old,
# new, ...) so that drift of the machine falls on both. The worktrees and
# builds stay for the next comparison (rm -rf build-compare; git worktree
# prune).
# Usage: scripts/bench_compare.sh [--runs N] [--seconds S] [--only LIST]
#                                 [--rate R] [--json FILE] OLD [NEW]
#   OLD, NEW     git revisions; without NEW, the work tree as built in build/
#   --runs N     runs of each commit per workload (default 10)
#   --seconds S  length of each run (default 5)
#   --only LIST  some of cps,keepalive,bulk,syncookies,latency (default: all)
#   --rate R     the latency workload's open-loop rate (default 20000 req/s)
#   --json FILE  every run and the summary, as JSON (default:
#                build-compare/compare.json)
# Prints per workload both medians, each commit's spread ((max - min) /
# median) and the change: the median over rounds of new / old, each round's
# pair run back to back, so that a shift of the machine between rounds
# (this VM's keep-alive figure fell from 1.1M to 0.75M req/s halfway
# through one comparison, for both) cancels out. Exits 0 when no workload
# of NEW is more than 5 % worse by that change (for latency, a p99 more than
# 5 % higher), 1 when one is or a run failed, 2 on bad flags. Needs root, as
# bench/kbt_side.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
bad() { echo "bench_compare.sh: $*" >&2; echo "bench_compare.sh: see --help" >&2; exit 2; }

all_workloads=(cps keepalive bulk syncookies latency)
runs=10 seconds=5 only="" rate=20000 json=build-compare/compare.json
revs=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --runs|--seconds|--only|--rate|--json)
      [ $# -ge 2 ] || bad "$1 needs a value"
      case "$1" in
        --runs) runs=$2 ;; --seconds) seconds=$2 ;; --only) only=$2 ;;
        --rate) rate=$2 ;; --json) json=$2 ;;
      esac
      shift 2 ;;
    -*) bad "unknown flag '$1'" ;;
    *) revs+=("$1"); shift ;;
  esac
done
[ ${#revs[@]} -ge 1 ] && [ ${#revs[@]} -le 2 ] || bad "give OLD, and NEW or nothing for the work tree"
[[ "$runs" =~ ^[0-9]+$ ]] && [ "$runs" -ge 1 ] && [ "$runs" -le 100 ] ||
  bad "--runs must be a whole number from 1 to 100, not '$runs'"
[[ "$seconds" =~ ^[0-9]+$ ]] && [ "$seconds" -ge 1 ] && [ "$seconds" -le 600 ] ||
  bad "--seconds must be a whole number from 1 to 600, not '$seconds'"
[[ "$rate" =~ ^[0-9]+$ ]] && [ "$rate" -ge 1 ] || bad "--rate must be a whole number of requests/s"
workloads=("${all_workloads[@]}")
if [ -n "$only" ]; then
  IFS=, read -r -a workloads <<<"$only"
  for w in "${workloads[@]}"; do
    case " ${all_workloads[*]} " in *" $w "*) ;; *) bad "unknown workload '$w' (${all_workloads[*]})" ;; esac
  done
fi
for rev in "${revs[@]}"; do
  git rev-parse --verify --quiet "$rev^{commit}" >/dev/null || bad "'$rev' is not a commit here"
done
[ "$(id -u)" -eq 0 ] || { echo "bench_compare.sh: needs root (DPDK, as bench/kbt_side.sh)" >&2; exit 1; }

apps=(apps/kbt-httpd apps/kbt-load apps/kbt-echo apps/kbt-flood)
# A revision's tree and build: build-compare/<sha>/{src,build}.
prepare() {  # rev -> prints "SIDE_SCRIPT BUILD_DIR LABEL"
  local rev=$1 sha dir
  sha=$(git rev-parse --verify --quiet "$rev^{commit}") || bad "'$rev' is not a commit here"
  dir=build-compare/${sha:0:12}
  if [ ! -d "$dir/src" ]; then
    git worktree add --detach "$dir/src" "$sha" >/dev/null 2>&1 ||
      { echo "bench_compare.sh: git worktree add $dir/src $sha failed" >&2; exit 1; }
  fi
  if [ ! -f "$dir/build/build.ninja" ]; then
    meson setup "$dir/build" "$dir/src" -Dbuildtype=release -Dsanitizers=false -Dbench=false \
      -Dtests=false >/dev/null || { echo "bench_compare.sh: meson setup of $rev failed" >&2; exit 1; }
  fi
  echo "bench_compare.sh: building $rev (${sha:0:12}) in $dir/build" >&2
  ninja -C "$dir/build" "${apps[@]}" >/dev/null ||
    { echo "bench_compare.sh: building $rev failed (ninja -C $dir/build)" >&2; exit 1; }
  echo "$here/$dir/src/bench/kbt_side.sh $here/$dir/build ${sha:0:12}"
}
read -r old_side old_build old_label < <(prepare "${revs[0]}")
[ -n "${old_label:-}" ] || exit 1
if [ ${#revs[@]} -eq 2 ]; then
  read -r new_side new_build new_label < <(prepare "${revs[1]}")
  [ -n "${new_label:-}" ] || exit 1
else
  echo "bench_compare.sh: building the work tree in build/" >&2
  [ -f build/build.ninja ] || scripts/build.sh release >/dev/null
  ninja -C build "${apps[@]}" >/dev/null || { echo "bench_compare.sh: building build/ failed" >&2; exit 1; }
  new_side=$here/bench/kbt_side.sh new_build=$here/build
  new_label="work tree ($(git rev-parse --short=12 HEAD)$(git diff --quiet HEAD || echo ', modified'))"
fi

tmp=$(mktemp -d /tmp/kbt-compare.XXXXXX)
side_pid=""
# shellcheck source=scripts/lib/stop_process.sh
. scripts/lib/stop_process.sh
cleanup() {
  stop_process "$side_pid" TERM 30
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
lines=$tmp/runs.jsonl
: >"$lines"
failures=0
limit=$((seconds + 120))

run_one() {  # which (old|new), workload, round
  local which=$1 w=$2 round=$3 side build rc=0 r=""
  if [ "$which" = old ]; then side=$old_side build=$old_build; else side=$new_side build=$new_build; fi
  [ "$w" = latency ] && r=$rate
  # shellcheck disable=SC2086  # $r is empty or one number
  KBT_BUILD=$build timeout -k 30 "$limit" "$side" "$w" "$seconds" $r >"$tmp/out" 2>"$tmp/err" &
  side_pid=$!
  wait "$side_pid" || rc=$?
  side_pid=""
  local value
  value=$(/usr/bin/python3 -c 'import json,sys; print(json.loads(sys.stdin.read().splitlines()[-1])["value"])' \
    <"$tmp/out" 2>/dev/null) || value=""
  if [ "$rc" -ne 0 ] || [ -z "$value" ] || [ "$value" = None ]; then
    failures=$((failures + 1))
    echo "bench_compare.sh: $w $which run $round failed (exit $rc); what the side said:" >&2
    { grep '^kbt_side.sh:' "$tmp/err" | tail -n 5; grep -iE 'error|fault|abort' "$tmp/err" |
      grep -v '^kbt stats' | tail -n 5; } | sed 's/^/  | /' >&2
    value=null
  fi
  printf '{"workload":"%s","commit":"%s","round":%d,"exit":%d,"value":%s}\n' \
    "$w" "$which" "$round" "$rc" "$value" >>"$lines"
  echo "bench_compare.sh: $w round $round $which: $value" >&2
}

for w in "${workloads[@]}"; do
  for round in $(seq "$runs"); do
    run_one old "$w" "$round"
    run_one new "$w" "$round"
  done
done

mkdir -p "$(dirname "$json")"
verdict=0
/usr/bin/python3 - "$lines" "$json" "$old_label" "$new_label" "$seconds" "$runs" "$rate" <<'EOF' || verdict=$?
import json, statistics, sys

lines, out, old_label, new_label, seconds, runs, rate = sys.argv[1:]
recs = [json.loads(l) for l in open(lines)]
order = []
for r in recs:
    if r['workload'] not in order:
        order.append(r['workload'])
lower_is_better = {'latency'}
summary, worse = {}, []
print('old: %s\nnew: %s\n%s runs of %s s each, alternating\n' % (old_label, new_label, runs, seconds))
print('| workload | old median | new median | change (paired) | old spread | new spread | verdict |')
print('|---|---|---|---|---|---|---|')
for w in order:
    row = {}
    for c in ('old', 'new'):
        v = [r['value'] for r in recs if r['workload'] == w and r['commit'] == c and r['value'] is not None]
        med = statistics.median(v) if v else None
        row[c] = {'values': v, 'median': med,
                  'spread': (max(v) - min(v)) / med if v and med else None}
    o, n = row['old']['median'], row['new']['median']
    pairs = {}
    for r in recs:
        if r['workload'] == w and r['value'] is not None:
            pairs.setdefault(r['round'], {})[r['commit']] = r['value']
    ratios = [p['new'] / p['old'] for p in pairs.values() if p.get('old') and 'new' in p]
    row['paired_ratios'] = ratios
    if not ratios:
        change, verdict = None, 'no figure'
        worse.append(w)
    else:
        change = statistics.median(ratios) - 1
        loss = change if w in lower_is_better else -change
        verdict = 'more than 5 % worse' if loss > 0.05 else 'within 5 %'
        if loss > 0.05:
            worse.append(w)
    row['change'] = change
    row['verdict'] = verdict
    summary[w] = row
    pct = lambda x: '-' if x is None else '%+.1f %%' % (100 * x)
    sp = lambda x: '-' if x is None else '%.1f %%' % (100 * x)
    fig = lambda x: '-' if x is None else '%g' % x
    print('| %s | %s | %s | %s | %s | %s | %s |' % (w, fig(o), fig(n), pct(change),
          sp(row['old']['spread']), sp(row['new']['spread']), verdict))
json.dump({'old': old_label, 'new': new_label, 'seconds': int(seconds), 'runs': int(runs),
           'latency_rate': int(rate), 'summary': summary, 'runs_detail': recs},
          open(out, 'w'), indent=1)
print('\nbench_compare.sh: wrote %s' % out)
sys.exit(1 if worse else 0)
EOF
if [ "$failures" -gt 0 ]; then
  echo "bench_compare.sh: $failures run(s) failed" >&2
  exit 1
fi
exit "$verdict"
