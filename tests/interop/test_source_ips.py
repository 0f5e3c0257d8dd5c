#!/usr/bin/python3
"""kbt-load --source-ips (issue 15): one generator past one address's ports.

Over memif (as test_burst.py): kbt-load with --local-ports 40000-40999
(1,000 ports) opens 3,000 keep-alive connections at once to kbt-httpd's one
ip:port, from 198.18.0.10-198.18.0.12. All connect, with 0 errors and 0 SYN
retransmissions or RTO expiries on either side; kbt-httpd's own capture shows
1,000 SYNs from each address, 3,000 distinct (address, port) pairs, all to
198.18.0.2:80. The control run without --source-ips stops at the 1,000
connections one address's range allows. 70,000 connections (past 65,535
with 2 addresses) prove the same at ~5 GB per process today (kbt-httpd's
--max-conns slots, issue 17) and minutes under ASan: the small port range
makes the same point at a fraction of the cost.

Over TAP: Linux pings and arpings each source address, learns the stack's
MAC for each, and its nginx sees connections from each.

Run by hand: sudo /usr/bin/python3 tests/interop/test_source_ips.py
"""

import collections
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True
import kbtnet  # noqa: E402
from test_burst import SERVER_IP, memif_pair  # noqa: E402
from test_load import URL, load_cmd, nginx  # noqa: E402

PORTS = (40000, 40999)  # 1,000 source ports per address
SOURCES = ['198.18.0.10', '198.18.0.11', '198.18.0.12']
CONNECTIONS = 3 * (PORTS[1] - PORTS[0] + 1)
SYN_LINE = re.compile(r' IP (\d+\.\d+\.\d+\.\d+)\.(\d+) > (\d+\.\d+\.\d+\.\d+)\.(\d+): Flags \[S\]')


def json_result(stdout):
    return json.loads([l for l in stdout.splitlines() if l.startswith('{')][-1])


