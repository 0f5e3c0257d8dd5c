#!/usr/bin/python3
"""kbt-load against three real servers on the Linux side of the test's
namespace (198.18.0.1:8080), its counts checked against each server's own
access log:
- test_chunked_python: a python3 http.server that sends every body with
  Transfer-Encoding: chunked in random chunk sizes (seeded), some 404s, and
  logs each request with the body bytes it sent;
- test_nginx_access_log: nginx with access_log '$status $body_bytes_sent';
- test_lighttpd_access_log: lighttpd -D with mod_accesslog.
- test_nginx_pipeline_8: --pipeline 8 against nginx, whose $pipe shows the
  requests it found pipelined; test_chunked_python_pipeline_4 the same
  with chunked bodies.
Every run's per-status counts (`statuses`) equal the log's too.
kbt-load runs open loop at a low rate, so that it ends with (almost) nothing
in flight; a request still in flight at the end is logged by the server but
not counted by kbt-load (as wrk), and kbt-load reports how many there were:
the server's lines equal kbt-load's requests plus those, exactly. The run's
end RSTs are dropped on the server's side (iptables in the namespace), so
that the server reads and logs every request that reached it.

Run by hand: sudo /usr/bin/python3 tests/interop/test_load_servers.py
"""

import collections
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True
import kbtnet  # noqa: E402
from test_load import BODY, PORT, START_DELAY, json_result, load_cmd, read  # noqa: E402

BASE = f'http://{kbtnet.KERNEL_IP}:{PORT}'

# The chunked server: bodies of 0-3000 bytes in chunks of 1-700 bytes, with
# an extension on some chunks and a trailer on some responses. /missing is
# a chunked 404. Each request is one log line: method status body-bytes.
PY_SERVER = r'''
import http.server, random, signal, socketserver, sys, threading
log = open(sys.argv[1], 'w', buffering=1)
rng = random.Random(15)
rng_lock = threading.Lock()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    # A keep-alive connection whose client has gone ends its handler, so
    # that the server can wait for every handler at SIGTERM.
    timeout = 3
    def log_message(self, *a):
        pass
    def do_POST(self):
        self.do_GET()
    def do_GET(self):
        body = self.rfile.read(int(self.headers.get('Content-Length', '0')))
        status = 404 if self.path.startswith('/missing') else 200
        self.send_response(status)
        self.send_header('Transfer-Encoding', 'chunked')
        self.end_headers()
        with rng_lock:
            total = rng.randint(0, 3000)
            sizes = []
            left = total
            while left > 0:
                n = min(left, rng.randint(1, 700))
                sizes.append((n, ';ext=1' if rng.random() < 0.2 else ''))
                left -= n
            trailer = rng.random() < 0.3
        out = [b'%x%s\r\n' % (n, ext.encode()) + b'x' * n + b'\r\n' for n, ext in sizes]
        out.append(b'0\r\nX-Trailer: t\r\n\r\n' if trailer else b'0\r\n\r\n')
        # One write: the chunks straddle the segments' boundaries anyway.
        self.wfile.write(b''.join(out))
        self.wfile.flush()
        # One line a request answered, with what the request carried: one
        # write, so that a line is never half there.
        log.write(f'{self.command} {self.path} {status} {total} {self.client_address[1]} '
                  f'{self.headers.get("Host")} {self.headers.get("X-Kbt")} {len(body)}\n')
class Server(http.server.ThreadingHTTPServer):
    # Joined at server_close: a request being answered at SIGTERM is logged.
    daemon_threads = False
    block_on_close = True
srv = Server(('@IP@', @PORT@), H)
def stop(*_):
    threading.Thread(target=srv.shutdown).start()
signal.signal(signal.SIGTERM, stop)
srv.serve_forever()
srv.server_close()
'''

NGINX_CONF = '''daemon off;
master_process off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 1024; }}
http {{
  log_format counts '$request_method $request_uri $status $body_bytes_sent $remote_port $connection $msec $pipe';
  # A long keep-alive: nginx's default closes after 1000 requests.
  keepalive_requests 1000000;
  access_log {tmp}/access.log counts;
  client_body_temp_path {tmp}/body;
  proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi;
  scgi_temp_path {tmp}/scgi;
  server {{
    listen {ip}:{port};
    location / {{ root {tmp}/www; }}
  }}
}}
'''

LIGHTTPD_CONF = '''server.document-root = "{tmp}/www"
server.bind = "{ip}"
server.port = {port}
server.modules = ("mod_accesslog")
server.errorlog = "{tmp}/error.log"
accesslog.filename = "{tmp}/access.log"
accesslog.format = "%m %U%q %s %b %{{remote}}p"
'''


