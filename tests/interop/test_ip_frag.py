#!/usr/bin/python3
"""IPv4 fragments reach kbt-httpd whole, and a flood of them stays bounded.

kbt-httpd on the TAP of the harness's namespace:
  - `ping -s 1473` (a 1,501-byte datagram, two fragments) and `ping -s 8000`
    (six fragments) from Linux, 5 each: all answered. The replies are longer
    than the 1,500-byte MTU and come back in fragments that Linux reassembles
    (the harness fails the test if the namespace counts any IP or ICMP
    checksum error in /proc/net/snmp).
  - scapy sends 300 first fragments of datagrams never completed (max_flows
    is 256), one ping-of-death fragment past 65,535 bytes and three
    overlapping fragments of one datagram: each outcome's counter on the
    `kbt stats:` line rises by exactly that, at most 256 datagrams are held,
    and once --ip-frag-timeout (5 s here; 30 s, Linux's ipfrag_time, by
    default) has passed since the first of them, and not before, every held
    fragment has timed out and mbufs_in_use is back to where it was before.

Run by hand: sudo /usr/bin/python3 tests/interop/test_ip_frag.py  (see README.md)
"""

import sys
import time
import unittest

sys.dont_write_bytecode = True
import kbtnet  # noqa: E402
from scapy.all import ICMP, IP, Ether, Raw  # noqa: E402

COUNT = 5
MAX_FLOWS = 256       # kbt's default (ip/reassembly.hh)
FRAG_FLOOD = 300
TIMEOUT_S = 5         # --ip-frag-timeout (kbt's default is Linux's ipfrag_time, 30)


def drop(s, reason):
    return s.get('drop.' + reason, 0)


class IpFragments(unittest.TestCase):
    def ping(self, net, size):
        r = net.run('ping', '-n', '-c', str(COUNT), '-i', '0.2', '-s', str(size),
                    '-W', '2', kbtnet.STACK_IP, timeout=20)
        tr = kbtnet.ping_received(r.stdout) or (None, None)
        return tr[0], tr[1], r.stdout + r.stderr

    def test_large_pings_and_a_fragment_flood(self):
        cmd = kbtnet.httpd_cmd('--ip-frag-timeout', str(TIMEOUT_S))
        with kbtnet.KbtNet(cmd, ready=kbtnet.KBT_READY) as net:
            for size, frags_out in ((1473, 2), (8000, 6)):
                before = net.wait_for_new_stats()
                tx, rx, out = self.ping(net, size)
                print(f'ping -s {size}: {tx} sent, {rx} received')
                self.assertEqual((tx, rx), (COUNT, COUNT), out)
                after = net.wait_for_stats(
                    lambda s, b=before: s['icmp_echo_replies'] >= b['icmp_echo_replies'] + COUNT)
                self.assertEqual(after['ip_reassembled'] - before['ip_reassembled'], COUNT)
                self.assertEqual(after['ip_frags_out'] - before['ip_frags_out'],
                                 COUNT * frags_out)

            base = net.wait_for_new_stats()
            mac = net.stack_mac()
            eth = Ether(dst=mac, src=net.kernel_mac())
            frames = []
            # RFC 791 §3.2: offset 65,528 + 28 bytes is past 65,535.
            frames.append(eth / IP(src=kbtnet.KERNEL_IP, dst=kbtnet.STACK_IP, id=9000,
                                   frag=8191, proto=17) / Raw(b'y' * 8))
            # Overlapping pieces of one datagram: 0-15 and 8-23, then the last
            # at 24: their sizes exceed the total, all three are dropped
            # (before the flood fills the table).
            for off, mf, n in ((0, True, 16), (1, True, 16), (3, False, 8)):
                frames.append(eth / IP(src=kbtnet.KERNEL_IP, dst=kbtnet.STACK_IP, id=9001,
                                       frag=off, flags='MF' if mf else 0, proto=17) /
                              Raw(b'z' * n))
            # First fragments of datagrams never completed, each its own id.
            for i in range(FRAG_FLOOD):
                frames.append(eth / IP(src=kbtnet.KERNEL_IP, dst=kbtnet.STACK_IP, id=1000 + i,
                                       flags='MF', proto=17) / Raw(b'x' * 64))
            sent_at = time.monotonic()
            net.exchange(frames, rate=5000)
            total = FRAG_FLOOD + 1 + 3
            held = net.wait_for_stats(lambda s: s['ip_frags_in'] >= base['ip_frags_in'] + total)
            print('after the flood:', {k: v for k, v in held.items()
                                       if k.startswith(('ip_', 'drop.ip_', 'mbufs'))})
            self.assertEqual(held['ip_frags_in'] - base['ip_frags_in'], total)
            self.assertEqual(held['ip_frags_held'], MAX_FLOWS)
            self.assertEqual(drop(held, 'ip_frag_table_full') - drop(base, 'ip_frag_table_full'),
                             FRAG_FLOOD - MAX_FLOWS)
            self.assertEqual(drop(held, 'ip_frag_too_big') - drop(base, 'ip_frag_too_big'), 1)
            self.assertEqual(drop(held, 'ip_frag_invalid') - drop(base, 'ip_frag_invalid'), 3)
            self.assertGreaterEqual(held['mbufs_in_use'], base['mbufs_in_use'] + MAX_FLOWS)

            t0 = time.monotonic()
            done = net.wait_for_stats(lambda s: s['ip_frags_held'] == 0, timeout=TIMEOUT_S + 10)
            waited = time.monotonic() - t0
            # A stats line shows the table empty only after the timeout ran
            # from the first fragment (it may show it later, never sooner).
            self.assertGreaterEqual(time.monotonic() - sent_at, TIMEOUT_S)
            print(f'held fragments timed out after {waited:.1f} s more:',
                  {k: v for k, v in done.items() if k.startswith(('ip_', 'drop.ip_', 'mbufs'))})
            self.assertEqual(drop(done, 'ip_frag_timeout') - drop(base, 'ip_frag_timeout'),
                             MAX_FLOWS)
            self.assertLessEqual(done['mbufs_in_use'], base['mbufs_in_use'])
            # Still answering.
            tx, rx, out = self.ping(net, 8000)
            self.assertEqual((tx, rx), (COUNT, COUNT), out)
        self.assertFalse(net.killed, 'app needed SIGKILL to exit')


if __name__ == '__main__':
    unittest.main(verbosity=2)
