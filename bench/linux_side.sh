#!/usr/bin/env bash
# The Linux side of one benchmark workload (scripts/bench.sh runs it beside
# bench/kbt_side.sh): the kernel's own TCP in a throw-away network namespace,
# server work pinned to core 0 and the client to core 1 with taskset. Prints
# ONE JSON line on stdout; everything else goes to stderr.
# Usage: bench/linux_side.sh WORKLOAD SECONDS [RATE]
#   cps         nginx (1 worker) <- wrk -t1 -c100 -H "Connection: close",
#               64-byte body, namespace loopback: conn/s
#   keepalive   the same pair, 100 keep-alive connections: req/s
#   bulk        iperf3 server <- iperf3 client, one stream, namespace
#               loopback (MTU 65536): Gbit/s
#   latency     nginx <- build/bench/linux-http-open-loop at RATE req/s
#               (default 10000; open loop, kbt-load's model), 100
#               keep-alive connections: p99 in us (p50_us, p99_us in detail)
#   syncookies  build/apps/kbt-flood (TAP, core 1, --rate RATE, default 0:
#               as fast as it can) -> a kernel listener with
#               net.ipv4.tcp_syncookies=2, its TAP's receive work steered to
#               core 0 (RPS): SYN-ACK/s from TcpExt SyncookiesSent
# value comes from the client's own count over the whole run (good requests
# only), peer_value from the server's (nginx stub_status, iperf3 -s -J; for
# syncookies the flood's SYNs/s). Exit 0 when the run was clean; 3 after
# printing the line if requests failed (errors > 0) or the latency rate was
# not sustained; 1 with a message (and no line) when the run itself failed.
# Environment: KBT_BUILD (build directory, default build/), KBT_SIDE_KEEP_LOGS=1.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

die() { echo "linux_side.sh: $*" >&2; exit 1; }

# shellcheck source=bench/side_args.sh
source "$here/bench/side_args.sh"
side_args linux_side.sh 24 "$@"
[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, TAP, sysctl)"
build=${KBT_BUILD:-$here/build}
python=/usr/bin/python3

# Everything but the one JSON line goes to stderr: fd 3 is the real stdout.
exec 3>&1 1>&2

