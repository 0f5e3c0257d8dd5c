#!/usr/bin/python3
"""Real peers and misbehaving ones (issue 14), over kbt's default TAP set-up
in the test's own namespace (198.18.0.0/24):

- every write size from 1 to 2,000 bytes through kbt-echo's echo mode, each
  byte back exactly (chained segments with odd-length pieces once left the
  TAP with wrong checksums);
- 1,000 pipelined requests in one write to kbt-httpd, each answered;
- 50 clients that pipeline requests for a 1 MB body and never read: other
  clients are still served (ping, curl) while they stay, and once they go
  every mbuf is back in the pool;
- idle, keep-alive idle and slowloris clients closed at kbt-httpd's
  --header-timeout and --idle-timeout, a client that never reads reset at
  --send-timeout, and 1,000 idle clients against --max-conns 256 that keep
  a new client out no longer than the timeout.

Every test also fails if the namespace's kernel counted a bad checksum on
anything the stack sent (kbtnet's check_checksums).

Run by hand: sudo /usr/bin/python3 tests/interop/test_peers.py
"""

import json
import os
import signal
import subprocess
import sys
import time
import unittest

sys.dont_write_bytecode = True
import kbtnet  # noqa: E402
import test_httpd  # noqa: E402


def echo_cmd(*flags):
    exe = os.environ.get('KBT_ECHO', os.path.join(kbtnet.REPO, 'build', 'apps', 'kbt-echo'))
    return [exe, '--no-huge', '-m', '512', '--no-shconf', '--no-pci', '-l', '0',
            '--vdev=net_tap0,iface=kbt0', '--', '--ip', f'{kbtnet.STACK_IP}/24',
            '--stats-interval', '1', *flags]


# Writes argv[1]..argv[2] bytes, one write per size, with TCP_NODELAY and a
# pause now and then so that Linux does not merge them all; a thread reads
# the echo meanwhile. Byte p of the stream is p mod 251. Prints JSON.
SWEEP_CLIENT = r'''
import json, socket, sys, threading, time
first, last = int(sys.argv[1]), int(sys.argv[2])
sizes = range(first, last + 1)
total = sum(sizes)
pattern = bytes(range(251)) * ((last + 251) // 251 + 1)
s = socket.create_connection(('198.18.0.2', 7), timeout=10)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
s.settimeout(20)
got = bytearray()
def reader():
    try:
        while len(got) < total:
            d = s.recv(1 << 16)
            if not d:
                break
            got.extend(d)
    except OSError:
        pass
t = threading.Thread(target=reader)
t.start()
pos = 0
for n in sizes:
    s.sendall(pattern[pos % 251:pos % 251 + n])
    pos += n
    if n % 3 == 0:
        time.sleep(0.0003)
t.join(30)
bad = next((i for i in range(len(got)) if got[i] != i % 251), None)
print(json.dumps({'sent': total, 'received': len(got), 'first_wrong_byte': bad}))
'''


class WriteSizes(unittest.TestCase):
    def test_echo_of_every_write_size_from_1_to_2000_bytes_is_exact(self):
        with kbtnet.KbtNet(echo_cmd('--mode', 'echo'), ready=kbtnet.KBT_READY) as net:
            r = net.run(kbtnet.PYTHON, '-c', SWEEP_CLIENT, '1', '2000', timeout=90)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            out = json.loads(r.stdout)
            errors = net.read_kernel_errors()
        print(f'sweep 1..2000: sent {out["sent"]} received {out["received"]}, '
              f'kernel {errors}, stack {net.final_stats}')
        self.assertEqual(out['received'], out['sent'])
        self.assertIsNone(out['first_wrong_byte'])
        self.assertEqual(errors['TcpInCsumErrors'], 0, errors)
        self.assertEqual(net.final_stats.get('tcp_rto_expiries', 0), 0, net.final_stats)


