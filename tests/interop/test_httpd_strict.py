#!/usr/bin/python3
"""kbt-httpd as a strict HTTP/1.1 server (issue 15; RFC 9110, RFC 9112),
with nginx as the reference: each case sends the same raw bytes to nginx
(198.18.0.1:8080, in the test's namespace) and to kbt-httpd (198.18.0.2:80)
and compares the status codes and whether the connection was closed. Where
the RFC and nginx part ways (431 for an oversized header, 400 for a coding
other than chunked) the case says so. Then real clients: curl (-T with
Expect: 100-continue), wget, ab and h2load --h1.

Run by hand: sudo /usr/bin/python3 tests/interop/test_httpd_strict.py
"""

import os
import re
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True
import httpd_raw  # noqa: E402
import kbtnet  # noqa: E402
import test_load  # noqa: E402  (its nginx())

H = b'Host: x\r\n'
GET = b'GET / HTTP/1.1\r\n' + H + b'\r\n'
BIG_HEADER = b''.join(b'X-F%d: %s\r\n' % (i, b'v' * 1000) for i in range(64))  # 64 KB

# name: (request, kbt's (statuses, end), nginx's if it differs)
CASES = {
    'http11_without_host_400': (b'GET / HTTP/1.1\r\n\r\n', ([400], 'closed')),
    'space_before_colon_400': (b'GET / HTTP/1.1\r\nHost : x\r\n\r\n', ([400], 'closed')),
    'two_hosts_400': (b'GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n', ([400], 'closed')),
    'http10_without_host_200': (b'GET / HTTP/1.0\r\n\r\n', ([200], 'closed')),
    'version_9_9_505': (b'GET / HTTP/9.9\r\n' + H + b'\r\n', ([505], 'closed')),
    'version_2_0_505': (b'GET / HTTP/2.0\r\n' + H + b'\r\n', ([505], 'closed')),
    'version_1_2_served_as_1_1': (b'GET / HTTP/1.2\r\n' + H + b'\r\n', ([200], 'open')),
    'target_16k_414': (b'GET /' + b'a' * 16384 + b' HTTP/1.1\r\n' + H + b'\r\n',
                       ([414], 'closed')),
    # RFC 6585 §5: 431; nginx says 400 ("Request Header Or Cookie Too Large").
    'header_64k_431': (b'GET / HTTP/1.1\r\n' + H + BIG_HEADER + b'\r\n', ([431], 'closed'),
                       ([400], 'closed')),
    'absolute_form_served': (b'GET http://x/ HTTP/1.1\r\n' + H + b'\r\n', ([200], 'open')),
    'absolute_form_without_host_400': (b'GET http://x/ HTTP/1.1\r\n\r\n', ([400], 'closed')),
    'asterisk_form_get_400': (b'GET * HTTP/1.1\r\n' + H + b'\r\n', ([400], 'closed')),
    'http09_body_only_then_close': (b'GET /\r\n', (['body-only'], 'closed')),
    # Bodies (RFC 9112 §6): read and dropped under any status, the next
    # pipelined request answered.
    'body_cl_under_404_then_next': (
        b'GET /nope HTTP/1.1\r\n' + H + b'Content-Length: 5\r\n\r\nhello' + GET,
        ([404, 200], 'open')),
    'body_chunked_under_404_then_next': (
        b'GET /nope HTTP/1.1\r\n' + H + b'Transfer-Encoding: chunked\r\n\r\n'
        b'5;ext=1\r\nhello\r\n10\r\n' + b'x' * 16 + b'\r\n0\r\nTrailer: t\r\n\r\n' + GET,
        ([404, 200], 'open')),
    'body_cl_under_200_then_next': (
        b'GET / HTTP/1.1\r\n' + H + b'Content-Length: 3\r\n\r\nabc' + GET, ([200, 200], 'open')),
    'body_chunked_under_200_then_next': (
        b'GET / HTTP/1.1\r\n' + H + b'Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n'
        + GET, ([200, 200], 'open')),
    'body_cl_under_405_then_next': (
        b'POST / HTTP/1.1\r\n' + H + b'Content-Length: 4\r\n\r\nabcd' + GET,
        ([405, 200], 'open')),
    # RFC 9112 §6.3: a length that cannot be trusted: 400 and close.
    'content_length_with_chunked_400': (
        b'POST / HTTP/1.1\r\n' + H + b'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n'
        b'0\r\n\r\n', ([400], 'closed')),
    'two_content_lengths_400': (
        b'POST / HTTP/1.1\r\n' + H + b'Content-Length: 1\r\nContent-Length: 2\r\n\r\nab',
        ([400], 'closed')),
    'bad_content_length_400': (
        b'POST / HTTP/1.1\r\n' + H + b'Content-Length: abc\r\n\r\n', ([400], 'closed')),
    # nginx finds the bad chunk while discarding the body of its 405.
    'invalid_chunk_size_400': (
        b'POST / HTTP/1.1\r\n' + H + b'Transfer-Encoding: chunked\r\n\r\nzz\r\n\r\n',
        ([400], 'closed'), ([405], 'closed')),
    # RFC 9112 §6.3 says 400; nginx answers 501. Both close.
    'final_coding_not_chunked_400': (
        b'POST / HTTP/1.1\r\n' + H + b'Transfer-Encoding: gzip\r\n\r\n', ([400], 'closed'),
        ([501], 'closed')),
}

PIPELINED = 150
BODY_SIZE = 16384  # 150 x 16 KB: far past both send buffers and the client's window


def start(*extra):
    return kbtnet.KbtNet(kbtnet.httpd_cmd('--body-size', str(BODY_SIZE), *extra),
                         ready=kbtnet.KBT_READY)