tmp=$(mktemp -d /tmp/linux_side.XXXXXX)
ns="kbt-bench-linux-$$"
pids=()       # what this script started, stopped by id in cleanup
commands=()   # the commands of the measurement, as run, for the JSON line
# shellcheck source=scripts/lib/stop_process.sh
. "$here/scripts/lib/stop_process.sh"
stop_pid() { stop_process "$1" TERM 5; }
cleanup() {
  local rc=$?
  for pid in "${pids[@]}"; do stop_pid "$pid"; done
  if ip netns list | grep -qx "$ns\( .*\)\?"; then
    # Anything still in the namespace is ours (it did not exist before).
    for pid in $(ip netns pids "$ns"); do kill -KILL "$pid" 2>/dev/null || true; done
    for _ in $(seq 20); do [ -z "$(ip netns pids "$ns")" ] && break; sleep 0.1; done
    ip netns del "$ns" || true
  fi
  rm -rf "/var/run/dpdk/$ns"
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

# (Not for background processes: `ip netns exec ... &` directly, so that $!
# is the process itself, not a subshell.)
in_ns() { ip netns exec "$ns" "$@"; }
note() {  # records a command as the JSON line reports it
  local q
  q=$(printf '%q ' "$@")
  commands+=("${q% }")
}
wait_until() {  # seconds, what, command...: polls every 0.1 s
  local limit=$1 what=$2; shift 2
  for _ in $(seq $((limit * 10))); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  die "$what: not within $limit s"
}
bounded() {  # seconds, command...: under timeout, in the background so our traps run at once
  local limit=$1; shift
  timeout -k 5 "$limit" "$@" &
  pids+=("$!")
  wait "$!"
}
wait_exit() {  # pid, seconds, what: the process ends by itself, or the run fails
  local pid=$1 limit=$2 what=$3
  for _ in $(seq $((limit * 10))); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid"; return $?; }
    sleep 0.1
  done
  die "$what did not finish within $limit s"
}

ip netns add "$ns"
ip -n "$ns" link set lo up
# A wider ephemeral range for wrk's connections, in this namespace only.
in_ns sysctl -qw net.ipv4.ip_local_port_range="1024 65535"

# ---- nginx: one worker, its own configuration, pid and logs, a 64-byte
# body (kbt-httpd's letter pattern) on :8080, stub_status on :8081.
# kbt-httpd's body pattern: letters a-z repeated, a newline every 64th byte.
letters=abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk  # 63, then \n
start_nginx() {
  mkdir -p "$tmp/nginx"
  cat >"$tmp/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
master_process on;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx.log warn;
worker_rlimit_nofile 70000;
events { worker_connections 65000; }
http {
  access_log off;
  server_tokens off;
  keepalive_requests 1000000000;
  keepalive_timeout 75s;
  client_body_temp_path $tmp/nginx/body;
  server {
    listen 127.0.0.1:8080 backlog=4096;
    location = / { default_type text/plain; return 200 "$letters\n"; }
  }
  server {
    listen 127.0.0.1:8081;
    location = /status { stub_status; }
  }
}
EOF
  note ip netns exec "$ns" taskset -c 0 nginx -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx.log"
  ip netns exec "$ns" taskset -c 0 nginx -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx.log" &
  pids+=("$!")
  wait_until 10 "nginx answering" nginx_status
  local size
  size=$(in_ns curl -sS --max-time 5 -o /dev/null -w '%{size_download}' http://127.0.0.1:8080/)
  [ "$size" = 64 ] || die "nginx's body is $size bytes, not 64"
}
# stub_status: "accepts handled requests" as three numbers (this request included).
nginx_status() {
  in_ns curl -sS --max-time 5 http://127.0.0.1:8081/status 2>/dev/null \
    | awk 'NR == 3 { print $1, $2, $3; found = 1 } END { exit !found }'
}

# ---- wrk, closed loop, with a Lua done() that prints its summary as JSON
run_wrk() {  # connections, extra wrk arguments...
  local conns=$1; shift
  cat >"$tmp/report.lua" <<'EOF'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'wrk-json {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,' ..
    '"write":%d,"status":%d,"timeout":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(99), latency.max))
end
EOF
  local before after
  before=$(nginx_status) || die "nginx's stub_status did not answer"
  note ip netns exec "$ns" taskset -c 1 wrk -t1 -c"$conns" -d"${secs}s" --timeout 5s "$@" \
    -s report.lua http://127.0.0.1:8080/
  bounded $((secs + 30)) ip netns exec "$ns" taskset -c 1 wrk -t1 -c"$conns" -d"${secs}s" \
    --timeout 5s "$@" -s "$tmp/report.lua" http://127.0.0.1:8080/ >"$tmp/wrk.log" 2>&1 \
    || die "wrk failed (exit $?)"
  after=$(nginx_status) || die "nginx's stub_status did not answer"
  cat "$tmp/wrk.log" >&2
  grep -q '^wrk-json ' "$tmp/wrk.log" || die "wrk printed no summary"
  echo "$before" >"$tmp/nginx_before"
  echo "$after" >"$tmp/nginx_after"
}

case "$workload" in
  cps|keepalive)
    start_nginx
    if [ "$workload" = cps ]; then
      run_wrk 100 -H "Connection: close"
    else
      run_wrk 100
    fi
    link="Linux loopback in a network namespace (MTU 65536); nginx $(nginx -v 2>&1 | sed 's/.*nginx\///') 1 worker on core 0, wrk 1 thread on core 1"
    ;;
  latency)
    rate=${rate:-10000}
    client=$build/bench/linux-http-open-loop
    [ -x "$client" ] || die "$client is missing: run scripts/build.sh (meson option bench)"
    start_nginx
    nginx_status >"$tmp/nginx_before" || die "nginx's stub_status did not answer"
    note ip netns exec "$ns" taskset -c 1 "$client" --addr 127.0.0.1:8080 --rate "$rate" \
      --duration "$secs" --connections 100
    bounded $((secs + 30)) ip netns exec "$ns" taskset -c 1 "$client" --addr 127.0.0.1:8080 \
      --rate "$rate" --duration "$secs" --connections 100 >"$tmp/client.json" 2>"$tmp/client.log" \
      || die "linux-http-open-loop failed (exit $?)"
    nginx_status >"$tmp/nginx_after" || die "nginx's stub_status did not answer"
    cat "$tmp/client.json" >&2
    link="Linux loopback in a network namespace (MTU 65536); nginx 1 worker on core 0, linux-http-open-loop (busy-polling epoll) on core 1"
    ;;
  bulk)
    note ip netns exec "$ns" taskset -c 0 iperf3 -s -1 -J -B 127.0.0.1 -p 5201
    ip netns exec "$ns" taskset -c 0 iperf3 -s -1 -J -B 127.0.0.1 -p 5201 >"$tmp/server.json" 2>"$tmp/iperf3-server.log" &
    server_pid=$!
    pids+=("$server_pid")
    wait_until 10 "iperf3 -s listening" sh -c "ip netns exec $ns ss -Hltn 'sport = :5201' | grep -q ."
    note ip netns exec "$ns" taskset -c 1 iperf3 -c 127.0.0.1 -p 5201 -t "$secs" -P 1 -J
    bounded $((secs + 30)) ip netns exec "$ns" taskset -c 1 iperf3 -c 127.0.0.1 -p 5201 \
      -t "$secs" -P 1 -J >"$tmp/client.json" 2>"$tmp/iperf3-client.log" || die "iperf3 -c failed (exit $?)"
    wait_exit "$server_pid" 15 "iperf3 -s" || die "iperf3 -s failed"
    mtu=$(ip -n "$ns" -o link show lo | sed -n 's/.* mtu \([0-9]*\).*/\1/p')
    link="Linux loopback in a network namespace (MTU $mtu); iperf3 server on core 0, client on core 1"
    ;;
  syncookies)
    rate=${rate:-0}
    flood=$build/apps/kbt-flood
    [ -x "$flood" ] || die "$flood is missing: run scripts/build.sh"
    # The listener: the kernel at 198.18.0.1:80, cookies for every SYN. Its
    # SYN-ACKs to the spoofed sources go out of bh0 (a veth without ARP),
    # whose queue (pfifo, limit 0) drops and counts them. (A blackhole route
    # would fail the route lookup before the cookie is made; this kernel has
    # no dummy device.)
    in_ns sysctl -qw net.ipv4.tcp_syncookies=2
    in_ns sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
      net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip -n "$ns" link add bh0 type veth peer name bh1
    ip -n "$ns" link set bh0 arp off
    ip -n "$ns" link set bh1 up
    ip -n "$ns" link set bh0 up
    tc -n "$ns" qdisc replace dev bh0 root pfifo limit 0
    ip -n "$ns" route add 198.18.0.128/25 dev bh0
    note ip netns exec "$ns" sysctl -w net.ipv4.tcp_syncookies=2
    listener='import signal, socket; s = socket.socket(); s.bind(("0.0.0.0", 80)); s.listen(4096); signal.pause()'
    note ip netns exec "$ns" taskset -c 0 "$python" -c "$listener"
    ip netns exec "$ns" taskset -c 0 "$python" -c "$listener" &
    pids+=("$!")
    wait_until 10 "the listener" sh -c "ip netns exec $ns ss -Hltn 'sport = :80' | grep -q ."
    flood_cmd=("$flood" --no-huge -m 512 --no-shconf --no-pci -l 1 --file-prefix "$ns"
               '--vdev=net_tap0,iface=kbt1' --log-level=pmd.net.tap:critical --
               --ip 198.18.0.3/25 --target 198.18.0.1:80 --rate "$rate" --duration "$secs"
               --sources 198.18.0.128/25 --arp-timeout 10)
    note ip netns exec "$ns" taskset -c 1 "${flood_cmd[@]}"
    ip netns exec "$ns" taskset -c 1 "${flood_cmd[@]}" >"$tmp/flood.log" 2>&1 &
    flood_pid=$!
    pids+=("$flood_pid")
    # The TAP appears during EAL start-up; it is configured once the port has started.
    wait_until 15 "kbt-flood's start-up line" grep -q '^kbt-flood: port 0' "$tmp/flood.log"
    in_ns sysctl -qw net.ipv6.conf.kbt1.disable_ipv6=1 net.ipv4.conf.kbt1.rp_filter=0
    ip -n "$ns" link set kbt1 address 02:00:00:00:00:01
    ip -n "$ns" addr add 198.18.0.1/25 dev kbt1
    # The TAP's receive work runs in the writer's context (kbt-flood, core
    # 1) unless RPS moves it: to core 0, the kernel listener's core.
    in_ns sh -c 'echo 1 > /sys/class/net/kbt1/queues/rx-0/rps_cpus'
    note ip netns exec "$ns" sh -c "echo 1 > /sys/class/net/kbt1/queues/rx-0/rps_cpus"
    in_ns cat /proc/net/netstat >"$tmp/netstat_before"
    grep -E '^cpu[01] ' /proc/stat >"$tmp/cpu_before"
    ip -n "$ns" link set kbt1 up
    # The TAP goes with kbt-flood: its counters as last seen (every 0.5 s).
    echo '[{"stats64":{"rx":{"packets":0,"dropped":0}}}]' >"$tmp/tap.json"
    for _ in $(seq $(((secs + 40) * 2))); do
      kill -0 "$flood_pid" 2>/dev/null || break
      ip -n "$ns" -s -j link show kbt1 >"$tmp/tap.json.new" 2>/dev/null \
        && mv "$tmp/tap.json.new" "$tmp/tap.json"
      sleep 0.5
    done
    wait_exit "$flood_pid" 5 "kbt-flood" || die "kbt-flood failed"
    grep -E '^cpu[01] ' /proc/stat >"$tmp/cpu_after"
    in_ns cat /proc/net/netstat >"$tmp/netstat_after"
    tc -n "$ns" -s -j qdisc show dev bh0 >"$tmp/bh0.json"
    cat "$tmp/flood.log" >&2
    link="kbt-flood on net_tap (core 1) -> the kernel of a network namespace, the TAP's receive work on core 0 (RPS); SYN-ACKs dropped by the queue of the veth they leave by"
    ;;
