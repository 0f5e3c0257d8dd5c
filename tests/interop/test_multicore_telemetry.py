#!/usr/bin/python3
"""kbt-test-echo on two cores over one TAP (software steering: the TAP's
queues follow the kernel's hash, kbt's cores own flows by the Toeplitz hash
of rss_table), with Linux clients; and the DPDK telemetry commands
/kbt/stats and /kbt/tcp/states read with dpdk-telemetry.py while it runs.

Run by hand: sudo /usr/bin/python3 tests/interop/test_multicore_telemetry.py
"""

import json
import os
import subprocess
import sys
import unittest

sys.dont_write_bytecode = True
import kbtnet  # noqa: E402
import test_tcp_linux  # noqa: E402

CLIENT = os.path.join(kbtnet.HERE, 'tcp_client.py')
TELEMETRY = '/usr/bin/dpdk-telemetry.py'
KBT_STAT = os.path.join(kbtnet.REPO, 'scripts', 'kbt-stat')
STATES = ['CLOSED', 'LISTEN', 'SYN_SENT', 'SYN_RCVD', 'ESTABLISHED', 'FIN_WAIT_1',
          'FIN_WAIT_2', 'CLOSE_WAIT', 'CLOSING', 'LAST_ACK', 'TIME_WAIT']


def echo_cmd(prefix, lcores):
    # Our own file prefix: the telemetry socket is /var/run/dpdk/<prefix>/.
    return test_tcp_linux.echo_cmd(lcores, ('--file-prefix', prefix))


def parse_answers(stdout, commands):
    """The JSON answers of `commands` in dpdk-telemetry.py's output, in order."""
    answers = [json.loads(line) for line in stdout.splitlines() if line.startswith('{')]
    # The first line is the socket's greeting (version, pid, max_output_len).
    replies = [a for a in answers if not ('version' in a and 'pid' in a)]
    if len(replies) != len(commands):
        raise AssertionError(f'expected {len(commands)} answers, got: {stdout}')
    return [reply[cmd] for reply, cmd in zip(replies, commands)]


def telemetry(prefix, *commands):
    r = subprocess.run([kbtnet.PYTHON, TELEMETRY, '-f', prefix],
                       input=''.join(c + '\n' for c in commands), capture_output=True,
                       text=True, timeout=20)
    if r.returncode != 0:
        raise AssertionError('dpdk-telemetry.py failed: ' + r.stdout + r.stderr)
    return parse_answers(r.stdout, commands)


# Runs in the namespace: holds three connections open, then reads the
# telemetry once all three show as ESTABLISHED (bounded: 10 s).
HOLDER = """
import json, socket, subprocess, sys, time
held = [socket.create_connection(('198.18.0.2', 7), timeout=10) for _ in range(3)]
out = ''
for _ in range(100):
    r = subprocess.run([sys.executable, '{telemetry}', '-f', '{prefix}'],
                       input='/kbt/tcp/states\\n/kbt/stats\\n', capture_output=True,
                       text=True, timeout=20)
    out = r.stdout
    states = [json.loads(l) for l in out.splitlines() if '/kbt/tcp/states' in l]
    if states and states[0]['/kbt/tcp/states']['ESTABLISHED'] == 3:
        break
    time.sleep(0.1)
print(out)
r = subprocess.run([sys.executable, '{kbt_stat}', '-f', '{prefix}'], capture_output=True,
                   text=True, timeout=20)
print('--- kbt-stat rc=%d' % r.returncode)
print(r.stdout + r.stderr)
"""


class TwoCoresAndTelemetry(unittest.TestCase):
    def client(self, net, nbytes):
        r = net.run(kbtnet.PYTHON, CLIENT, '--bytes', str(nbytes), '--timeout', '60', timeout=90)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(f'ok sent={nbytes} received={nbytes}', r.stdout)

    def test_connections_spread_over_two_cores_with_software_steering(self):
        prefix = f'kbt-it-mc-{os.getpid()}'
        try:
            with kbtnet.KbtNet(echo_cmd(prefix, '0-1'), ready=kbtnet.KBT_READY) as net:
                self.assertIn('2 core(s)', net.stdout)
                for _ in range(24):
                    self.client(net, 20000)
                stats, states = telemetry(prefix, '/kbt/stats', '/kbt/tcp/states')
        finally:
            kbtnet.remove_dpdk_runtime(prefix)  # the app has exited
        self.assertFalse(net.killed, 'app needed SIGKILL to exit')
        self.assertEqual(stats['cores'], 2)
        per_core = [stats['core0'], stats['core1']]
        opens = [c['tcp_passive_opens'] for c in per_core]
        print(f'passive opens per core {opens}, steered_out '
              f'{[c["steered_out"] for c in per_core]}')
        self.assertEqual(sum(opens), 24)
        self.assertGreater(opens[0], 0)
        self.assertGreater(opens[1], 0)
        # Frames of flows a core does not own went to the owner, all of them.
        # (Whether a segment ever met a core without its connection is
        # checked in the simulator, tests/sim/multicore_test.cc, where no
        # late duplicate from Linux can draw a legitimate RST.)
        self.assertGreater(stats['steered_out'], 0)
        self.assertEqual(stats['steered_out'], stats['steered_in'] - stats['arp_shared'])
        self.assertEqual(stats['drop_steer_queue_full'], 0)
        self.assertEqual(sorted(states), sorted(STATES))

    def test_telemetry_counts_connections_by_state(self):
        prefix = f'kbt-it-tel-{os.getpid()}'
        try:
            with kbtnet.KbtNet(echo_cmd(prefix, '0'), ready=kbtnet.KBT_READY) as net:
                self.client(net, 5000)
                r = net.run(kbtnet.PYTHON, '-c',
                            HOLDER.format(telemetry=TELEMETRY, prefix=prefix, kbt_stat=KBT_STAT),
                            timeout=60)
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                telemetry_out, stat_out = r.stdout.split('--- kbt-stat ', 1)
                states, stats = parse_answers(telemetry_out, ['/kbt/tcp/states', '/kbt/stats'])
        finally:
            kbtnet.remove_dpdk_runtime(prefix)  # the app has exited
        # scripts/kbt-stat's netstat-like view of the same moment.
        self.assertTrue(stat_out.startswith('rc=0'), stat_out)
        self.assertRegex(stat_out, r'ESTABLISHED +3\n')
        self.assertRegex(stat_out, r' +4  passive opens')
        self.assertFalse(net.killed, 'app needed SIGKILL to exit')
        self.assertEqual(states['ESTABLISHED'], 3)
        self.assertEqual(states['LISTEN'], 0)  # listeners are not connections
        self.assertEqual(stats['tcp_passive_opens'], 4)
        self.assertEqual(stats['cores'], 1)
        self.assertEqual(stats['core0']['tcp_passive_opens'], 4)
        self.assertGreater(stats['rx_pkts'], 0)


if __name__ == '__main__':
    unittest.main(verbosity=2)
