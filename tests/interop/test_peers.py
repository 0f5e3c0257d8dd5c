#!/usr/bin/python3
"""Real peers and misbehaving ones (issue 14), over kbt's default TAP set-up
in the test's own namespace (198.18.0.0/24):

- every write size from 1 to 2,000 bytes through kbt-echo's echo mode, each
  byte back exactly (chained segments with odd-length pieces once left the
  TAP with wrong checksums);
- 1,000 pipelined requests in one write to kbt-httpd, each answered.

Every test also fails if the namespace's kernel counted a bad checksum on
anything the stack sent (kbtnet's check_checksums).

Run by hand: sudo /usr/bin/python3 tests/interop/test_peers.py
"""

import json
import os
import sys
import unittest

sys.dont_write_bytecode = True
import kbtnet  # noqa: E402
import test_httpd  # noqa: E402


def echo_cmd(*flags):
    exe = os.environ.get('KBT_ECHO', os.path.join(kbtnet.REPO, 'build', 'apps', 'kbt-echo'))
    return [exe, '--no-huge', '-m', '512', '--no-shconf', '--no-pci', '-l', '0',
            '--vdev=net_tap0,iface=kbt0', '--', '--ip', f'{kbtnet.STACK_IP}/24',
            '--stats-interval', '1', *flags]


# Writes argv[1]..argv[2] bytes, one write per size, with TCP_NODELAY and a
# pause now and then so that Linux does not merge them all; a thread reads
# the echo meanwhile. Byte p of the stream is p mod 251. Prints JSON.
SWEEP_CLIENT = r'''
import json, socket, sys, threading, time
first, last = int(sys.argv[1]), int(sys.argv[2])
sizes = range(first, last + 1)
total = sum(sizes)
pattern = bytes(range(251)) * ((last + 251) // 251 + 1)
s = socket.create_connection(('198.18.0.2', 7), timeout=10)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
s.settimeout(20)
got = bytearray()
def reader():
    try:
        while len(got) < total:
            d = s.recv(1 << 16)
            if not d:
                break
            got.extend(d)
    except OSError:
        pass
t = threading.Thread(target=reader)
t.start()
pos = 0
for n in sizes:
    s.sendall(pattern[pos % 251:pos % 251 + n])
    pos += n
    if n % 3 == 0:
        time.sleep(0.0003)
t.join(30)
bad = next((i for i in range(len(got)) if got[i] != i % 251), None)
print(json.dumps({'sent': total, 'received': len(got), 'first_wrong_byte': bad}))
'''


class WriteSizes(unittest.TestCase):
    def test_echo_of_every_write_size_from_1_to_2000_bytes_is_exact(self):
        with kbtnet.KbtNet(echo_cmd('--mode', 'echo'), ready=kbtnet.KBT_READY) as net:
            r = net.run(kbtnet.PYTHON, '-c', SWEEP_CLIENT, '1', '2000', timeout=90)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            out = json.loads(r.stdout)
            errors = net.read_kernel_errors()
        print(f'sweep 1..2000: sent {out["sent"]} received {out["received"]}, '
              f'kernel {errors}, stack {net.final_stats}')
        self.assertEqual(out['received'], out['sent'])
        self.assertIsNone(out['first_wrong_byte'])
        self.assertEqual(errors['TcpInCsumErrors'], 0, errors)
        self.assertEqual(net.final_stats.get('tcp_rto_expiries', 0), 0, net.final_stats)


class Pipelining(unittest.TestCase):
    def test_thousand_pipelined_requests_in_one_write_are_each_answered(self):
        request = b'GET / HTTP/1.1\r\nHost: kbt\r\n\r\n' * 1000
        with kbtnet.KbtNet(kbtnet.httpd_cmd('--body-size', '333'), ready=kbtnet.KBT_READY) as net:
            out = test_httpd.raw_exchange(net, request, 1000)
            errors = net.read_kernel_errors()
        body = test_httpd.pattern_body(333)
        print(f'1000 pipelined: {len(out["responses"])} responses, kernel {errors}')
        self.assertEqual(len(out['responses']), 1000)
        self.assertTrue(all(x['status'] == 200 and x['body'] == body for x in out['responses']))
        self.assertEqual(errors['TcpInCsumErrors'], 0, errors)


if __name__ == '__main__':
    kbtnet.require_root()
    unittest.main(verbosity=2)