class Pipelining(unittest.TestCase):
    def test_thousand_pipelined_requests_in_one_write_are_each_answered(self):
        request = b'GET / HTTP/1.1\r\nHost: kbt\r\n\r\n' * 1000
        with kbtnet.KbtNet(kbtnet.httpd_cmd('--body-size', '333'), ready=kbtnet.KBT_READY) as net:
            out = test_httpd.raw_exchange(net, request, 1000)
            errors = net.read_kernel_errors()
        body = test_httpd.pattern_body(333)
        print(f'1000 pipelined: {len(out["responses"])} responses, kernel {errors}')
        self.assertEqual(len(out['responses']), 1000)
        self.assertTrue(all(x['status'] == 200 and x['body'] == body for x in out['responses']))
        self.assertEqual(errors['TcpInCsumErrors'], 0, errors)


# Opens argv[1] connections with a 1 KB receive buffer, pipelines 3,000 GETs
# on each from a thread, never reads, and holds them until killed.
NON_READERS = r'''
import socket, sys, threading, time
n = int(sys.argv[1])
request = b'GET / HTTP/1.1\r\nHost: kbt\r\n\r\n' * 3000
socks = []
def pipeline(s):
    try:
        s.sendall(request)
    except OSError:
        pass
for _ in range(n):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
    s.settimeout(30)
    s.connect(('198.18.0.2', 80))
    socks.append(s)
    threading.Thread(target=pipeline, args=(s,), daemon=True).start()
print('connected', flush=True)
time.sleep(120)
'''


def curl_body_size(net, timeout=20):
    r = net.run('curl', '-sS', '--max-time', str(timeout), '-o', '/dev/null', '-w',
                '%{http_code} %{size_download}', f'http://{kbtnet.STACK_IP}/', timeout=timeout + 10)
    return r.stdout.strip() if r.returncode == 0 else f'curl failed {r.returncode}: {r.stderr}'


class NonReadingClients(unittest.TestCase):
    def test_fifty_non_reading_clients_leave_others_served_and_every_mbuf_back(self):
        body = 1_000_000
        with kbtnet.KbtNet(kbtnet.httpd_cmd('--body-size', str(body)),
                           ready=kbtnet.KBT_READY) as net:
            self.assertEqual(curl_body_size(net), f'200 {body}')
            base = net.wait_for_new_stats()
            p = subprocess.Popen(['ip', 'netns', 'exec', net.ns, kbtnet.PYTHON, '-c',
                                  NON_READERS, '50'], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, start_new_session=True)
            try:
                self.assertEqual(p.stdout.readline().strip(), 'connected')
                # Their responses fill the core's send memory, their requests
                # its receive memory: both budgets under pressure.
                held = net.wait_for_stats(
                    lambda s: s.get('tcp_snd_mbufs', 0) > 4000 and s.get('tcp_rcv_mbufs', 0) > 0,
                    timeout=20, what='the non-readers to fill their buffers')
                rx_before = held['rx_pkts']
                sent, got, out = net.ping(count=5, interval=0.2)
                self.assertEqual(got, 5, out)
                for _ in range(5):
                    self.assertEqual(curl_body_size(net), f'200 {body}')
                during = net.wait_for_new_stats()
                self.assertGreater(during['rx_pkts'], rx_before)
            finally:
                os.killpg(p.pid, signal.SIGKILL)
                p.communicate(timeout=10)
            # Their kernel resets each connection; everything they held comes back.
            after = net.wait_for_stats(
                lambda s: 'tcp_snd_mbufs' not in s and 'tcp_rcv_mbufs' not in s and
                s['mbufs_in_use'] <= base['mbufs_in_use'],
                timeout=20, what='every mbuf back in the pool')
            sent, got, out = net.ping(count=3, interval=0.2)
            self.assertEqual(got, 3, out)
            self.assertEqual(curl_body_size(net), f'200 {body}')
        print(f'50 non-readers: held snd={held.get("tcp_snd_mbufs")} rcv={held.get("tcp_rcv_mbufs")} '
              f'mbufs_in_use base={base["mbufs_in_use"]} held={held["mbufs_in_use"]} '
              f'after={after["mbufs_in_use"]}; refused={during.get("tcp_snd_mem_refused", 0)} '
              f'dropped={during.get("tcp_rcv_mem_dropped", 0)} no_mbuf={during.get("tcp_no_mbuf", 0)}')
        self.assertEqual(during.get('tcp_no_mbuf', 0), 0, during)
        self.assertEqual(after.get('drop.no_mbuf', 0), 0, after)


