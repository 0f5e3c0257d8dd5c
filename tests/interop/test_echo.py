#!/usr/bin/python3
"""kbt-echo against Linux's nc: 100 MB into discard mode (kbt reports the
SHA-256 of what it received), 100 MB out of source mode (nc's copy hashed
here), 10 MB through echo mode, and 20 MB out at --mtu 1400. Half-close
(RFC 9293 §3.6): a Linux client that shuts down its side at once still gets
every --bytes of source mode and then EOF, and echo mode answers all that
came before the client's FIN, then closes. Everything stays in the test's
namespace; files live in a temporary directory removed at the end.

Run by hand: sudo /usr/bin/python3 tests/interop/test_echo.py
"""

import hashlib
import os
import re
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True
import kbtnet  # noqa: E402

MB = 1 << 20
CYCLE = 251  # source mode's byte i is i mod 251 (apps/kbt-echo/echo_handler.hh)


def echo_cmd(*flags):
    exe = os.environ.get('KBT_ECHO', os.path.join(kbtnet.REPO, 'build', 'apps', 'kbt-echo'))
    return [exe, '--no-huge', '-m', '512', '--no-shconf', '--no-pci', '-l', '0',
            '--vdev=net_tap0,iface=kbt0', '--', '--ip', '198.18.0.2/24',
            '--stats-interval', '1', *flags]


