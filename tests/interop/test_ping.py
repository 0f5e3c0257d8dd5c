#!/usr/bin/python3
"""kbt-httpd answers ping and ARP from the Linux kernel over a TAP.

Run by hand: sudo /usr/bin/python3 tests/interop/test_ping.py  (see README.md)
"""

import sys
import unittest

sys.dont_write_bytecode = True
import kbtnet  # noqa: E402


def start_httpd():
    return kbtnet.KbtNet(kbtnet.httpd_cmd(), ready=kbtnet.KBT_READY)


class Ping(unittest.TestCase):
    def test_ping_20_replies(self):
        with start_httpd() as net:
            tx, rx, out = net.ping(count=20, interval=0.05)
            self.assertEqual(tx, 20, out)
            self.assertEqual(rx, 20, out)
        self.assertFalse(net.killed, 'app needed SIGKILL to exit')

    def test_arping_3_replies(self):
        with start_httpd() as net:
            sent, got, out = net.arping(count=3)
            self.assertEqual(got, 3, out)
        self.assertFalse(net.killed, 'app needed SIGKILL to exit')


if __name__ == '__main__':
    unittest.main(verbosity=2)