def python_server_argv(tmp):
    """The chunked python server, written into tmp, and its argv."""
    script = os.path.join(tmp, 'chunked_server.py')
    with open(script, 'w') as f:
        f.write(PY_SERVER.replace('@IP@', kbtnet.KERNEL_IP).replace('@PORT@', str(PORT)))
    return ['/usr/bin/python3', script, os.path.join(tmp, 'access.log')]


@contextlib.contextmanager
def server(net, tmp, argv, probe_url):
    """Runs argv in the namespace until the body is done; SIGTERM, so that
    the server flushes its log, then SIGKILL if it is still there."""
    os.makedirs(os.path.join(tmp, 'www'), exist_ok=True)
    with open(os.path.join(tmp, 'www', 'index.html'), 'wb') as f:
        f.write(BODY)
    out = open(os.path.join(tmp, 'server.out'), 'wb')
    p = subprocess.Popen(['ip', 'netns', 'exec', net.ns, *argv], stdin=subprocess.DEVNULL,
                         stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        def answers():
            if p.poll() is not None:
                raise kbtnet.HarnessError(f'{argv[0]} exited with {p.returncode}: '
                                          f'{read(tmp, "server.out")}{read(tmp, "error.log")}')
            r = net.run('curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '1',
                        probe_url, timeout=5)
            return r.returncode == 0 and r.stdout == '200'
        kbtnet.wait_for(answers, 10, interval=0.05, what=f'{argv[0]} to answer')
        yield p
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)  # the group we started, by its id
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
        p.wait(timeout=10)
        out.close()


PROBE = '/index.html?probe'
# --pipeline 8 over 2 connections: faster than one request at a time gets
# answered, so requests queue on each connection.
PIPELINE_RATE = 20000


def nginx_argv(tmp):
    """nginx's configuration, written into tmp, and its argv."""
    conf = os.path.join(tmp, 'nginx.conf')
    with open(conf, 'w') as f:
        f.write(NGINX_CONF.format(tmp=tmp, ip=kbtnet.KERNEL_IP, port=PORT))
    return ['/usr/sbin/nginx', '-c', conf, '-p', tmp]


def log_lines(tmp):
    """The access log as (method, status, bytes, client port), less the
    readiness probes (lighttpd's %q has no '?')."""
    rows = []
    for line in read(tmp, 'access.log').splitlines():
        method, path, status, size, port = line.split()[:5]
        if 'probe' not in path:
            rows.append((method, int(status), 0 if size == '-' else int(size), port))
    return rows


def settle_log(tmp, quiet=0.3, timeout=3.0):
    """Waits (bounded) until the server's access log stops growing."""
    deadline = time.monotonic() + timeout
    size, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        now = len(read(tmp, 'access.log'))
        if now != size:
            size, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
        time.sleep(0.05)


def tail_cuts(conns, n, depth):
    """Every set of n log lines made of the last k (k <= depth) lines of
    some connections: the requests a run can leave in flight."""
    if n == 0:
        yield frozenset()
        return
    for j, lines in enumerate(conns):
        for k in range(1, min(depth, len(lines), n) + 1):
            for rest in tail_cuts(conns[j + 1:], n - k, depth):
                yield frozenset(lines[-k:]) | rest