def pattern(n):
    block = bytes(range(CYCLE)) * (4 * MB // CYCLE + 1)
    h = hashlib.sha256()
    done = 0
    while done < n:
        # Chunks of whole cycles keep the pattern continuous.
        take = min(n - done, (len(block) // CYCLE) * CYCLE)
        h.update(block[:take])
        done += take
    return h.hexdigest()


class EchoWithNc(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix='kbt-echo-test-')

    def tearDown(self):
        self.tmp.cleanup()

    def test_discard_receives_100_megabytes_exactly(self):
        path = os.path.join(self.tmp.name, 'in.bin')
        with open(path, 'wb') as f:
            f.write(os.urandom(100 * MB))
        with open(path, 'rb') as f:
            want = hashlib.sha256(f.read()).hexdigest()
        with kbtnet.KbtNet(echo_cmd('--mode', 'discard'), ready=kbtnet.KBT_READY) as net:
            r = net.run('sh', '-c', f'nc -N 198.18.0.2 9 < {path}', timeout=120)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            kbtnet.wait_for(lambda: 'sha256=' in net.stdout, timeout=30, what='discard line')
            line = [l for l in net.stdout.splitlines() if 'sha256=' in l][0]
        print(line)
        self.assertRegex(line, r'bytes=%d ' % (100 * MB))
        self.assertEqual(re.search(r'sha256=([0-9a-f]+)', line).group(1), want)
        self.assertFalse(net.killed, 'app needed SIGKILL to exit')

    def test_source_sends_100_megabytes_exactly(self):
        path = os.path.join(self.tmp.name, 'out.bin')
        n = 100 * MB
        with kbtnet.KbtNet(echo_cmd('--mode', 'source', '--bytes', str(n)),
                           ready=kbtnet.KBT_READY) as net:
            r = net.run('sh', '-c', f'nc -d 198.18.0.2 19 > {path}', timeout=120)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(os.path.getsize(path), n)
        with open(path, 'rb') as f:
            got = hashlib.sha256(f.read()).hexdigest()
        self.assertEqual(got, pattern(n))
        self.assertFalse(net.killed, 'app needed SIGKILL to exit')

    def test_mtu_1400_sets_the_tap_and_the_segment_size(self):
        """--mtu 1400: the TAP's MTU follows, and kbt's data segments carry
        at most 1400 - 40 - 12 (timestamps) bytes."""
        path = os.path.join(self.tmp.name, 'out.bin')
        n = 20 * MB
        with kbtnet.KbtNet(echo_cmd('--mode', 'source', '--bytes', str(n), '--mtu', '1400'),
                           ready=kbtnet.KBT_READY) as net:
            self.assertIn('mtu 1400', net.run_checked('ip', 'link', 'show', 'kbt0').stdout)
            r = net.run('sh', '-c', f'nc -d 198.18.0.2 19 > {path}', timeout=120)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with open(path, 'rb') as f:
            self.assertEqual(hashlib.sha256(f.read()).hexdigest(), pattern(n))
        frames, sent = net.final_stats['tx_pkts'], net.final_stats['tx_bytes']
        # Every frame is at most 14 + 1400 bytes; with MSS 1460 the data
        # frames alone (20 MB / 1448) would average over 1500.
        self.assertLessEqual(sent, frames * 1414, net.final_stats)
        self.assertGreater(sent, n)
        self.assertFalse(net.killed, 'app needed SIGKILL to exit')

    def test_mtu_1400_is_the_engines_too(self):
        """--mtu 1400 reaches the engine as well as the port: an echo reply
        longer than 1400 bytes leaves in fragments (it left whole when only
        the port and the MSS knew the MTU)."""
        with kbtnet.KbtNet(echo_cmd('--mode', 'discard', '--mtu', '1400'),
                           ready=kbtnet.KBT_READY) as net:
            r = net.run('ping', '-c', '2', '-W', '2', '-s', '1400', '198.18.0.2', timeout=30)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertGreaterEqual(net.final_stats.get('ip_frags_out', 0), 4, net.final_stats)
        self.assertFalse(net.killed, 'app needed SIGKILL to exit')

    def test_mtu_the_port_refuses_is_a_start_up_error(self):
        # This DPDK's TAP takes frames of at most 1522 bytes.
        with self.assertRaises(kbtnet.HarnessError) as caught:
            with kbtnet.KbtNet(echo_cmd('--mode', 'discard', '--mtu', '9000'),
                               ready=kbtnet.KBT_READY):
                pass
        self.assertIn('kbt-echo: port 0: setting the MTU to 9000 failed', str(caught.exception))

    def test_echo_returns_10_megabytes_exactly(self):
        src = os.path.join(self.tmp.name, 'in.bin')
        dst = os.path.join(self.tmp.name, 'back.bin')
        with open(src, 'wb') as f:
            f.write(os.urandom(10 * MB))
        with kbtnet.KbtNet(echo_cmd('--mode', 'echo'), ready=kbtnet.KBT_READY) as net:
            r = net.run('sh', '-c', f'nc -N 198.18.0.2 7 < {src} > {dst}', timeout=120)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with open(src, 'rb') as a, open(dst, 'rb') as b:
            self.assertEqual(hashlib.sha256(a.read()).hexdigest(),
                             hashlib.sha256(b.read()).hexdigest())
        self.assertFalse(net.killed, 'app needed SIGKILL to exit')

    def test_source_sends_every_byte_after_the_clients_half_close(self):
        """The client's FIN ends only its own direction: source mode goes on
        to --bytes in CLOSE-WAIT, then sends its FIN (before the fix it
        stopped at the FIN: 261,040 of 100,000,000 bytes)."""
        n = 100_000_000
        code = (
            'import hashlib, socket, sys\n'
            's = socket.create_connection(("198.18.0.2", 19), timeout=30)\n'
            's.shutdown(socket.SHUT_WR)\n'
            'h = hashlib.sha256(); got = 0\n'
            'while True:\n'
            '    b = s.recv(1 << 20)\n'
            '    if not b: break\n'
            '    h.update(b); got += len(b)\n'
            'print(got, h.hexdigest())\n')
        with kbtnet.KbtNet(echo_cmd('--mode', 'source', '--bytes', str(n)),
                           ready=kbtnet.KBT_READY) as net:
            r = net.run(kbtnet.PYTHON, '-c', code, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        got, digest = r.stdout.split()
        self.assertEqual(int(got), n)  # exactly --bytes, then EOF
        self.assertEqual(digest, pattern(n))
        self.assertFalse(net.killed, 'app needed SIGKILL to exit')

    def test_echo_returns_everything_sent_before_the_clients_fin_then_closes(self):
        client = os.path.join(kbtnet.HERE, 'tcp_client.py')
        with kbtnet.KbtNet(echo_cmd('--mode', 'echo'), ready=kbtnet.KBT_READY) as net:
            for nbytes in (1, 5 * MB):
                # Sends, shuts down its side, reads the echo, then wants EOF.
                r = net.run(kbtnet.PYTHON, client, '--port', '7', '--bytes', str(nbytes),
                            '--timeout', '60', timeout=90)
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                self.assertIn(f'ok sent={nbytes} received={nbytes}', r.stdout)
        self.assertFalse(net.killed, 'app needed SIGKILL to exit')


class ReadmeExample(unittest.TestCase):
    def test_example_echo_server_echoes_with_half_close(self):
        exe = os.environ.get('KBT_EXAMPLE_ECHO',
                             os.path.join(kbtnet.REPO, 'build', 'examples', 'echo-server'))
        cmd = [exe, '--no-huge', '-m', '512', '--no-shconf', '--no-pci', '-l', '0',
               '--vdev=net_tap0,iface=kbt0', '--']
        client = os.path.join(kbtnet.HERE, 'tcp_client.py')
        with kbtnet.KbtNet(cmd, ready=r'^echo-server: port') as net:
            for nbytes in (1 << 20, 5 * MB):
                r = net.run(kbtnet.PYTHON, client, '--bytes', str(nbytes), '--timeout', '60',
                            timeout=90)
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                self.assertIn(f'ok sent={nbytes} received={nbytes}', r.stdout)
        self.assertFalse(net.killed, 'app needed SIGKILL to exit')


if __name__ == '__main__':
    unittest.main(verbosity=2)
