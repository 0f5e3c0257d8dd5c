#!/usr/bin/python3
"""Each kbt-flood --kind reaches kbt-httpd with its flags and valid checksums.

The rig of test_flood.py (kbt-httpd on kbt0, kbt-flood on kbt1, joined by
the bridge br0 that holds 198.18.0.1, spoofed sources 198.18.0.128/25
blackholed). For each kind, kbt-flood sends 2,000 packets/s for 1 s with
--payload-max 100 while tcpdump captures what the kernel hands kbt-httpd on
kbt0; scapy then checks every captured packet: TCP flags of its kind (syn,
ack, rst, fin+ack, syn+ack, psh+ack with data), first fragments (MF, offset
0, UDP) for frag, IPv4 and TCP checksums as recomputed by scapy. curl is
served after each kind, and kbt-httpd's fragment table stays within its
bound (ip_frags_held <= 256).

Run by hand: sudo /usr/bin/python3 tests/interop/test_flood_kinds.py
"""

import os
import signal
import subprocess
import sys
import time
import unittest

sys.dont_write_bytecode = True
import kbtnet  # noqa: E402
import test_flood as rig  # noqa: E402
from scapy.all import IP, TCP, rdpcap  # noqa: E402

RATE = 2000
KINDS = {'syn': 'S', 'ack': 'A', 'rst': 'R', 'fin': 'FA', 'syn-ack': 'SA', 'psh-ack': 'PA',
         'frag': None}


def checksums_ok(p):
    ip = p[IP]
    again = IP(bytes(ip))
    del again.chksum
    if IP(bytes(again)).chksum != ip.chksum:
        return False
    if ip.haslayer(TCP) and not ip.flags.MF and ip.frag == 0:
        t = ip.copy()
        del t[TCP].chksum
        if IP(bytes(t))[TCP].chksum != ip[TCP].chksum:
            return False
    return True


class FloodKinds(unittest.TestCase):
    def test_each_kind(self):
        tag = f'kbt-floodk-{os.getpid()}'
        results = {}
        try:
            with kbtnet.KbtNet(rig.httpd_cmd(tag), ready=kbtnet.KBT_READY) as net:
                for cmd in (['ip', 'link', 'set', 'kbt0', 'address', rig.HTTPD_TAP_MAC],
                            ['ip', 'link', 'add', 'br0', 'type', 'bridge'],
                            ['ip', 'link', 'set', 'br0', 'address', kbtnet.KERNEL_MAC],
                            ['ip', 'addr', 'flush', 'dev', 'kbt0'],
                            ['ip', 'link', 'set', 'kbt0', 'master', 'br0'],
                            ['ip', 'addr', 'add', f'{kbtnet.KERNEL_IP}/25', 'dev', 'br0'],
                            ['ip', 'link', 'set', 'br0', 'up'],
                            ['ip', 'route', 'add', 'blackhole', rig.SOURCES]):
                    net.run_checked(*cmd)
                for kind, flags in KINDS.items():
                    pcap = os.path.join(net.logdir, f'{kind}.pcap')
                    dump = subprocess.Popen(
                        ['ip', 'netns', 'exec', net.ns, 'tcpdump', '-i', 'kbt0', '-U', '-n',
                         '-w', pcap, 'src', 'net', rig.SOURCES],
                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                        start_new_session=True)
                    time.sleep(1.0)
                    out_path = os.path.join(net.logdir, f'flood-{kind}.stdout')
                    with open(out_path, 'w') as out_file:
                        flood = subprocess.Popen(
                            ['ip', 'netns', 'exec', net.ns] + rig.flood_cmd(
                                f'{tag}-{kind}', '--target', f'{kbtnet.STACK_IP}:80',
                                '--rate', str(RATE), '--duration', '1', '--sources',
                                rig.SOURCES, '--arp-timeout', '10', '--kind', kind,
                                '--payload-max', '100'),
                            stdin=subprocess.DEVNULL, stdout=out_file, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
                    try:
                        def started():
                            if flood.poll() is not None:
                                return True
                            with open(out_path) as f:
                                return 'kbt-flood: port 0' in f.read()
                        kbtnet.wait_for(started, 15, what='kbt-flood start-up line')
                        for cmd in (['ip', 'link', 'set', 'kbt1', 'address', rig.FLOOD_MAC],
                                    ['ip', 'link', 'set', 'kbt1', 'master', 'br0'],
                                    ['ip', 'link', 'set', 'kbt1', 'up']):
                            net.run(*cmd)
                        _, err = flood.communicate(timeout=30)
                    finally:
                        if flood.poll() is None:
                            os.killpg(flood.pid, signal.SIGKILL)
                            flood.communicate()
                        kbtnet.remove_dpdk_runtime(f'{tag}-{kind}-flood')
                    time.sleep(0.5)
                    os.killpg(dump.pid, signal.SIGINT)
                    dump.communicate(timeout=10)
                    self.assertEqual(flood.returncode, 0, err)
                    pkts = [p for p in rdpcap(pcap) if p.haslayer(IP)]
                    if flags is None:
                        good = [p for p in pkts if p[IP].flags.MF and p[IP].frag == 0
                                and p[IP].proto == 17]
                    else:
                        good = [p for p in pkts if p.haslayer(TCP) and str(p[TCP].flags) == flags
                                and (flags != 'PA' or len(p[TCP].payload) > 0)]
                    bad_ck = [p for p in pkts if not checksums_ok(p)]
                    r = net.run('curl', '-sS', '--max-time', '15', '-o', '/dev/null',
                                '-w', '%{http_code}', f'http://{kbtnet.STACK_IP}/', timeout=20)
                    results[kind] = (len(pkts), len(good), len(bad_ck), r.stdout)
                    print(f'--kind {kind}: {len(pkts)} captured, {len(good)} of its kind, '
                          f'{len(bad_ck)} bad checksums, curl {r.stdout}', file=sys.stderr)
                    self.assertGreater(len(pkts), 500, kind)
                    self.assertEqual(len(good), len(pkts), kind)
                    self.assertEqual(bad_ck, [], kind)
                    self.assertEqual(r.stdout, '200', kind)
                s = net.wait_for_new_stats()
                print('httpd:', {k: v for k, v in s.items() if 'frag' in k}, file=sys.stderr)
                self.assertLessEqual(s['ip_frags_held'], 256)
                self.assertGreater(s['ip_frags_in'], 0)
        finally:
            kbtnet.remove_dpdk_runtime(f'{tag}-httpd')


if __name__ == '__main__':
    os.chdir(kbtnet.HERE)
    unittest.main(verbosity=2)
