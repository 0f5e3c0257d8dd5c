#!/usr/bin/env bash
# The kbt side of one benchmark workload: two kbt processes, the server on
# lcore 0 and the client on lcore 1, joined by DPDK's net_memif (shared
# memory, no hugepages; see bench/KBT_LINK.md). Starts both, runs the
# workload, stops both and prints ONE JSON line on stdout; everything else
# goes to stderr.
# Usage: bench/kbt_side.sh WORKLOAD SECONDS [RATE]
#   cps         kbt-load --close, 100 connections, 64-byte body: conn/s
#   keepalive   kbt-load, 100 keep-alive connections, 64-byte body: req/s
#   bulk        kbt-echo --connect --mode source -> kbt-echo --mode discard,
#               one connection, --mtu 9000 (KBT_SIDE_MTU), --tcp-buffer
#               1 MB (KBT_SIDE_TCP_BUFFER): Gbit/s
#   latency     kbt-load --rate RATE (open loop, default 10000), 100
#               connections: p99 in us (p50 in detail)
#   syncookies  kbt-flood (--rate RATE, default 0: as fast as it can) ->
#               kbt-httpd --syncookies always: cookie SYN-ACKs sent/s
# value comes from the client's own counters over the whole run (completed
# requests only); peer_value from the server's (for syncookies value is the
# server's cookies/s and peer_value the flood's SYNs/s). Exit 0 when the
# run was clean; 3 after printing the line if requests failed (errors > 0);
# 1 with a message (and no line) when the run itself failed.
# Environment: KBT_BUILD (build directory, default build/), KBT_SIDE_CONNECTIONS
# (kbt-load's connections, default 100), KBT_SIDE_PERF=FILE (perf record -g
# the server into FILE), KBT_SIDE_KEEP_LOGS=1 (print both logs' tails).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

die() { echo "kbt_side.sh: $*" >&2; exit 1; }

# shellcheck source=bench/side_args.sh
source "$here/bench/side_args.sh"
side_args kbt_side.sh 23 "$@"
[ "$(id -u)" -eq 0 ] || die "needs root (DPDK's /var/run/dpdk, perf)"

build=${KBT_BUILD:-$here/build}
for app in kbt-httpd kbt-load kbt-echo kbt-flood; do
  [ -x "$build/apps/$app" ] || die "$build/apps/$app is missing: run scripts/build.sh (or set KBT_BUILD)"
done

# ---- the link: memif, server role on the server's side, an abstract socket
# (nothing on disk) named after this run.
id="kbtbench-$$"
srv_prefix="$id-srv"
cli_prefix="$id-cli"
memif="net_memif0,id=0,socket=/$id.sock,socket-abstract=yes,zero-copy=no"
# --no-huge: no hugepages needed; no --no-shconf: memif needs the EAL's
# multi-process channel (rte_mp_action_register fails without it).
eal_common="--no-huge -m 512 --no-pci"
srv_ip=198.18.0.2
cli_ip=198.18.0.3
# Jumbo frames for bulk; the other workloads' packets are small, so they
# keep the default 1500. A jumbo frame must fit one memif buffer (bsize):
# this DPDK (22.11) garbles frames it chains over several on receive
# (bench/README.md).
mtu=1500
[ "$workload" = bulk ] && mtu=${KBT_SIDE_MTU:-9000}
[ "$mtu" -gt 1500 ] && memif="$memif,bsize=10240"
# Bulk's TCP buffers: with the default 256 KB the sender waits on the window
# (flight = the peer's window); 1 MB gave 25-30 against 21-23 Gbit/s, 4 MB
# no more than 256 KB (the queue moves into the memif ring). Linux tunes its
# own up to tcp_rmem's 6 MB.
bulk_buffer=${KBT_SIDE_TCP_BUFFER:-1048576}
bulk_flags="--mtu $mtu --tcp-buffer $bulk_buffer"
# Both sides copy (zero-copy=no). The client's transmit may be zero-copy
# (memif lets only the client share its buffers; with --no-huge that needs
# --single-file-segments): it gave bulk 16-19 against 12-13 Gbit/s, but with
# --tcp-buffer 4 MB it crashed inside librte_net_memif's transmit after
# garbling frames, so the benchmark does not use it (bench/README.md).
link="net_memif shared memory (role=server on the server, client on the client, zero-copy=no), MTU $mtu, --no-huge, server lcore 0, client lcore 1"

