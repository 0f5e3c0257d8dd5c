#!/usr/bin/python3
"""kbt's TCP against Linux's: the kernel connects to kbt-test-echo over the
TAP, sends data, half-closes, reads the echo and the FIN. Everything stays in
the test's namespace.

Run by hand: sudo /usr/bin/python3 tests/interop/test_tcp_linux.py
"""

import os
import sys
import unittest

sys.dont_write_bytecode = True
import kbtnet  # noqa: E402

CLIENT = os.path.join(kbtnet.HERE, 'tcp_client.py')


def echo_cmd(lcores='0', eal_extra=()):
    """kbt-test-echo on TAP kbt0 at 198.18.0.2, port 7, one stats line a second."""
    exe = os.environ.get('KBT_TEST_ECHO',
                         os.path.join(kbtnet.REPO, 'build', 'tests', 'interop', 'kbt-test-echo'))
    return [exe, '--no-huge', '-m', '512', '--no-shconf', '--no-pci', '-l', lcores, *eal_extra,
            '--vdev=net_tap0,iface=kbt0', '--', '--ip', '198.18.0.2/24', '--port', '7',
            '--stats-interval', '1']


class TcpWithLinux(unittest.TestCase):
    def client(self, net, nbytes):
        r = net.run(kbtnet.PYTHON, CLIENT, '--bytes', str(nbytes), '--timeout', '60', timeout=90)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(f'ok sent={nbytes} received={nbytes}', r.stdout)

    def test_echo_one_megabyte_with_half_close(self):
        with kbtnet.KbtNet(echo_cmd(), ready=kbtnet.KBT_READY) as net:
            self.client(net, 1 << 20)
        self.assertFalse(net.killed, 'app needed SIGKILL to exit')

    def test_twenty_connections_one_after_another(self):
        with kbtnet.KbtNet(echo_cmd(), ready=kbtnet.KBT_READY) as net:
            for _ in range(20):
                self.client(net, 10000)
        self.assertFalse(net.killed, 'app needed SIGKILL to exit')


if __name__ == '__main__':
    unittest.main(verbosity=2)
