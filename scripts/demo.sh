#!/usr/bin/env bash
# The main job on its embedded default: kbt-httpd on a TAP device inside a
# throw-away network namespace, exercised from the Linux side of that
# namespace, with the stack's counters printed at the end. Installs what is
# missing and builds first. Everything it starts is removed when it exits,
# also on Ctrl-C or failure. Traffic never leaves the namespace.
# Shows ping, curl, a 10-second wrk run and the connections per TCP state.
# Usage: scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
  "") ;;
  -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "demo.sh: takes no arguments (see --help)" >&2; exit 2 ;;
esac
[ "$(id -u)" -eq 0 ] || { echo "demo.sh: needs root (network namespaces, TAP)" >&2; exit 1; }

scripts/deps.sh
scripts/build.sh release >/dev/null

ns="kbt-demo-$$"
log=$(mktemp /tmp/kbt-demo.XXXXXX)
wrk_out=$(mktemp /tmp/kbt-demo-wrk.XXXXXX)
app_pid=""
# shellcheck source=scripts/lib/stop_process.sh
. scripts/lib/stop_process.sh
cleanup() {
  stop_process "$app_pid" TERM 5
  ip netns del "$ns" 2>/dev/null || true
  # The EAL's runtime directory for our --file-prefix (the app has exited).
  rm -rf "/var/run/dpdk/$ns"
  rm -f "$log" "$wrk_out"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$ns"
ip -n "$ns" link set lo up
echo "== starting kbt-httpd in namespace $ns (the embedded default: net_tap on one core, no hugepages)"
# The embedded default plus a file prefix of our own, so the telemetry
# socket (/var/run/dpdk/$ns/) is this run's.
ip netns exec "$ns" build/apps/kbt-httpd --no-huge -m 512 --no-shconf --no-pci -l 0 \
  --file-prefix "$ns" --vdev=net_tap0,iface=kbt0 --log-level=pmd.net.tap:critical \
  -- --ip 198.18.0.2/24 --stats-interval 0 >"$log" 2>&1 &
app_pid=$!

# The TAP appears during EAL start-up, before the port is started; frames the
# kernel sends before that are lost. The start-up line comes after the start.
for _ in $(seq 150); do
  grep -q '^kbt-httpd: port' "$log" && break
  kill -0 "$app_pid" 2>/dev/null || { cat "$log"; echo "demo.sh: kbt-httpd exited early" >&2; exit 1; }
  sleep 0.1
done
grep -q '^kbt-httpd: port' "$log" || { cat "$log"; echo "demo.sh: kbt-httpd not ready after 15 s" >&2; exit 1; }
ip netns exec "$ns" sysctl -qw net.ipv6.conf.kbt0.disable_ipv6=1
ip -n "$ns" addr add 198.18.0.1/24 dev kbt0
# net_tap gives the kernel side the port's own MAC; a distinct one is clearer.
ip -n "$ns" link set kbt0 address 02:00:00:00:00:01
ip -n "$ns" link set kbt0 up

echo "== ping -c 3 198.18.0.2 (from the Linux side of the namespace)"
ip netns exec "$ns" ping -c 3 -i 0.2 -W 2 198.18.0.2
echo "== curl http://198.18.0.2/"
ip netns exec "$ns" curl -sS --max-time 10 -i http://198.18.0.2/
echo
echo "== wrk -t2 -c50 -d10s http://198.18.0.2/ (keep-alive)"
ip netns exec "$ns" wrk -t2 -c50 -d10s --latency http://198.18.0.2/ >"$wrk_out" 2>&1 &
wrk_pid=$!
sleep 5
echo "== connections per TCP state while wrk runs (DPDK telemetry /kbt/tcp/states)"
echo /kbt/tcp/states | /usr/bin/python3 /usr/bin/dpdk-telemetry.py -f "$ns"
wait "$wrk_pid" || { cat "$wrk_out"; echo "demo.sh: wrk failed" >&2; exit 1; }
cat "$wrk_out"

kill -TERM "$app_pid"
wait "$app_pid" || true
app_pid=""
echo "== kbt-httpd output"
cat "$log"