esac

# ---- the one JSON line
"$python" - "$workload" "$secs" "${rate:-}" "$link" "$tmp" "${commands[@]}" >&3 <<'EOF'
import json, os, re, sys

workload, secs, rate, link, tmp = sys.argv[1:6]
commands = sys.argv[6:]
secs = float(secs)


def fail(msg):
    print('linux_side.sh: ' + msg, file=sys.stderr)
    sys.exit(1)


def read(name):
    with open(os.path.join(tmp, name)) as f:
        return f.read()


out = {'side': 'linux', 'workload': workload, 'value': None, 'unit': None, 'peer_value': None,
       'errors': 0, 'link': link, 'commands': commands, 'detail': {}}
d = out['detail']
ok = True

if workload in ('cps', 'keepalive', 'latency'):
    d['nginx_conf'] = read('nginx/nginx.conf')
    before = [int(x) for x in read('nginx_before').split()]
    after = [int(x) for x in read('nginx_after').split()]
    # stub_status counts the reading request itself (and its connection).
    accepts = after[0] - before[0] - 1
    served = after[2] - before[2] - 1
    d.update(server_accepted=accepts, server_requests=served,
             peer_counter='nginx stub_status (accepts for cps, requests otherwise)')

if workload in ('cps', 'keepalive'):
    line = [l for l in read('wrk.log').splitlines() if l.startswith('wrk-json ')][-1]
    w = json.loads(line[len('wrk-json '):])
    t = w['duration_us'] / 1e6
    socket_errors = w['connect'] + w['read'] + w['write'] + w['timeout']
    good = w['requests'] - w['status']  # wrk counts non-2xx/3xx responses among its requests
    if good <= 0 or t <= 0:
        fail('no request completed')
    out['errors'] = socket_errors + w['status']
    out['value'] = round(good / t, 1)
    out['unit'] = 'conn/s' if workload == 'cps' else 'req/s'
    out['peer_value'] = round((accepts if workload == 'cps' else served) / t, 1)
    d.update(requests=good, seconds=round(t, 3), connections=100, wrk=w,
             note='wrk is closed loop; value = completed 2xx responses / wrk\'s own duration')