class StrictHttp(unittest.TestCase):
    def test_1_same_input_as_nginx(self):
        names = list(CASES)
        cases = [{'chunks': [CASES[n][0]]} for n in names]
        # A client that pipelines and reads late gets every answer, no reset.
        names.append('pipelined_150_read_late_all_answered')
        cases.append({'chunks': [GET * PIPELINED], 'read_delay': 2.0, 'idle': 2.0})
        with tempfile.TemporaryDirectory(prefix='kbt-httpd-strict-') as tmp:
            with start() as net, test_load.nginx(net, tmp):
                with open(os.path.join(tmp, 'www', 'index.html'), 'wb') as f:
                    f.write(b'n' * BODY_SIZE)
                kbt = httpd_raw.exchange(net, httpd_raw.KBT, cases)
                ngx = httpd_raw.exchange(net, httpd_raw.NGINX, cases)
        for name, k, n in zip(names, kbt, ngx):
            got_k, got_n = httpd_raw.summary(k), httpd_raw.summary(n)
            print(f'{name}: kbt {got_k} nginx {got_n}')
            if name.startswith('pipelined'):
                want_k = want_n = ([200] * PIPELINED, 'open')
            else:
                want_k = CASES[name][1]
                want_n = CASES[name][2] if len(CASES[name]) > 2 else want_k
            with self.subTest(name):
                self.assertEqual(got_n, want_n, 'nginx, the reference')
                self.assertEqual(got_k, want_k, 'kbt-httpd')
        self.assertFalse(net.killed, 'app needed SIGKILL to exit')

    def test_2_expect_100_continue(self):
        head = b'Content-Length: 5\r\nExpect: 100-continue\r\n\r\n'
        cases = [
            # Refused (405): the final status at once, and close (the
            # client may or may not send the body).
            {'chunks': [b'PUT /f HTTP/1.1\r\n' + H + head, b'hello'], 'gap': 0.5},
            # Served: 100 at once, the 200 after the body.
            {'chunks': [b'GET / HTTP/1.1\r\n' + H + head, b'hello' + GET], 'gap': 0.5},
        ]
        with tempfile.TemporaryDirectory(prefix='kbt-httpd-strict-') as tmp:
            with start() as net, test_load.nginx(net, tmp):
                kbt = httpd_raw.exchange(net, httpd_raw.KBT, cases)
                ngx = httpd_raw.exchange(net, httpd_raw.NGINX, cases)
                with open(os.path.join(tmp, 'up'), 'wb') as f:
                    f.write(b'u' * 100000)
                # curl waits 1 s for a 100 it is not sent before its body.
                curls = []
                # (curl appends the file's name to a path ending in '/'.)
                for args in (['-T', os.path.join(tmp, 'up')],
                             ['-T', os.path.join(tmp, 'up'), '-X', 'GET']):
                    r = net.run('curl', '-sS', '-o', '/dev/null', '-w',
                                '%{http_code} %{time_total}', '--max-time', '10', *args,
                                '--request-target', '/', f'http://{kbtnet.STACK_IP}/up',
                                timeout=30)
                    curls.append(r.stdout.split())
        for label, k, n in zip(('put_refused', 'get_served'), kbt, ngx):
            print(f'expect {label}: kbt {httpd_raw.summary(k)} first byte {k["first"]} s; '
                  f'nginx {httpd_raw.summary(n)} first byte {n["first"]} s')
        print(f'curl -T: {curls[0]}; curl -T -X GET: {curls[1]}')
        with self.subTest('refused: final status before the body, like nginx'):
            self.assertEqual(httpd_raw.summary(kbt[0]), ([405], 'closed'))
            self.assertIsNotNone(kbt[0]['first'])
            self.assertLess(kbt[0]['first'], 0.5)
            self.assertEqual(httpd_raw.summary(ngx[0])[0], [405])
            self.assertLess(ngx[0]['first'], 0.5)
        with self.subTest('served: 100 Continue before the body, then 200 and the next'):
            self.assertEqual(httpd_raw.summary(kbt[1]), ([100, 200, 200], 'open'))
            self.assertLess(kbt[1]['first'], 0.5)
        with self.subTest('curl -T does not wait out its 1 s'):
            self.assertEqual(curls[0][0], '405')
            self.assertLess(float(curls[0][1]), 0.9)
            self.assertEqual(curls[1][0], '200')
            self.assertLess(float(curls[1][1]), 0.9)

    def test_3_real_clients(self):
        with start() as net:
            with self.subTest('wget'):
                r = net.run('wget', '-q', '-O', '-', '--tries=1', '--timeout=10',
                            f'http://{kbtnet.STACK_IP}/', timeout=30)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(len(r.stdout), BODY_SIZE)
            with self.subTest('ab -k'):
                r = net.run('ab', '-q', '-k', '-n', '2000', '-c', '10', '-s', '10',
                            f'http://{kbtnet.STACK_IP}/', timeout=60)
                self.assertEqual(r.returncode, 0, r.stderr)
                print(re.findall(r'(?:Complete|Failed) requests:\s+\d+', r.stdout))
                self.assertRegex(r.stdout, r'Complete requests:\s+2000\b')
                self.assertRegex(r.stdout, r'Failed requests:\s+0\b')
            with self.subTest('h2load --h1'):
                r = net.run('h2load', '--h1', '-n', '2000', '-c', '10', '-m', '4',
                            f'http://{kbtnet.STACK_IP}/', timeout=60)
                self.assertEqual(r.returncode, 0, r.stderr)
                print(re.findall(r'requests: .*', r.stdout))
                self.assertRegex(r.stdout, r'2000 succeeded, 0 failed, 0 errored')
        self.assertFalse(net.killed, 'app needed SIGKILL to exit')


if __name__ == '__main__':
    unittest.main(verbosity=2)
