#!/usr/bin/python3
"""Malformed frames are dropped, counted per reason, and do not hurt the stack.

One of each, sent with scapy from the Linux side of the TAP to the stack's MAC:
  - an ICMP echo whose IPv4 header checksum is wrong  -> drop.ip_bad_checksum
  - 12 bytes of IPv4 header after Ethernet            -> drop.ip_truncated
  - a TCP SYN with data offset 3 (checksums valid)    -> drop.tcp_bad_data_offset
IPv6 is off on the kernel side, so nothing else malformed reaches the stack and
each counter must be exactly 1. None of them may be answered, and ping must
still work afterwards.

Run by hand: sudo /usr/bin/python3 tests/interop/test_malformed.py  (see README.md)
"""

import sys
import unittest

sys.dont_write_bytecode = True
import kbtnet  # noqa: E402
from scapy.all import ICMP, IP, TCP, Ether, Raw  # noqa: E402
from scapy.layers.inet import in4_chksum  # noqa: E402
from scapy.utils import checksum  # noqa: E402

ICMP_ID = 0x6b62
TCP_SPORT = 40001
REASONS = ('drop.ip_bad_checksum', 'drop.ip_truncated', 'drop.tcp_bad_data_offset')


def bad_ip_checksum(eth):
    ip = IP(src=kbtnet.KERNEL_IP, dst=kbtnet.STACK_IP) / ICMP(id=ICMP_ID, seq=1) / b'bad csum'
    good = IP(bytes(ip)).chksum
    bad = IP(bytes(ip))
    bad.chksum = (good + 0x1111) & 0xffff
    raw = bytes(bad)
    assert checksum(raw[:20]) != 0, 'header checksum unexpectedly valid'
    assert checksum(raw[20:]) == 0, 'ICMP checksum must stay valid'
    return eth / Raw(raw)


def truncated_ip(eth):
    ip = IP(src=kbtnet.KERNEL_IP, dst=kbtnet.STACK_IP) / ICMP(id=ICMP_ID, seq=2)
    return eth / Raw(bytes(ip)[:12])


def tcp_data_offset_3(eth):
    seg = IP(src=kbtnet.KERNEL_IP, dst=kbtnet.STACK_IP) / TCP(
        sport=TCP_SPORT, dport=80, flags='S', seq=1000, dataofs=3)
    raw = bytes(seg)
    assert raw[32] >> 4 == 3 and len(raw) == 40
    assert checksum(raw[:20]) == 0, 'IPv4 checksum must be valid'
    assert in4_chksum(6, IP(raw), raw[20:]) == 0, 'TCP checksum must be valid'
    return eth / Raw(raw)


def answered(frames):
    """Frames from the stack that answer one of ours (there must be none)."""
    out = []
    for b in frames:
        p = Ether(b)
        if ICMP in p and p[ICMP].type == 0 and p[ICMP].id == ICMP_ID:
            out.append(p.summary())
        if TCP in p and p[TCP].dport == TCP_SPORT:
            out.append(p.summary())
    return out


class Malformed(unittest.TestCase):
    def test_malformed_frames_are_dropped_and_counted(self):
        with kbtnet.KbtNet(kbtnet.httpd_cmd(), ready=kbtnet.KBT_READY) as net:
            eth = Ether(dst=net.stack_mac(), src=net.kernel_mac(), type=0x0800)
            frames = [bad_ip_checksum(eth), truncated_ip(eth), tcp_data_offset_3(eth)]
            replies = net.exchange(frames, listen=1.5)
            self.assertEqual(answered(replies), [], 'a malformed frame was answered')

            net.wait_for_stats(lambda s: all(s.get(k, 0) >= 1 for k in REASONS),
                               timeout=10, what=' and '.join(f'{k}>=1' for k in REASONS))
            stats = net.wait_for_new_stats()  # one more line: nothing else trickles in
            for key in REASONS:
                with self.subTest(counter=key):
                    self.assertEqual(stats.get(key), 1, stats)
            if 'drops' in stats:
                self.assertGreaterEqual(stats['drops'], len(REASONS), stats)

            tx, rx, out = net.ping(count=5, interval=0.1)
            self.assertEqual(rx, 5, out)
        self.assertFalse(net.killed, 'app needed SIGKILL to exit')


if __name__ == '__main__':
    unittest.main(verbosity=2)