# Three clients at once, each reporting when the server ended its
# connection (seconds after connect) as JSON:
#   silent    connects and sends nothing;
#   keepalive one request, its response, then nothing;
#   slowloris a request line, then a header line every 0.3 s, never the end;
#   slow_ok   a whole request sent in pieces over 1 s: answered.
TIMEOUT_CLIENTS = r'''
import json, socket, threading, time
out = {}
def ended(s, t0, what):
    s.settimeout(10)
    try:
        while s.recv(65536):
            pass
        out[what] = round(time.monotonic() - t0, 2)
    except ConnectionResetError:
        out[what] = round(time.monotonic() - t0, 2)
    except socket.timeout:
        out[what] = None
def silent():
    t0 = time.monotonic()
    s = socket.create_connection(('198.18.0.2', 80), timeout=5)
    ended(s, t0, 'silent')
def keepalive():
    s = socket.create_connection(('198.18.0.2', 80), timeout=5)
    s.sendall(b'GET / HTTP/1.1\r\nHost: kbt\r\n\r\n')
    got = b''
    while b'\r\n\r\n' not in got:
        got += s.recv(65536)
    t0 = time.monotonic()
    out['keepalive_status'] = got.split(b' ')[1].decode()
    ended(s, t0, 'keepalive')
def slowloris():
    t0 = time.monotonic()
    s = socket.create_connection(('198.18.0.2', 80), timeout=5)
    s.sendall(b'GET / HTTP/1.1\r\nHost: kbt\r\n')
    done = threading.Event()
    def drip():
        i = 0
        while not done.is_set() and i < 30:
            try:
                s.sendall(b'X-Slow-%d: 1\r\n' % i)
            except OSError:
                return
            i += 1
            time.sleep(0.3)
    threading.Thread(target=drip, daemon=True).start()
    ended(s, t0, 'slowloris')
    done.set()
def slow_ok():
    s = socket.create_connection(('198.18.0.2', 80), timeout=5)
    req = b'GET / HTTP/1.1\r\nHost: kbt\r\nConnection: close\r\n\r\n'
    for i in range(0, len(req), 5):
        s.sendall(req[i:i + 5])
        time.sleep(1.0 / (len(req) / 5))
    s.settimeout(5)
    got = b''
    while True:
        d = s.recv(65536)
        if not d:
            break
        got += d
    out['slow_ok_status'] = got.split(b' ')[1].decode() if got else None
ts = [threading.Thread(target=f) for f in (silent, keepalive, slowloris, slow_ok)]
[t.start() for t in ts]
[t.join(20) for t in ts]
print(json.dumps(out))
'''

# Opens argv[1] connections and holds them, sending nothing, until killed.
IDLE_CLIENTS = r'''
import resource, socket, sys, time
resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.setblocking(False)
    try:
        s.connect(('198.18.0.2', 80))
    except BlockingIOError:
        pass
    socks.append(s)
print('opened', flush=True)
time.sleep(120)
'''