tmp=$(mktemp -d /tmp/kbt_side.XXXXXX)
srv_pid=""
cli_pid=""
# shellcheck source=scripts/lib/stop_process.sh
. "$here/scripts/lib/stop_process.sh"
stop_pid() { stop_process "$1" INT 10; }  # the apps print their final stats on SIGINT
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  local rc=$?
  stop_pid "$cli_pid"
  stop_pid "$srv_pid"
  rm -rf "/var/run/dpdk/$srv_prefix" "/var/run/dpdk/$cli_prefix"
  if [ "$rc" -ne 0 ] || [ -n "${KBT_SIDE_KEEP_LOGS:-}" ]; then
    for f in "$tmp"/*.log; do
      [ -f "$f" ] || continue
      echo "---- $(basename "$f") (last 20 lines)" >&2
      tail -n 20 "$f" >&2
    done
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
trap 'echo "kbt_side.sh: unexpected failure at line $LINENO" >&2' ERR

# ---- the commands of this workload
srv_eal="-l 0 $eal_common --file-prefix $srv_prefix --vdev=$memif,role=server"
cli_eal="-l 1 $eal_common --file-prefix $cli_prefix --vdev=$memif,role=client"
conns=${KBT_SIDE_CONNECTIONS:-100}
[[ "$conns" =~ ^[1-9][0-9]{0,4}$ ]] || die "KBT_SIDE_CONNECTIONS must be 1-99999, not '$conns'"
load_common="--url http://$srv_ip/ --duration $secs --start-delay 1 --json --connections $conns"
# TCBs per side: --close keeps closing connections beside the open ones.
max_conns=$(( conns * 2 > 1024 ? conns * 2 : 1024 ))
load_common+=" --max-conns $max_conns"
httpd="$build/apps/kbt-httpd $srv_eal -- --max-conns $max_conns --stats-interval 1"
load="$build/apps/kbt-load $cli_eal -- --ip $cli_ip/24 $load_common"
case "$workload" in
  cps|keepalive|latency)
    srv_cmd="$httpd --ip $srv_ip/24 --body-size 64"
    case "$workload" in
      cps) cli_cmd="$load --close" ;;
      keepalive) cli_cmd="$load" ;;
      latency) rate=${rate:-10000}; cli_cmd="$load --rate $rate" ;;
    esac ;;
  bulk)
    srv_cmd="$build/apps/kbt-echo $srv_eal -- --ip $srv_ip/24 --mode discard --no-hash --port 9 --stats-interval 1 $bulk_flags"
    cli_cmd="$build/apps/kbt-echo $cli_eal -- --ip $cli_ip/24 --connect $srv_ip:9 --mode source --duration $secs $bulk_flags" ;;
  syncookies)
    rate=${rate:-0}
    # Spoofed sources in 198.18.0.128/25, off the server's /25, so its
    # SYN-ACKs go to the gateway: the flood's own port, which drops them
    # (not its address). Everything stays in 198.18.0.0/24.
    srv_cmd="$httpd --ip $srv_ip/25 --gateway $cli_ip --syncookies always"
    cli_cmd="$build/apps/kbt-flood $cli_eal -- --ip $cli_ip/25 --target $srv_ip:80 --rate $rate --duration $secs --sources 198.18.0.128/25" ;;
esac
if [ -n "${KBT_SIDE_PERF:-}" ]; then
  srv_cmd="perf record -g -o ${KBT_SIDE_PERF} -- $srv_cmd"
fi

# ---- run: the server, its start-up line, then the client, bounded in time
echo "kbt_side.sh: $workload for $secs s over $link" >&2
echo "kbt_side.sh: server: $srv_cmd" >&2
# shellcheck disable=SC2086  # the commands are word lists on purpose
$srv_cmd >"$tmp/server.log" 2>&1 &
srv_pid=$!
for _ in $(seq 150); do
  grep -q ': port .*net_memif' "$tmp/server.log" && break
  kill -0 "$srv_pid" 2>/dev/null || die "the server exited during start-up"
  sleep 0.1
done
grep -q ': port .*net_memif' "$tmp/server.log" || die "the server did not start within 15 s"

# Noise gauges for the reader: the load average, and how often the
# scheduler took each polling thread off its core during the run (a busy
# poller that is preempted stalls the link for a time slice).
loadavg=$(cut -d' ' -f1-3 /proc/loadavg)
preempted() {  # pid -> involuntary context switches of its main thread
  awk '/^nonvoluntary_ctxt_switches/ {print $2}' "/proc/$1/status" 2>/dev/null || true
}
srv_app=$srv_pid
if [ -n "${KBT_SIDE_PERF:-}" ]; then srv_app=$(pgrep -P "$srv_pid" | head -n 1 || true); fi
srv_pre0=$(preempted "$srv_app")

echo "kbt_side.sh: client: $cli_cmd" >&2
limit=$(awk -v s="$secs" 'BEGIN{printf "%d", s + 40}')
# shellcheck disable=SC2086
timeout -s INT -k 10 "$limit" $cli_cmd >"$tmp/client.log" 2>&1 &
cli_pid=$!
cli_app="" cli_pre0="" cli_pre1=""
while kill -0 "$cli_pid" 2>/dev/null; do
  [ -n "$cli_app" ] || cli_app=$(pgrep -P "$cli_pid" | head -n 1 || true)
  if [ -n "$cli_app" ]; then
    n=$(preempted "$cli_app")
    [ -n "$n" ] && { cli_pre1=$n; [ -n "$cli_pre0" ] || cli_pre0=$n; }
  fi
  sleep 0.2
done
cli_rc=0
wait "$cli_pid" || cli_rc=$?
cli_pid=""
[ "$cli_rc" -eq 124 ] && die "the client did not finish within $limit s"
srv_pre1=$(preempted "$srv_app")
preempt_srv=$(( ${srv_pre1:-0} - ${srv_pre0:-0} ))
preempt_cli=$(( ${cli_pre1:-0} - ${cli_pre0:-0} ))
# kbt-echo's server prints its line when the connection has closed on its side too.
if [ "$workload" = bulk ]; then
  for _ in $(seq 50); do grep -q '^kbt-echo: discard' "$tmp/server.log" && break; sleep 0.1; done
fi
# The server's last stats line comes when it stops.
stop_pid "$srv_pid"
srv_pid=""
grep -q 'when=final' "$tmp/server.log" || die "the server printed no final stats line"

# ---- the one JSON line, from both sides' own output
report_rc=0
/usr/bin/python3 - "$workload" "$secs" "${rate:-}" "$cli_rc" "$link" "$srv_cmd" "$cli_cmd" \
  "$tmp/server.log" "$tmp/client.log" "$loadavg" "$preempt_srv" "$preempt_cli" "$mtu" <<'EOF' || report_rc=$?
import json, re, sys

(workload, secs, rate, cli_rc, link, srv_cmd, cli_cmd, srv_log, cli_log, loadavg, pre_srv,
 pre_cli, mtu) = sys.argv[1:]
cli_rc = int(cli_rc)
srv_text = open(srv_log).read()
cli_text = open(cli_log).read()

def fail(msg):
    print('kbt_side.sh: ' + msg, file=sys.stderr)
    sys.exit(1)

def kv(line):
    return {k: v for k, v in re.findall(r'(\S+?)=(\S+)', line)}

final = [l for l in srv_text.splitlines() if l.startswith('kbt stats:') and 'when=final' in l]
srv_stats = {k: int(v) for k, v in kv(final[-1]).items() if v.isdigit()}
out = {'side': 'kbt', 'workload': workload, 'value': None, 'unit': None, 'peer_value': None,
       'errors': 0, 'link': link, 'commands': [srv_cmd, cli_cmd], 'detail': {}}
d = out['detail']

if workload in ('cps', 'keepalive', 'latency'):
    js = [l for l in cli_text.splitlines() if l.startswith('{')]
    if not js:
        fail('kbt-load printed no result (exit %d)' % cli_rc)
    r = json.loads(js[-1])
    t = r['duration_s']
    out['errors'] = r['errors']['total'] + r['non2xx']
    d.update(requests=r['requests'], seconds=t, client_connects=r['connects'],
             connections=r['connections'], in_flight_at_end=r['in_flight_at_end'],
             latency_us=r['latency_us'], server_stats=srv_stats)
    if r['requests'] == 0 or t <= 0:
        fail('no request completed')
    if workload == 'cps':
        out['value'], out['unit'] = round(r['requests'] / t, 1), 'conn/s'
        # Every completed request had its own connection; the server's count
        # of connections it accepted over the client's measured time.
        accepted = srv_stats.get('tcp_passive_opens', 0)
        out['peer_value'] = round(accepted / t, 1)
        d.update(peer_counter='tcp_passive_opens', server_accepted=accepted)
    else:
        # A 64-byte response is one data segment: the server's data segments
        # sent (less retransmissions) are its responses.
        sent = srv_stats.get('tcp_data_segs_out', 0) - srv_stats.get('tcp_retransmits', 0)
        d.update(peer_counter='tcp_data_segs_out - tcp_retransmits', server_responses=sent)
        if workload == 'keepalive':
            out['value'], out['unit'] = round(r['requests'] / t, 1), 'req/s'
            out['peer_value'] = round(sent / t, 1)
        else:
            out['value'], out['unit'] = r['latency_us']['p99'], 'us (p99)'
            out['peer_value'] = round(sent / t, 1)  # the rate the server served, req/s
            d.update(rate=float(rate), achieved_rps=r['requests_per_s'],
                     p50=r['latency_us']['p50'], p99=r['latency_us']['p99'])
elif workload == 'bulk':
    pat = r'kbt-echo: %s\S* \S+ bytes=(\d+) seconds=([\d.]+) gbit_s=([\d.]+) reason=(\w+)'
    c = re.search(pat % 'client source', cli_text)
    s = re.search(pat % 'discard', srv_text)
    if not c:
        fail('kbt-echo (client) printed no summary (exit %d)' % cli_rc)
    if not s:
        fail('kbt-echo (server) printed no summary for the connection')
    out['value'], out['unit'] = float(c.group(3)), 'Gbit/s'
    out['peer_value'] = float(s.group(3))
    out['errors'] = 0 if c.group(4) == 'normal' and s.group(4) == 'normal' else 1
    # Full segments: the MSS (MTU - 40) less the 12-byte timestamps option.
    d.update(mtu=int(mtu), mss=int(mtu) - 52, client_bytes_acked=int(c.group(1)),
             client_seconds=float(c.group(2)), server_bytes_received=int(s.group(1)),
             server_seconds=float(s.group(2)), server_stats=srv_stats)
elif workload == 'syncookies':
    m = re.search(r'kbt-flood: sent (\d+) SYNs .* in ([\d.]+) s \((\d+)/s\), refused by the port (\d+)',
                  cli_text)
    if not m:
        fail('kbt-flood printed no summary (exit %d)' % cli_rc)
    sent, t = int(m.group(1)), float(m.group(2))
    if t <= 0:
        fail('the flood did not run')
    cookies = srv_stats.get('tcp_syncookies_sent', 0)
    # Answered: the cookie SYN-ACKs the port took (a full link drops some).
    answered = max(0, cookies - srv_stats.get('drop.tx_ring_full', 0))
    out['value'], out['unit'] = round(answered / t, 1), 'SYN-ACK/s'
    out['peer_value'] = round(sent / t, 1)
    d.update(value_counter='tcp_syncookies_sent - drop.tx_ring_full', server_answered=answered,
             peer_counter='kbt-flood SYNs sent/s', flood_rate=float(rate or 0), flood_syns=sent,
             flood_seconds=t, flood_refused_by_port=int(m.group(4)), server_cookies_sent=cookies,
             server_rx_pkts=srv_stats.get('rx_pkts', 0), server_tx_pkts=srv_stats.get('tx_pkts', 0),
             server_stats=srv_stats)

d['noise'] = {'loadavg_at_start': loadavg, 'server_preempted': int(pre_srv),
              'client_preempted': int(pre_cli)}
if cli_rc != 0 and out['errors'] == 0:
    fail('the client exited with %d' % cli_rc)
print(json.dumps(out, separators=(',', ':')))
sys.exit(3 if out['errors'] else 0)
EOF
[ "$report_rc" -ne 3 ] || echo "kbt_side.sh: some requests failed (errors in the line); value counts completed ones only" >&2
exit "$report_rc"