elif workload == 'latency':
    r = json.loads(read('client.json'))
    t = r['duration_s']
    out['errors'] = r['errors']
    out['value'], out['unit'] = r['p99_us'], 'us (p99)'
    out['peer_value'] = round(served / t, 1)
    d.update(rate=float(rate), achieved_rps=r['achieved_rate'], requests=r['requests'],
             p50_us=r['p50_us'], p90_us=r['p90_us'], p99_us=r['p99_us'], p99_9_us=r['p99_9_us'],
             max_us=r['max_us'], connections=r['connections'], in_flight_at_end=r['in_flight_at_end'],
             max_behind_schedule_us=r['max_behind_schedule_us'], errors_by_kind=r['errors_by_kind'],
             note='open loop (kbt-load\'s model): each connection sends on a fixed schedule; latency '
                  'from the scheduled send time to the whole response, kbt-load\'s histogram')
    if r['achieved_rate'] < 0.95 * float(rate):
        print(f'linux_side.sh: the rate was not sustained: {r["achieved_rate"]} of {rate} req/s',
              file=sys.stderr)
        ok = False
elif workload == 'bulk':
    c = json.loads(read('client.json'))
    s = json.loads(read('server.json'))
    if 'error' in c:
        fail('iperf3 -c: ' + c['error'])
    sent = c['end']['sum_sent']
    got = s['end']['sum_received']
    out['value'], out['unit'] = round(sent['bytes'] * 8 / sent['seconds'] / 1e9, 3), 'Gbit/s'
    out['peer_value'] = round(got['bytes'] * 8 / got['seconds'] / 1e9, 3)
    mtu = int(re.search(r'MTU (\d+)', link).group(1))
    d.update(mtu=mtu, client_bytes=sent['bytes'], client_seconds=round(sent['seconds'], 3),
             server_bytes_received=got['bytes'], server_seconds=round(got['seconds'], 3),
             retransmits=sent.get('retransmits'), streams=1,
             peer_counter='iperf3 -s -J end.sum_received')