class Timeouts(unittest.TestCase):
    def test_idle_and_slowloris_clients_are_closed_at_their_timeouts(self):
        with kbtnet.KbtNet(kbtnet.httpd_cmd('--idle-timeout', '2', '--header-timeout', '2'),
                           ready=kbtnet.KBT_READY) as net:
            r = net.run(kbtnet.PYTHON, '-c', TIMEOUT_CLIENTS, timeout=60)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            out = json.loads(r.stdout)
            stats = net.wait_for_new_stats()
        print(f'timeouts 2 s: {out}; httpd_header_timeouts={stats.get("httpd_header_timeouts")} '
              f'httpd_idle_timeouts={stats.get("httpd_idle_timeouts")}')
        self.assertEqual(out['keepalive_status'], '200')
        self.assertEqual(out['slow_ok_status'], '200', 'a request taking 1 s of 2 is served')
        for what in ('silent', 'keepalive', 'slowloris'):
            self.assertIsNotNone(out[what], f'{what} was never closed')
            self.assertGreaterEqual(out[what], 1.9, what)
            self.assertLessEqual(out[what], 3.5, what)
        self.assertEqual(stats.get('httpd_header_timeouts'), 2, stats)  # silent, slowloris
        self.assertEqual(stats.get('httpd_idle_timeouts'), 1, stats)

    def test_a_client_that_never_reads_is_reset_at_the_send_timeout(self):
        with kbtnet.KbtNet(kbtnet.httpd_cmd('--body-size', '1000000', '--send-timeout', '2'),
                           ready=kbtnet.KBT_READY) as net:
            p = subprocess.Popen(['ip', 'netns', 'exec', net.ns, kbtnet.PYTHON, '-c',
                                  NON_READERS, '1'], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, start_new_session=True)
            try:
                self.assertEqual(p.stdout.readline().strip(), 'connected')
                t0 = time.monotonic()
                after = net.wait_for_stats(lambda s: s.get('httpd_send_timeouts', 0) == 1,
                                           timeout=10, what='the send timeout')
                elapsed = time.monotonic() - t0
                gone = net.wait_for_stats(lambda s: 'tcp_snd_mbufs' not in s, timeout=5,
                                          what='its send buffer freed')
            finally:
                os.killpg(p.pid, signal.SIGKILL)
                p.communicate(timeout=10)
        print(f'send timeout 2 s: reset after {elapsed:.1f} s, {after}')
        self.assertGreaterEqual(elapsed, 1.5)
        self.assertLessEqual(elapsed, 5)
        self.assertGreater(gone.get('tcp_rst_out', 0), 0)

    def test_thousand_idle_clients_keep_a_new_client_out_no_longer_than_the_timeout(self):
        with kbtnet.KbtNet(kbtnet.httpd_cmd('--max-conns', '256', '--idle-timeout', '2',
                                            '--header-timeout', '2'),
                           ready=kbtnet.KBT_READY) as net:
            p = subprocess.Popen(['ip', 'netns', 'exec', net.ns, kbtnet.PYTHON, '-c',
                                  IDLE_CLIENTS, '1000'], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, start_new_session=True)
            try:
                self.assertEqual(p.stdout.readline().strip(), 'opened')
                full = net.wait_for_stats(lambda s: s.get('tcp_passive_opens', 0) >= 256 and
                                          s.get('tcp_no_tcb', 0) > 0, timeout=10,
                                          what='every TCB taken by the idle clients')
                t0 = time.monotonic()
                served = curl_body_size(net, timeout=15)
                waited = time.monotonic() - t0
                stats = net.wait_for_new_stats()
                again = curl_body_size(net, timeout=5)
            finally:
                os.killpg(p.pid, signal.SIGKILL)
                p.communicate(timeout=10)
        print(f'1000 idle vs 256 TCBs, timeouts 2 s: new client served after {waited:.2f} s; '
              f'no_tcb={full.get("tcp_no_tcb")} header_timeouts={stats.get("httpd_header_timeouts")} '
              f'orphans_evicted={stats.get("tcp_orphans_evicted", 0)}')
        self.assertEqual(served, '200 64')
        self.assertEqual(again, '200 64')
        self.assertLessEqual(waited, 2 + 1.5, 'kept out longer than the timeout')
        self.assertGreaterEqual(stats.get('httpd_header_timeouts', 0), 256)


if __name__ == '__main__':
    kbtnet.require_root()
    unittest.main(verbosity=2)
