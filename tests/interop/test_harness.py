#!/usr/bin/python3
"""Self-test of the interop harness (kbtnet.py), with dpdk-testpmd as the app.

testpmd in icmpecho mode answers ARP and ping on its TAP, which is enough to
prove the rig: namespace, TAP wait, addressing, Linux-side commands, raw frames
in and out, and above all that teardown leaves nothing behind: not on success,
not on an exception, not on SIGTERM, and (with the stale sweep) not on SIGKILL.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
import unittest

sys.dont_write_bytecode = True
import kbtnet  # noqa: E402
from scapy.all import ARP, ICMP, IP, Ether  # noqa: E402

CHILD = r'''
import sys, time
sys.dont_write_bytecode = True
sys.path.insert(0, {here!r})
import kbtnet
with kbtnet.KbtNet(kbtnet.testpmd_cmd(), ready=kbtnet.TESTPMD_READY) as net:
    print(net.ns, net.ns_inode, net.pid, net.logdir, kbtnet.file_prefix_of(net.app_cmd),
          flush=True)
    for _ in range(300):   # at most 30 s; the test signals us long before
        time.sleep(0.1)
'''


def ready_testpmd(**kw):
    return kbtnet.KbtNet(kbtnet.testpmd_cmd(), ready=kbtnet.TESTPMD_READY, **kw)


class Parsers(unittest.TestCase):
    def test_stats_line(self):
        text = ('junk\nkbt stats: rx_pkts=1 drops=0\n'
                'kbt stats: rx_pkts=12 rx_bytes=1200 drops=3 drop.ip_bad_checksum=1 '
                'rate=1.5 mode=auto\nnot stats\n')
        self.assertEqual(kbtnet.latest_stats(text),
                         {'rx_pkts': 12, 'rx_bytes': 1200, 'drops': 3,
                          'drop.ip_bad_checksum': 1, 'rate': 1.5, 'mode': 'auto'})
        self.assertEqual(len(kbtnet.parse_stats(text)), 2)
        self.assertIsNone(kbtnet.latest_stats('nothing here\n'))

    def test_ping_and_arping_summaries(self):
        self.assertEqual(kbtnet.ping_received(
            '20 packets transmitted, 19 received, 5% packet loss, time 950ms'), (20, 19))
        self.assertEqual(kbtnet.arping_received(
            'Sent 3 probes (1 broadcast(s))\nReceived 3 response(s)\n'), (3, 3))

    def test_wait_for_is_bounded(self):
        t0 = time.monotonic()
        with self.assertRaises(TimeoutError):
            kbtnet.wait_for(lambda: False, 0.3, interval=0.05)
        self.assertLess(time.monotonic() - t0, 2)
        self.assertEqual(kbtnet.wait_for(lambda: 42, 1), 42)


class Rig(unittest.TestCase):
    def assert_gone(self, ns, inode, pid, prefix):
        self.assertNotIn(ns, kbtnet.list_namespaces())
        self.assertFalse(os.path.exists(os.path.join(kbtnet.NETNS_DIR, ns)))
        self.assertEqual(kbtnet.pids_in_netns(inode), [])
        self.assertFalse(kbtnet._pid_alive(pid), f'app pid {pid} still alive')
        # The EAL's runtime directory goes too (testpmd makes one even with --no-shconf).
        self.assertTrue(prefix and prefix.startswith(kbtnet.TESTPMD_PREFIX), prefix)
        self.assertFalse(os.path.exists(os.path.join(kbtnet.DPDK_RUNTIME_DIR, prefix)))

    def test_traffic_and_clean_exit(self):
        with ready_testpmd() as net:
            ns, inode, pid = net.ns, net.ns_inode, net.pid
            prefix = kbtnet.file_prefix_of(net.app_cmd)
            self.assertTrue(os.path.isdir(os.path.join(kbtnet.DPDK_RUNTIME_DIR, prefix)))
            self.assertIn(ns, kbtnet.list_namespaces())
            self.assertIn(pid, kbtnet.pids_in_netns(inode))
            tx, rx, out = net.ping(count=5, interval=0.1)
            self.assertEqual((tx, rx), (5, 5), out)
            sent, got, out = net.arping(count=3)
            self.assertEqual(got, 3, out)
            mac, kmac = net.stack_mac(), net.kernel_mac()
            echo = (Ether(dst=mac, src=kmac) /
                    IP(src=kbtnet.KERNEL_IP, dst=kbtnet.STACK_IP) /
                    ICMP(id=0x4b42, seq=7) / b'kbt-harness')
            arp = Ether(dst='ff:ff:ff:ff:ff:ff', src=kmac) / ARP(
                op='who-has', hwsrc=kmac, psrc=kbtnet.KERNEL_IP, pdst=kbtnet.STACK_IP)
            replies = [Ether(b) for b in net.exchange([echo, arp], listen=1.0)]
            self.assertTrue(any(ICMP in r and r[ICMP].type == 0 and r[ICMP].id == 0x4b42
                                and r[ICMP].seq == 7 for r in replies),
                            [r.summary() for r in replies])
            self.assertTrue(any(ARP in r and r[ARP].op == 2 for r in replies),
                            [r.summary() for r in replies])
        self.assertFalse(net.killed)
        self.assertIsNotNone(net.returncode)
        self.assert_gone(ns, inode, pid, prefix)

    def test_teardown_on_exception(self):
        with self.assertRaises(ZeroDivisionError):
            with ready_testpmd() as net:
                ns, inode, pid = net.ns, net.ns_inode, net.pid
                prefix = kbtnet.file_prefix_of(net.app_cmd)
                1 / 0
        shutil.rmtree(net.logdir, ignore_errors=True)
        self.assert_gone(ns, inode, pid, prefix)

    def test_app_that_exits_early_is_reported(self):
        net = kbtnet.KbtNet(['false'], tap_timeout=5)
        with self.assertRaises(kbtnet.HarnessError) as cm:
            with net:
                pass
        shutil.rmtree(net.logdir, ignore_errors=True)
        self.assertIn('exited early', str(cm.exception))
        self.assertNotIn(net.ns, kbtnet.list_namespaces())

    def _child(self):
        p = subprocess.Popen([kbtnet.PYTHON, '-B', '-c', CHILD.format(here=kbtnet.HERE)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
        try:
            line = kbtnet.wait_for(p.stdout.readline, 30, what='child harness ready')
        except BaseException:
            p.kill()
            p.communicate()
            raise
        ns, inode, pid, logdir, prefix = line.split()
        self.addCleanup(shutil.rmtree, logdir, True)
        return p, ns, int(inode), int(pid), prefix

    def test_teardown_on_sigterm(self):
        p, ns, inode, pid, prefix = self._child()
        p.send_signal(signal.SIGTERM)
        try:
            p.communicate(timeout=15)
        finally:
            if p.poll() is None:
                p.kill()
                p.communicate()
        self.assert_gone(ns, inode, pid, prefix)

    def test_sigkill_leaves_only_a_namespace_that_the_next_run_sweeps(self):
        p, ns, inode, pid, prefix = self._child()
        p.kill()
        p.communicate(timeout=10)
        # PR_SET_PDEATHSIG: the app gets SIGTERM when its parent dies.
        kbtnet.wait_for(lambda: not kbtnet._pid_alive(pid), 15, what='orphaned app to exit')
        self.assertIn(ns, kbtnet.list_namespaces())
        self.assertTrue(os.path.isdir(os.path.join(kbtnet.DPDK_RUNTIME_DIR, prefix)))
        swept = kbtnet.clean_stale_namespaces()
        self.assertIn(ns, swept)
        self.assertIn(prefix, swept)
        self.assert_gone(ns, inode, pid, prefix)

    def test_stale_namespace_of_dead_pid_is_swept(self):
        dead = subprocess.Popen(['true'])
        dead.wait()
        ns = f'{kbtnet.NS_PREFIX}{dead.pid}-99'
        subprocess.run(['ip', 'netns', 'add', ns], check=True, timeout=10)
        try:
            self.assertIn(ns, kbtnet.clean_stale_namespaces())
            self.assertNotIn(ns, kbtnet.list_namespaces())
        finally:
            subprocess.run(['ip', 'netns', 'del', ns], capture_output=True, timeout=10)


if __name__ == '__main__':
    unittest.main(verbosity=2)