def syns_in(pcap):
    """(src, sport, dst, dport) of every SYN (no ACK) in the capture, by tcpdump."""
    r = subprocess.run(['tcpdump', '-nn', '-r', pcap, 'tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn'],
                       capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        raise kbtnet.HarnessError(f'tcpdump -r {pcap}: {r.stderr}')
    return [(m[1], int(m[2]), m[3], int(m[4])) for m in map(SYN_LINE.search, r.stdout.splitlines())
            if m]


class SourceIpsOverMemif(unittest.TestCase):
    def run_load(self, tag, *extra):
        """CONNECTIONS at once from PORTS; returns (kbt-load result, client stats,
        server stats, SYNs kbt-httpd received)."""
        with tempfile.TemporaryDirectory(prefix='kbt-srcips-') as tmp:
            pcap = os.path.join(tmp, 'server.pcapng')
            cli, server_out = memif_pair(
                f'kbtsrcips-{os.getpid()}-{tag}',
                ['--max-conns', '4096', '--pcap', pcap, '--pcap-limit', '30000'],
                ['--max-conns', '4096', '--local-ports', f'{PORTS[0]}-{PORTS[1]}',
                 '--connections', str(CONNECTIONS), '--duration', '2', '--rate', '3000',
                 '--start-delay', '1', '--timeout', '3', *extra],
                timeout=60, memory_mb=768)
            syns = syns_in(pcap)
        # The SYN counts below hold only for a capture that missed nothing.
        capture = re.search(r'pcap .*: (\d+) packets written, (\d+) not captured', server_out)
        self.assertIsNotNone(capture, server_out[-2000:])
        self.assertEqual(int(capture.group(2)), 0, capture.group(0))
        result = json_result(cli.stdout)
        return (cli, result, kbtnet.latest_stats(cli.stdout + cli.stderr),
                kbtnet.latest_stats(server_out), syns)

    def test_three_addresses_hold_three_times_one_addresss_ports(self):
        cli, result, client, server, syns = self.run_load(
            'three', '--source-ips', f'{SOURCES[0]}-{SOURCES[-1]}')
        print(f'{CONNECTIONS} from {len(SOURCES)} addresses x {PORTS[0]}-{PORTS[1]}: '
              f'connects={result["connects"]} errors={result["errors"]["total"]} '
              f'server SYNs by source={dict(collections.Counter(s[0] for s in syns))}')
        self.assertEqual(cli.returncode, 0, cli.stdout[-2000:] + cli.stderr[-3000:])
        self.assertIn(f'source addresses {SOURCES[0]}-{SOURCES[-1]} (3), ports 40000-40999 each',
                      cli.stdout)
        self.assertEqual(result['connects'], CONNECTIONS, result)
        self.assertEqual(result['errors']['total'], 0, result)
        self.assertEqual(result['in_flight_at_end']['connects'], 0, result)
        for who, s in (('server', server), ('client', client)):
            self.assertEqual(s.get('tcp_syn_retransmits', 0), 0, f'{who}: {s}')
            # A late peer may make the RTO fire (an ASan build on a busy
            # machine); a lost segment may not.
            self.assertEqual(kbtnet.lost_segment_timeouts(s), 0,
                             f'{who}: a timeout for a lost segment: {s}')
        self.assertEqual(client.get('tcp_ports_exhausted', 0), 0, client)
        # The server's view: every SYN to its one ip:port, 1,000 from each
        # address, no (address, port) twice.
        self.assertEqual({(s[2], s[3]) for s in syns}, {(SERVER_IP, 80)})
        self.assertEqual(collections.Counter(s[0] for s in syns),
                         {a: CONNECTIONS // 3 for a in SOURCES})
        self.assertEqual(len({(s[0], s[1]) for s in syns}), CONNECTIONS)
        self.assertTrue(all(PORTS[0] <= s[1] <= PORTS[1] for s in syns))
        # Every connection was open at the end: the server was told of each abort.
        self.assertEqual(server.get('tcp_rst_in', 0), CONNECTIONS, server)

    def test_one_address_stops_at_its_port_range(self):
        # The control: the same load from --ip's address alone.
        _, result, client, _, syns = self.run_load('one')
        print(f'{CONNECTIONS} from one address: connects={result["connects"]} '
              f'ports_exhausted={client.get("tcp_ports_exhausted")}')
        self.assertEqual(result['connects'], CONNECTIONS // 3, result)
        self.assertGreater(client.get('tcp_ports_exhausted', 0), 0, client)
        self.assertEqual({s[0] for s in syns}, {'198.18.0.3'})


class SourceIpsOverTap(unittest.TestCase):
    def test_linux_reaches_each_source_address(self):
        duration = 6
        cmd = load_cmd('--url', URL, '--source-ips', f'{SOURCES[0]}-{SOURCES[-1]}',
                       '--connections', '6', '--duration', str(duration), '--json')
        with tempfile.TemporaryDirectory(prefix='kbt-srcips-tap-') as tmp:
            with kbtnet.KbtNet(cmd) as net:
                with nginx(net, tmp):  # up before kbt-load's --start-delay is over
                    mac = net.stack_mac()
                    for a in SOURCES:
                        _, received, out = net.ping(count=2, interval=0.2, dst=a)
                        self.assertEqual(received, 2, f'ping {a}: {out}')
                        self.assertEqual(net.stack_mac(dst=a), mac, f'arping {a}')

                    def peers():
                        r = net.run('ss', '-Htn', 'state', 'established', 'sport', '= :8080')
                        return {l.split()[-1].rsplit(':', 1)[0] for l in r.stdout.splitlines()}
                    kbtnet.wait_for(lambda: set(SOURCES) <= peers(), duration, interval=0.1,
                                    what=f'nginx connections from each of {SOURCES}')
                    net.proc.wait(timeout=duration + 30)
        self.assertEqual(net.returncode, 0, net.describe())
        result = json_result(net.stdout)
        # nginx ends a keep-alive connection after 100 requests: kbt-load reconnects.
        self.assertGreaterEqual(result['connects'], 6, result)
        self.assertGreater(result['requests'], 0, result)
        self.assertEqual(result['errors']['total'], 0, result)


if __name__ == '__main__':
    kbtnet.require_root()
    unittest.main(verbosity=2)
