#!/usr/bin/python3
"""--pcap FILE / --pcap-limit N: a pcapng capture of what kbt-test-echo
receives and sends, read back with tcpdump on the host after the app exited.

Run by hand: sudo /usr/bin/python3 tests/interop/test_pcap.py
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True
import kbtnet  # noqa: E402
from test_tcp_linux import CLIENT, echo_cmd  # noqa: E402

PROGRAM = 'kbt-test-echo'
NO_DEVICE_EAL = ['--no-huge', '-m', '256', '--no-shconf', '--no-pci', '-l', '0']
SUMMARY = re.compile(r'^' + re.escape(PROGRAM) +
                     r': pcap (\S+): (\d+) packets written, (\d+) not captured')


def tcpdump(path):
    """tcpdump -nn -r path on the host: (returncode, packet lines, stderr)."""
    r = subprocess.run(['tcpdump', '-nn', '-r', path], capture_output=True, text=True,
                       timeout=30, stdin=subprocess.DEVNULL)
    return r.returncode, [l for l in r.stdout.splitlines() if l.strip()], r.stderr


class Pcap(unittest.TestCase):
    def setUp(self):
        kbtnet.require_root()
        if shutil.which('tcpdump') is None:
            self.fail('tcpdump is not installed')
        self.tmp = tempfile.mkdtemp(prefix='kbt-pcap-')
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.path = os.path.join(self.tmp, 'cap.pcapng')

    def run_echo(self, limit, nbytes):
        cmd = echo_cmd() + ['--pcap', self.path, '--pcap-limit', str(limit)]
        with kbtnet.KbtNet(cmd, ready=kbtnet.KBT_READY) as net:
            r = net.run(kbtnet.PYTHON, CLIENT, '--bytes', str(nbytes), '--timeout', '60',
                        timeout=90)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn(f'ok sent={nbytes} received={nbytes}', r.stdout)
        self.assertEqual(net.returncode, 0, net.describe())
        self.assertFalse(net.killed, 'app needed SIGKILL to exit')
        lines = [l for l in net.stdout.splitlines() if l.strip()]
        self.assertTrue(lines, net.describe())
        m = SUMMARY.match(lines[-1])
        self.assertIsNotNone(m, f'last line is not the pcap summary: {lines[-1]!r}')
        self.assertEqual(m.group(1), self.path)
        return net, int(m.group(2)), int(m.group(3))

    def test_transfer_is_captured_and_readable(self):
        _, written, missed = self.run_echo(1000, 10000)
        rc, packets, err = tcpdump(self.path)
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(packets), written, '\n'.join(packets))
        self.assertEqual(missed, 0)
        syn = [p for p in packets if 'Flags [S],' in p]
        synack = [p for p in packets if 'Flags [S.],' in p]
        self.assertTrue(any(f'{kbtnet.KERNEL_IP}.' in p and f'> {kbtnet.STACK_IP}.7:' in p
                            for p in syn), '\n'.join(packets))
        self.assertTrue(any(f'{kbtnet.STACK_IP}.7 >' in p and f'> {kbtnet.KERNEL_IP}.' in p
                            for p in synack), '\n'.join(packets))
        # Both directions, the data and the FINs: far more than the handshake.
        self.assertGreater(written, 10)
        self.assertLess(written, 1000)

    def test_limit_stops_the_capture(self):
        _, written, _ = self.run_echo(10, 10000)
        self.assertEqual(written, 10)
        rc, packets, err = tcpdump(self.path)
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(packets), 10, '\n'.join(packets))

    def test_unwritable_path_fails_at_start(self):
        exe = echo_cmd()[0]
        r = subprocess.run([exe, *NO_DEVICE_EAL, '--', '--pcap', '/nonexistent-dir/x.pcapng'],
                           capture_output=True, text=True, timeout=30,
                           stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        ours = [l for l in r.stderr.splitlines() if l.startswith(PROGRAM + ':')]
        self.assertEqual(len(ours), 1, r.stderr)
        self.assertIn('--pcap', ours[0])
        self.assertIn('No such file or directory', ours[0])
        self.assertFalse(os.path.exists('/nonexistent-dir/x.pcapng'))


if __name__ == '__main__':
    unittest.main(verbosity=2)