elif workload == 'syncookies':
    def tcpext(text):
        rows = [l.split() for l in text.splitlines() if l.startswith('TcpExt:')]
        return dict(zip(rows[0][1:], map(int, rows[1][1:])))

    def cpu(text):  # busy and total jiffies per core
        res = {}
        for l in text.splitlines():
            f = l.split()
            v = list(map(int, f[1:]))
            idle = v[3] + v[4]
            res[f[0]] = (sum(v[:8]) - idle, sum(v[:8]), v[6])
        return res

    flood = read('flood.log')
    m = re.search(r'kbt-flood: sent (\d+) SYNs .* in ([\d.]+) s \((\d+)/s\)', flood)
    if not m:
        fail('kbt-flood printed no summary')
    syns, t = int(m.group(1)), float(m.group(2))
    if t <= 0:
        fail('the flood did not run')
    b, a = tcpext(read('netstat_before')), tcpext(read('netstat_after'))
    delta = {k: a[k] - b.get(k, 0) for k in a if a[k] != b.get(k, 0)}
    cookies = delta.get('SyncookiesSent', 0)
    cb, ca = cpu(read('cpu_before')), cpu(read('cpu_after'))
    load = {}
    for core in ('cpu0', 'cpu1'):
        busy = ca[core][0] - cb[core][0]
        total = max(1, ca[core][1] - cb[core][1])
        load[core] = {'busy_pct': round(100 * busy / total, 1),
                      'softirq_pct': round(100 * (ca[core][2] - cb[core][2]) / total, 1)}
    tap = json.loads(read('tap.json'))[0]['stats64']
    bh0 = json.loads(read('bh0.json'))[0]
    kernel_busy = load['cpu0']['busy_pct']
    soft = load['cpu0']['softirq_pct']
    if kernel_busy >= 90:
        bound = (f'core 0, the kernel\'s receive core: {kernel_busy} % busy ({soft} % in softirq, '
                 'the rest other work on that core); its backlog dropped '
                 f'{tap["rx"]["dropped"]} of the SYNs')
    else:
        bound = ('the TAP feed: each SYN is one write(2) by kbt-flood on core 1, while core 0 '
                 f'(the kernel\'s receive core) was only {kernel_busy} % busy')
    out['value'], out['unit'] = round(cookies / t, 1), 'SYN-ACK/s'
    out['peer_value'] = round(syns / t, 1)
    d.update(peer_counter='kbt-flood SYNs sent/s', flood_rate=float(rate or 0), flood_syns=syns,
             flood_seconds=t, syncookies_sent=cookies, unanswered_syns=max(0, syns - cookies),
             synacks_out=bh0['packets'] + bh0['drops'], tap_rx_packets=tap['rx']['packets'],
             tap_rx_dropped=tap['rx']['dropped'], tap_counters='as last seen, up to 0.5 s before the end', tcpext_delta=delta, cpu=load, bounded_by=bound,
             note='counted from the namespace\'s TcpExt SyncookiesSent over the whole flood, '
                  'divided by the flood\'s own duration')
    if cookies == 0:
        fail('the kernel sent no SYN cookie')

print(json.dumps(out, separators=(',', ':')))
sys.exit(3 if out['errors'] or not ok else 0)
EOF
