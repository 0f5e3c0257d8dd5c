#!/usr/bin/python3
"""kbt-httpd against Linux's HTTP clients: curl for the body and the status
codes, a raw socket for a malformed request, HTTP/1.0 and pipelining, and
wrk for ten seconds of load with and without keep-alive. Everything stays in
the test's namespace (198.18.0.0/24).

Run by hand: sudo /usr/bin/python3 tests/interop/test_httpd.py
"""

import json
import re
import sys
import unittest

sys.dont_write_bytecode = True
import kbtnet  # noqa: E402

URL = f'http://{kbtnet.STACK_IP}/'


def pattern_body(n):
    """The body kbt-httpd serves for GET / (responses.cc pattern_body)."""
    return ''.join('\n' if i % 64 == 63 else chr(ord('a') + i % 26) for i in range(n))


# Runs in the namespace: sends argv[1] (hex) in one write, then reads
# responses until argv[2] of them are complete or the server closes. Prints
# JSON: the responses (status, headers, body) and whether it saw EOF.
RAW_CLIENT = r'''
import json, socket, sys
request, want = bytes.fromhex(sys.argv[1]), int(sys.argv[2])
s = socket.create_connection(('198.18.0.2', 80), timeout=10)
s.sendall(request)
buf, eof, out = b'', False, []
def more():
    global buf, eof
    chunk = s.recv(65536)
    eof = not chunk
    buf += chunk
while len(out) < want and not eof:
    while b'\r\n\r\n' not in buf and not eof:
        more()
    if b'\r\n\r\n' not in buf:
        break
    head, buf = buf.split(b'\r\n\r\n', 1)
    lines = head.decode('latin-1').split('\r\n')
    headers = {k.strip().lower(): v.strip() for k, _, v in (l.partition(':') for l in lines[1:])}
    n = 0 if request.startswith(b'HEAD') else int(headers.get('content-length', '0'))
    while len(buf) < n and not eof:
        more()
    body, buf = buf[:n], buf[n:]
    out.append({'status': int(lines[0].split()[1]), 'headers': headers,
                'body': body.decode('latin-1')})
if len(out) == want and not eof:
    s.settimeout(2)  # closed after the last response, or left open?
    try:
        more()
    except socket.timeout:
        pass
print(json.dumps({'responses': out, 'eof': eof, 'extra': buf.decode('latin-1')}))
'''


def raw_exchange(net, request, want):
    r = net.run(kbtnet.PYTHON, '-c', RAW_CLIENT, request.hex(), str(want), timeout=30)
    if r.returncode != 0:
        raise AssertionError(f'raw client failed: {r.stdout}{r.stderr}')
    return json.loads(r.stdout)


def curl(net, *args, path='/'):
    r = net.run('curl', '-sS', '--max-time', '10', *args, URL + path.lstrip('/'), timeout=30)
    if r.returncode != 0:
        raise AssertionError(f'curl {args} {path} failed ({r.returncode}): {r.stderr}')
    return r.stdout


def start(*extra, lcores='0'):
    return kbtnet.KbtNet(kbtnet.httpd_cmd(*extra, lcores=lcores), ready=kbtnet.KBT_READY)