class LoadAgainstServers(unittest.TestCase):
    def run_against(self, name, argv_of, path, *flags, rate=300, duration=3):
        """The server's kernel drops kbt-load's RSTs, so that the requests
        still unread in its socket at the end of the run (with --pipeline,
        several a connection; without, one when the server lags the rate,
        as the python server does on a loaded machine: 519 logged of 516 + 4
        in flight) are read and logged, not thrown away with the connection:
        the log then has every request kbt-load sent."""
        if '--connections' not in flags:
            flags = ('--connections', '4', *flags)
        cmd = load_cmd('--url', BASE + path, '--duration', str(duration), '--json',
                       '--rate', str(rate), *flags)
        with tempfile.TemporaryDirectory(prefix=f'kbt-load-{name}-') as tmp:
            with kbtnet.KbtNet(cmd) as net:
                net.run_checked('iptables', '-w', '5', '-A', 'INPUT', '-p', 'tcp',
                                '--tcp-flags', 'RST', 'RST', '-s', kbtnet.STACK_IP, '-j', 'DROP')
                with server(net, tmp, argv_of(tmp), BASE + PROBE):
                    net.proc.wait(timeout=START_DELAY + duration + 30)
                    settle_log(tmp)
            rows = log_lines(tmp)
            self.raw_log = [line.split() for line in read(tmp, 'access.log').splitlines()
                            if 'probe' not in line]
        self.assertFalse(net.killed, 'kbt-load needed SIGKILL')
        r = json_result(net.stdout)
        statuses = collections.Counter(row[1] for row in rows)
        print(f'\n{name}: kbt-load requests={r["requests"]} ok={r["ok"]} non2xx={r["non2xx"]} '
              f'body_bytes={r["body_bytes"]} errors={r["errors"]} '
              f'in_flight={r["in_flight_at_end"]}; server log lines={len(rows)} '
              f'statuses={dict(statuses)} bytes={sum(row[2] for row in rows)}', file=sys.stderr)
        return r, rows, net

    def check_counts(self, r, rows, body_of_counted, method='GET'):
        in_flight = r['in_flight_at_end']['requests']
        self.assertEqual(r['errors']['total'], 0, r)
        self.assertGreater(r['requests'], 0, r)
        # Every request the server logged was counted, but those cut off at the end.
        self.assertEqual(len(rows), r['requests'] + in_flight, r)
        # The requests in flight at the end are the last ones of their
        # connections (with --pipeline, up to N of one): some choice of
        # `in_flight` connections' last lines must leave exactly kbt-load's
        # figures.
        by_conn = collections.defaultdict(list)
        for i, row in enumerate(rows):
            by_conn[row[3]].append(i)
        matches = []
        want = (r['ok'], r['non2xx'], r['body_bytes'], r['statuses'])
        for cut in tail_cuts(list(by_conn.values()), in_flight, r['pipeline']):
            counted = [row for i, row in enumerate(rows) if i not in cut]
            ok = sum(1 for row in counted if 200 <= row[1] < 400)
            statuses = dict(collections.Counter(str(row[1]) for row in counted))
            figures = (ok, len(counted) - ok, sum(body_of_counted(row) for row in counted),
                       statuses)
            matches.append(figures)
            if figures == want:
                break
        else:
            self.fail(f'no {in_flight} in-flight request(s) leave kbt-load\'s ok, non2xx, '
                      f'body_bytes, statuses {want}: {matches[:8]}')
        self.assertTrue(all(row[0] == method for row in rows), rows[:5])

    def check_histogram(self, text, r):
        """--histogram: HdrHistogram's percentile distribution of the counted requests."""
        lines = text.splitlines()
        self.assertEqual(lines[0].split(), ['Value', 'Percentile', 'TotalCount', '1/(1-Percentile)'])
        rows = [line.split() for line in lines[2:] if line and not line.startswith('#')]
        values = [float(row[0]) for row in rows]
        percentiles = [float(row[1]) for row in rows]
        counts = [int(row[2]) for row in rows]
        self.assertEqual(percentiles[0], 0.0, text)
        self.assertEqual(percentiles[-1], 1.0, text)
        self.assertEqual(counts[-1], r['requests'], text)
        self.assertEqual(values, sorted(values), text)
        self.assertEqual(counts, sorted(counts), text)
        self.assertAlmostEqual(values[-1], r['latency_us']['max'] / 1000, delta=0.002)
        footer = ' '.join(line for line in lines if line.startswith('#['))
        self.assertRegex(footer, r'#\[Mean +=.*StdDeviation += +[0-9.]+\]')
        self.assertRegex(footer, rf'#\[Max += +[0-9.]+, Total count += +{r["requests"]}\]')
        print(f'histogram: {len(rows)} lines, last {rows[-1]}', file=sys.stderr)

    def test_chunked_python(self):
        r, rows, net = self.run_against('chunked-python', python_server_argv, '/index.html')
        self.check_counts(r, rows, lambda row: row[2])
        # kbt-load exits 0 only when nothing failed.
        self.assertEqual(net.returncode, 0, net.describe())

    def test_chunked_python_pipeline_4(self):
        """--pipeline 4 at a rate above what the python server answers one at
        a time: chunked responses back to back on each connection are each
        read whole, and counted as its log has them."""
        r, rows, net = self.run_against('chunked-python-pipeline', python_server_argv,
                                        '/index.html', '--pipeline', '4', rate=2000)
        self.check_counts(r, rows, lambda row: row[2])
        self.assertEqual(net.returncode, 0, net.describe())

    def test_chunked_python_404(self):
        r, rows, net = self.run_against('chunked-python-404', python_server_argv, '/missing',
                                        rate=200)
        self.check_counts(r, rows, lambda row: row[2])
        self.assertEqual(r['ok'], 0, r)
        self.assertEqual(r['statuses'], {'404': r['requests']}, r)
        self.assertEqual(net.returncode, 1, net.describe())  # non-2xx fail the run

    def test_flags_reach_python(self):
        """--method, -H (a Host of its own among them) and --body-file, as the
        server saw them."""
        body_file = tempfile.NamedTemporaryFile(prefix='kbt-load-body-', delete=False)
        body_file.write(os.urandom(1234))
        body_file.close()
        try:
            r, rows, net = self.run_against('flags', python_server_argv, '/index.html',
                                            '--method', 'POST',
                                            '-H', 'X-Kbt: flags', '-H', 'host: example.test',
                                            '--body-file', body_file.name, rate=200)
        finally:
            os.unlink(body_file.name)
        self.assertEqual(net.returncode, 0, net.describe())
        # Host, X-Kbt and the body's length of every request the server answered.
        seen = collections.Counter(' '.join(line[5:8]) for line in self.raw_log)
        self.assertEqual(set(seen), {'example.test flags 1234'}, seen)
        self.assertTrue(all(row[0] == 'POST' for row in rows), rows[:5])
        self.assertEqual(len(rows), r['requests'] + r['in_flight_at_end']['requests'], r)

    def test_nginx_access_log(self):
        hist = tempfile.NamedTemporaryFile(prefix='kbt-load-hist-', delete=False)
        hist.close()
        try:
            r, rows, net = self.run_against('nginx', nginx_argv, '/index.html',
                                            '--histogram', hist.name)
            with open(hist.name) as f:
                text = f.read()
        finally:
            os.unlink(hist.name)
        self.check_histogram(text, r)
        # $body_bytes_sent of a request cut off at the end may be short: the
        # counted ones are whole.
        self.check_counts(r, rows, lambda row: row[2])
        self.assertEqual(r['body_bytes'], r['requests'] * len(BODY), r)
        self.assertEqual(r['statuses'], {'200': r['requests']}, r)
        self.assertEqual(net.returncode, 0, net.describe())

    def test_nginx_pipeline_8(self):
        """--pipeline 8: each connection has up to 8 requests outstanding, so
        nginx finds requests already read behind the one it answers ($pipe
        "p"); its log equals kbt-load's requests plus those in flight (the
        end-of-run RSTs kept from nginx matter most here: with 8 outstanding
        a connection, 14 of 16 were still unread in nginx's socket when the
        RST came, and died unlogged)."""
        r, rows, net = self.run_against('nginx-pipeline', nginx_argv, '/index.html',
                                        '--pipeline', '8', '--connections', '2',
                                        rate=PIPELINE_RATE)
        self.assertEqual(net.returncode, 0, net.describe())
        self.assertEqual(r['pipeline'], 8, r)
        pipelined = sum(1 for row in self.raw_log if row[7] == 'p')
        print(f'nginx-pipeline: {pipelined} of {len(rows)} requests pipelined', file=sys.stderr)
        # How many nginx finds already buffered depends on the two sides'
        # speeds (the ASan build: 1,287 of ~60,000; release: 6,661 of
        # 11,235); with --pipeline 1 it finds none.
        self.assertGreater(pipelined, 0, self.raw_log[:20])
        self.check_counts(r, rows, lambda row: row[2])
        self.assertEqual(r['statuses'], {'200': r['requests']}, r)

    def test_connect_rate_ramp(self):
        """--connect-rate 10 with 20 connections: nginx sees their first
        requests over about 2 s, not at once."""
        r, rows, net = self.run_against('connect-rate', nginx_argv, '/index.html',
                                        '--connections', '20', '--connect-rate', '10', rate=200)
        self.assertEqual(net.returncode, 0, net.describe())
        self.assertEqual(r['connects'], 20, r)
        first = {}
        for row in self.raw_log:
            first.setdefault(row[5], float(row[6]))  # $connection -> its first $msec
        self.assertEqual(len(first), 20, first)
        starts = sorted(first.values())
        spread = starts[-1] - starts[0]
        print(f'connect-rate: 20 connections\' first requests over {spread:.3f}s', file=sys.stderr)
        # 19 gaps of 100 ms at least (all at once would be a few ms); an
        # upper bound would measure the machine's load: that all 20
        # connected within the 3 s run is checked above.
        self.assertGreater(spread, 1.7, starts)
        self.check_counts(r, rows, lambda row: row[2])

    def test_lighttpd_access_log(self):
        def argv(tmp):
            conf = os.path.join(tmp, 'lighttpd.conf')
            with open(conf, 'w') as f:
                f.write(LIGHTTPD_CONF.format(tmp=tmp, ip=kbtnet.KERNEL_IP, port=PORT))
            return ['/usr/sbin/lighttpd', '-D', '-f', conf]
        r, rows, net = self.run_against('lighttpd', argv, '/index.html')
        self.check_counts(r, rows, lambda row: row[2])
        self.assertEqual(r['body_bytes'], r['requests'] * len(BODY), r)
        self.assertEqual(net.returncode, 0, net.describe())


if __name__ == '__main__':
    unittest.main(verbosity=2)
