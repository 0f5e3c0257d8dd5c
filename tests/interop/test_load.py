#!/usr/bin/python3
"""kbt-load against nginx: nginx serves a small static file on the Linux
side of the test's namespace (198.18.0.1:8080) and kbt-load, the app under
test (198.18.0.2), loads it: closed loop with keep-alive, --close (one
request per connection), and open loop at --rate 2000 for 5 s (about 10000
requests). A last run at a port nobody listens on must fail with one line.

kbt-load starts before the namespace has its address (KbtNet configures the
TAP once the app has made it), so it waits --start-delay seconds before the
load; the test starts nginx and checks it answers within that time.

Run by hand: sudo /usr/bin/python3 tests/interop/test_load.py
"""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True
import kbtnet  # noqa: E402

PORT = 8080
URL = f'http://{kbtnet.KERNEL_IP}:{PORT}/index.html'
BODY = b'kbt-load test page\n' * 32  # 608 bytes
START_DELAY = 3.0  # seconds: KbtNet's set-up, nginx's start and a curl fit well inside


def load_cmd(*flags):
    exe = os.environ.get('KBT_LOAD', os.path.join(kbtnet.REPO, 'build', 'apps', 'kbt-load'))
    return [exe, '--no-huge', '-m', '512', '--no-shconf', '--no-pci', '-l', '0',
            '--vdev=net_tap0,iface=kbt0', '--', '--ip', f'{kbtnet.STACK_IP}/24',
            '--start-delay', str(START_DELAY), *flags]


NGINX_CONF = '''daemon off;
master_process off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
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


@contextlib.contextmanager
def nginx(net, tmp):
    """nginx in the namespace on 198.18.0.1:8080, serving BODY as /index.html."""
    os.makedirs(os.path.join(tmp, 'www'))
    with open(os.path.join(tmp, 'www', 'index.html'), 'wb') as f:
        f.write(BODY)
    conf = os.path.join(tmp, 'nginx.conf')
    with open(conf, 'w') as f:
        f.write(NGINX_CONF.format(tmp=tmp, ip=kbtnet.KERNEL_IP, port=PORT))
    exe = shutil.which('nginx') or '/usr/sbin/nginx'
    log = open(os.path.join(tmp, 'nginx.out'), 'wb')
    p = subprocess.Popen(['ip', 'netns', 'exec', net.ns, exe, '-c', conf, '-p', tmp],
                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                         start_new_session=True)
    try:
        def answers():
            if p.poll() is not None:
                raise kbtnet.HarnessError(
                    f'nginx exited with {p.returncode}: {read(tmp, "nginx.out")}'
                    f'{read(tmp, "error.log")}')
            r = net.run('curl', '-sS', '--max-time', '1', URL, timeout=5)
            return r.returncode == 0 and r.stdout == BODY.decode()
        kbtnet.wait_for(answers, 10, interval=0.05, what='nginx to answer')
        yield p
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)  # the group we started, by its id
        p.wait(timeout=10)
        log.close()


def read(tmp, name):
    try:
        with open(os.path.join(tmp, name), errors='replace') as f:
            return f.read()
    except FileNotFoundError:
        return ''


def json_result(stdout):
    """kbt-load's --json object: the one stdout line that is a JSON object."""
    for line in stdout.splitlines():
        line = line.strip()
        if line.startswith('{'):
            return json.loads(line)
    raise AssertionError(f'no JSON object in kbt-load output:\n{stdout}')


class LoadAgainstNginx(unittest.TestCase):
    def run_load(self, *flags, duration=5, url=URL, expect_ok=True):
        """kbt-load --json against nginx; returns (result, returncode, net)."""
        cmd = load_cmd('--url', url, '--duration', str(duration), '--json', *flags)
        with tempfile.TemporaryDirectory(prefix='kbt-load-nginx-') as tmp:
            t0 = time.monotonic()  # before kbt-load starts, so `ready` is an upper bound
            with kbtnet.KbtNet(cmd) as net:
                with nginx(net, tmp):
                    ready = time.monotonic() - t0
                    self.assertLess(ready, START_DELAY - 0.3,
                                    f'nginx answered {ready:.1f}s after kbt-load started, '
                                    f'which loads after {START_DELAY}s')
                    net.proc.wait(timeout=START_DELAY + duration + 30)
            errors = read(tmp, 'error.log')
        self.assertFalse(net.killed, 'kbt-load needed SIGKILL')
        if expect_ok:
            self.assertEqual(net.returncode, 0, net.describe() + '\nnginx: ' + errors)
        result = json_result(net.stdout)
        print(f'\nkbt-load {" ".join(flags) or "(closed loop)"}: '
              f'{result["requests"]} requests in {result["duration_s"]}s, '
              f'{result["requests_per_s"]} requests/s, {result["connects_per_s"]} connects/s, '
              f'latency us {result["latency_us"]}', file=sys.stderr)
        return result, net

    def check_clean(self, r):
        self.assertGreater(r['requests'], 0, r)
        self.assertEqual(r['errors']['total'], 0, r)
        self.assertEqual(r['non2xx'], 0, r)
        self.assertEqual(r['ok'], r['requests'], r)
        self.assertEqual(r['body_bytes'], r['requests'] * len(BODY), r)
        lat = r['latency_us']
        for key in ('p50', 'p90', 'p99', 'p99_9', 'max'):
            self.assertIn(key, lat)
            self.assertGreater(lat[key], 0, lat)
        self.assertLessEqual(lat['p50'], lat['p90'], lat)
        self.assertLessEqual(lat['p90'], lat['p99'], lat)
        self.assertLessEqual(lat['p99'], lat['p99_9'], lat)
        self.assertLessEqual(lat['p99_9'], lat['max'], lat)

    def test_1_closed_loop_keep_alive(self):
        r, net = self.run_load('--connections', '10')
        self.check_clean(r)
        self.assertEqual(r['connections'], 10)
        # Progress lines went to stderr, one a second.
        self.assertIn('kbt-load: t=1s requests=', net.stderr)

    def test_2_connection_close(self):
        r, _ = self.run_load('--connections', '10', '--close')
        self.check_clean(r)
        self.assertTrue(r['close'])
        self.assertGreater(r['connects_per_s'], 0, r)
        # One connection per request (give or take those cut off at the end).
        self.assertGreaterEqual(r['connects'], r['requests'], r)
        self.assertLessEqual(r['connects'], r['requests'] + 10, r)

    def test_3_open_loop_rate(self):
        r, _ = self.run_load('--connections', '10', '--rate', '2000', duration=5)
        self.check_clean(r)
        self.assertAlmostEqual(r['requests'], 10000, delta=1000, msg=r)

    def test_4_nothing_listening_fails_with_one_line(self):
        url = f'http://{kbtnet.KERNEL_IP}:{PORT + 1}/'
        r, net = self.run_load('--connections', '2', duration=2, url=url, expect_ok=False)
        self.assertEqual(net.returncode, 1, net.describe())
        self.assertEqual(r['requests'], 0, r)
        self.assertGreater(r['errors']['connect'], 0, r)
        last = net.stderr.strip().splitlines()[-1]
        self.assertRegex(last, r'^kbt-load: \d+ request\(s\) failed .*is a server listening on')


if __name__ == '__main__':
    unittest.main(verbosity=2)