class HttpdRequests(unittest.TestCase):
    def test_default_body_status_codes_and_pipelining(self):
        with start() as net:
            self.assertEqual(curl(net), pattern_body(64))
            self.assertEqual(curl(net, '-o', '/dev/null', '-w', '%{http_code}', path='/nope'),
                             '404')
            head = curl(net, '-I').splitlines()  # (text mode: CRLF reads as \n)
            self.assertEqual(head[0], 'HTTP/1.1 200 OK')
            self.assertIn('Content-Length: 64', head)
            self.assertIn('Content-Type: text/plain', head)

            with self.subTest('malformed request: 400, then close'):
                got = raw_exchange(net, b'GARBAGE\r\n\r\n', 1)
                self.assertEqual([r['status'] for r in got['responses']], [400])
                self.assertEqual(got['responses'][0]['headers'].get('connection'), 'close')
                self.assertTrue(got['eof'], 'connection left open after 400')

            with self.subTest('two pipelined requests, answered in order'):
                req = (b'GET / HTTP/1.1\r\nHost: kbt\r\n\r\n'
                       b'GET /nope HTTP/1.1\r\nHost: kbt\r\n\r\n')
                got = raw_exchange(net, req, 2)
                self.assertEqual([r['status'] for r in got['responses']], [200, 404])
                self.assertEqual(got['responses'][0]['body'], pattern_body(64))
                self.assertFalse(got['eof'], 'keep-alive connection was closed')
                self.assertEqual(got['extra'], '')

            with self.subTest('Connection: close, pipelined after a keep-alive request'):
                req = (b'GET / HTTP/1.1\r\nHost: kbt\r\n\r\n'
                       b'GET / HTTP/1.1\r\nHost: kbt\r\nConnection: close\r\n\r\n')
                got = raw_exchange(net, req, 2)
                self.assertEqual([r['status'] for r in got['responses']], [200, 200])
                self.assertEqual(got['responses'][1]['headers'].get('connection'), 'close')
                self.assertTrue(got['eof'], 'connection left open after Connection: close')

            with self.subTest('HTTP/1.0 without keep-alive closes'):
                got = raw_exchange(net, b'GET / HTTP/1.0\r\n\r\n', 1)
                self.assertEqual([r['status'] for r in got['responses']], [200])
                self.assertTrue(got['eof'])

            with self.subTest('other methods: 405'):
                got = raw_exchange(net, b'POST / HTTP/1.1\r\nHost: kbt\r\nContent-Length: 3\r\n\r\nabc', 1)
                self.assertEqual([r['status'] for r in got['responses']], [405])
        self.assertFalse(net.killed, 'app needed SIGKILL to exit')

    def test_body_size_1000(self):
        with start('--body-size', '1000') as net:
            self.assertEqual(curl(net), pattern_body(1000))
        self.assertFalse(net.killed, 'app needed SIGKILL to exit')

    def test_body_larger_than_the_send_buffer(self):
        # 1 MiB: four times the send buffer, so the response goes out in
        # pieces from on_writable, and a pipelined request waits for it.
        n = 1 << 20
        with start('--body-size', str(n)) as net:
            req = b'GET / HTTP/1.1\r\nHost: kbt\r\n\r\n' * 2
            got = raw_exchange(net, req, 2)
            self.assertEqual([r['status'] for r in got['responses']], [200, 200])
            for r in got['responses']:
                self.assertEqual(r['body'], pattern_body(n))
        self.assertFalse(net.killed, 'app needed SIGKILL to exit')

    def test_newreno_serves_curl(self):
        # --cc newreno: the connections run RFC 5681/6582 instead of CUBIC.
        with start('--cc', 'newreno', '--body-size', '100000') as net:
            self.assertEqual(curl(net), pattern_body(100000))
        self.assertFalse(net.killed, 'app needed SIGKILL to exit')

    def test_two_cores(self):
        with start(lcores='0-1') as net:
            for i in range(20):
                self.assertEqual(curl(net), pattern_body(64), f'request {i}')
        self.assertFalse(net.killed, 'app needed SIGKILL to exit')


def parse_wrk(out):
    """The parts of wrk's report the test looks at."""
    m = re.search(r'(\d+) requests in ', out)
    rps = re.search(r'^Requests/sec:\s*([\d.]+)', out, re.M)
    errors = re.search(r'Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)',
                       out)
    return {
        'requests': int(m.group(1)) if m else 0,
        'rps_line': rps.group(0) if rps else None,
        'socket_errors': [int(x) for x in errors.groups()] if errors else [0, 0, 0, 0],
        'non_2xx': 'Non-2xx or 3xx responses' in out,
    }


class HttpdLoad(unittest.TestCase):
    def wrk(self, *extra, label):
        with start() as net:
            r = net.run('wrk', '-t2', '-c50', '-d10s', '--latency', *extra, URL, timeout=60)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            # A connection that works still, after the load.
            self.assertEqual(curl(net), pattern_body(64))
        self.assertFalse(net.killed, 'app needed SIGKILL to exit')
        w = parse_wrk(r.stdout)
        print(f'\nwrk {label}: {w["rps_line"]} ({w["requests"]} requests)', file=sys.stderr)
        self.assertGreater(w['requests'], 0, r.stdout)
        self.assertEqual(w['socket_errors'], [0, 0, 0, 0], r.stdout)
        self.assertFalse(w['non_2xx'], r.stdout)

    def test_wrk_keep_alive(self):
        self.wrk(label='keep-alive')

    def test_wrk_connection_close(self):
        self.wrk('-H', 'Connection: close', label='Connection: close')


if __name__ == '__main__':
    unittest.main(verbosity=2)
