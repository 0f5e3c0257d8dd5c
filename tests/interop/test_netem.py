#!/usr/bin/python3
"""Exact bytes under impairment: loss, delay, reordering, duplication (each
alone, then all at once) between Linux's TCP and kbt, in both directions.

curl fetches a multi-megabyte body from kbt-httpd (compared byte for byte
with the pattern), nc pushes random megabytes into kbt-echo's discard mode
(which prints the SHA-256 of what it got), pulls them out of source mode
(hashed here) and sends them through echo mode. Each scenario also checks
the stack's TCP counters from its final `kbt stats:` line (e.g.
tcp_retransmits > 0 under loss) and prints one summary line to stderr.

Why not `tc qdisc ... netem`: the kernel of the test machines is built
without it (CONFIG_NET_SCH_NETEM and CONFIG_NET_SCH_FQ unset, no loadable
modules, no /lib/modules), so `tc qdisc add ... netem` answers "Specified
qdisc kind is unknown". ifb, the ingress qdisc, u32 and act_mirred are
built in, so ingress redirection would work, but there is no netem to put
on the ifb. The impairment is therefore done in user space, by a bridge
this file runs in the namespace (`test_netem.py --bridge`, see
ImpairBridge), which impairs both directions the way netem would:

    kernel 198.18.0.1 on kbt1 (a TAP the bridge owns)
        <-> bridge: loss / delay+jitter / reorder / duplicate, per direction
        <-> kbt0 (the TAP of the DPDK app: no address, ARP off, and
                  rp_filter plus an iptables raw-table DROP keep the kernel's
                  IP layer from taking frames there; the bridge's packet
                  socket still sees them)
        <-> kbt at 198.18.0.2

Impairment parameters use netem's words: `loss P%` drops a frame with
probability P; `delay D jitter J` holds every frame D +- J ms (uniform;
frames then leave in time order, so jitter reorders like netem's tfifo);
`reorder P% gap G` holds a frame G ms longer than the rest, so the frames
behind it overtake it; `duplicate P%` sends a frame twice. Only IPv4 TCP
frames are impaired (ARP passes untouched); the RNG is seeded per scenario
(KBT_NETEM_SEED overrides the seed): the n-th frame meets the same fate in
every run, though the traffic's timing, and so which frame is n-th, varies.
One scenario is not netem's: it drops exactly one data frame of each
connection, to check that a lone loss is repaired by fast retransmit.

Everything stays inside the test's namespace (198.18.0.0/24); files live in
a temporary directory removed at the end.

Run by hand: sudo /usr/bin/python3 tests/interop/test_netem.py -v
"""

import fcntl
import hashlib
import heapq
import json
import os
import random
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True
import kbtnet  # noqa: E402

MB = 1 << 20
CYCLE = 251  # kbt-echo source mode's byte i is i mod 251 (apps/kbt-echo/echo_handler.hh)
BRIDGE_TAP = 'kbt1'            # kernel side, gets 198.18.0.1
APP_TAP = 'kbt0'               # the DPDK app's TAP
APP_TAP_MAC = '02:00:00:00:00:03'
# Generous: the ASan+UBSan build is several times slower than release.
CLIENT_TIMEOUT = 120


# ==========================================================================
# The bridge (runs inside the namespace as `test_netem.py --bridge ...`)

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
SOL_PACKET = 263
PACKET_STATISTICS = 6
SO_SNDBUFFORCE = 32  # not in Python's socket module
SO_RCVBUFFORCE = 33


class Impairment:
    """netem-like parameters of one direction (percent and milliseconds)."""

    def __init__(self, loss=0.0, delay=0.0, jitter=0.0, reorder=0.0, gap=0.0, duplicate=0.0,
                 drop_nth=0):
        self.loss, self.delay, self.jitter = loss, delay, jitter
        self.reorder, self.gap, self.duplicate = reorder, gap, duplicate
        # Not netem: drop the drop_nth frame with payload of each connection
        # (once; its retransmission is a later frame and passes).
        self.drop_nth = drop_nth

    def as_dict(self):
        return dict(loss=self.loss, delay=self.delay, jitter=self.jitter,
                    reorder=self.reorder, gap=self.gap, duplicate=self.duplicate,
                    drop_nth=self.drop_nth)

    def describe(self):
        parts = []
        if self.loss:
            parts.append(f'loss {self.loss:g}%')
        if self.delay or self.jitter:
            parts.append(f'delay {self.delay:g}ms' +
                         (f' jitter {self.jitter:g}ms' if self.jitter else ''))
        if self.reorder:
            parts.append(f'reorder {self.reorder:g}% gap {self.gap:g}ms')
        if self.duplicate:
            parts.append(f'duplicate {self.duplicate:g}%')
        if self.drop_nth:
            parts.append(f'drop data frame #{self.drop_nth} of each connection')
        return ' '.join(parts) or 'none'


def _is_ipv4_tcp(frame):
    return len(frame) >= 34 and frame[12:14] == b'\x08\x00' and frame[23] == 6


def _tcp_flow_and_payload(frame):
    """(4-tuple bytes, payload length) of an IPv4 TCP frame."""
    ihl = (frame[14] & 0x0F) * 4
    total = struct.unpack_from('!H', frame, 16)[0]
    tcp = 14 + ihl
    doff = (frame[tcp + 12] >> 4) * 4
    return frame[26:34] + frame[tcp:tcp + 4], total - ihl - doff


class ImpairBridge:
    """Moves frames between a TAP it creates (the kernel's side) and the
    app's TAP (through a packet socket), impairing each direction."""

    def __init__(self, tap, port, to_stack, to_kernel, seed):
        self.rng = random.Random(seed)
        self.imp = {'to_stack': to_stack, 'to_kernel': to_kernel}
        self.count = {d: dict(frames=0, passed=0, dropped=0, duplicated=0, reordered=0,
                              sent=0, send_errors=0) for d in self.imp}
        self.queue = []  # heap of (due, seq, direction, frame)
        self.data_frames = {}  # (direction, 4-tuple) -> frames with payload seen
        self.seq = 0
        self.tun = os.open('/dev/net/tun', os.O_RDWR | os.O_NONBLOCK)
        fcntl.ioctl(self.tun, TUNSETIFF, struct.pack('16sH', tap.encode(), IFF_TAP | IFF_NO_PI))
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        for opt in (SO_RCVBUFFORCE, SO_SNDBUFFORCE):
            try:
                self.sock.setsockopt(socket.SOL_SOCKET, opt, 8 * MB)
            except OSError:
                pass
        self.sock.bind((port, ETH_P_ALL))
        self.sock.setblocking(False)

    def _admit(self, direction, frame, now):
        c = self.count[direction]
        c['frames'] += 1
        imp = self.imp[direction]
        if not _is_ipv4_tcp(frame):
            self._push(now, direction, frame)
            return
        r = self.rng.random
        if imp.loss and r() * 100 < imp.loss:
            c['dropped'] += 1
            return
        if imp.drop_nth:
            flow, payload = _tcp_flow_and_payload(frame)
            if payload > 0:
                key = (direction, flow)
                self.data_frames[key] = self.data_frames.get(key, 0) + 1
                if self.data_frames[key] == imp.drop_nth:
                    c['dropped'] += 1
                    return
        copies = 1
        if imp.duplicate and r() * 100 < imp.duplicate:
            copies = 2
            c['duplicated'] += 1
        for _ in range(copies):
            hold = imp.delay
            if imp.jitter:
                hold += self.rng.uniform(-imp.jitter, imp.jitter)
            if imp.reorder and r() * 100 < imp.reorder:
                hold += imp.gap
                c['reordered'] += 1
            c['passed'] += 1
            self._push(now + max(hold, 0.0) / 1000.0, direction, frame)

    def _push(self, due, direction, frame):
        self.seq += 1
        heapq.heappush(self.queue, (due, self.seq, direction, frame))

    def _send(self, direction, frame):
        c = self.count[direction]
        try:
            if direction == 'to_stack':
                self.sock.send(frame)
            else:
                os.write(self.tun, frame)
            c['sent'] += 1
        except OSError:
            c['send_errors'] += 1  # a full queue: one more loss

    def _flush(self, now):
        while self.queue and self.queue[0][0] <= now:
            _, _, direction, frame = heapq.heappop(self.queue)
            self._send(direction, frame)

    def run(self, control):
        """Until `control` (stdin) reaches EOF; then print the counts."""
        print('bridge ready', flush=True)
        while True:
            now = time.monotonic()
            self._flush(now)
            timeout = max(0.0, self.queue[0][0] - now) if self.queue else 1.0
            readable, _, _ = select.select([self.tun, self.sock, control], [], [], timeout)
            now = time.monotonic()
            if self.tun in readable:
                for _ in range(256):
                    try:
                        frame = os.read(self.tun, 65536)
                    except BlockingIOError:
                        break
                    self._admit('to_stack', frame, now)
            if self.sock in readable:
                for _ in range(256):
                    try:
                        frame, addr = self.sock.recvfrom(65536)
                    except BlockingIOError:
                        break
                    if addr[2] == PACKET_OUTGOING:
                        continue
                    self._admit('to_kernel', frame, now)
            if control in readable:
                if not os.read(control, 4096):
                    break
        stats = self.sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)
        _, drops = struct.unpack('II', stats)
        out = {'counts': self.count, 'socket_drops': drops, 'unsent': len(self.queue)}
        print('bridge counts ' + json.dumps(out), flush=True)


def bridge_main(argv):
    import argparse
    p = argparse.ArgumentParser(prog='test_netem.py --bridge')
    p.add_argument('--tap', default=BRIDGE_TAP)
    p.add_argument('--port', default=APP_TAP)
    p.add_argument('--to-stack', default='{}', help='JSON Impairment kwargs')
    p.add_argument('--to-kernel', default='{}', help='JSON Impairment kwargs')
    p.add_argument('--seed', type=int, default=1)
    a = p.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    b = ImpairBridge(a.tap, a.port, Impairment(**json.loads(a.to_stack)),
                     Impairment(**json.loads(a.to_kernel)), a.seed)
    b.run(sys.stdin.fileno())
    return 0


# ==========================================================================
# The tests

def echo_cmd(*flags):
    exe = os.environ.get('KBT_ECHO', os.path.join(kbtnet.REPO, 'build', 'apps', 'kbt-echo'))
    return [exe, '--no-huge', '-m', '512', '--no-shconf', '--no-pci', '-l', '0',
            f'--vdev=net_tap0,iface={APP_TAP}', '--', '--ip', f'{kbtnet.STACK_IP}/24',
            '--stats-interval', '1', *flags]


def pattern_body(n):
    """The body kbt-httpd serves for GET / (responses.cc pattern_body): byte
    i is a newline when i % 64 == 63, else 'a' + i % 26; its period is
    lcm(64, 26) = 832 bytes."""
    period = bytes(10 if i % 64 == 63 else ord('a') + i % 26 for i in range(832))
    return (period * (n // 832 + 1))[:n]


def source_pattern_sha256(n):
    block = bytes(range(CYCLE)) * (MB // CYCLE)
    h = hashlib.sha256()
    done = 0
    while done < n:
        take = min(n - done, len(block))
        h.update(block[:take])
        done += take
    return h.hexdigest()


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(MB), b''):
            h.update(chunk)
    return h.hexdigest()


class Impaired:
    """KbtNet plus the bridge: the kernel at 198.18.0.1 reaches kbt only
    through the bridge, which impairs both directions."""

    def __init__(self, app_cmd, to_stack, to_kernel, seed):
        self.app_cmd = app_cmd
        self.to_stack, self.to_kernel = to_stack, to_kernel
        self.seed = int(os.environ.get('KBT_NETEM_SEED', seed))
        self.net = None
        self.bridge = None
        self.bridge_counts = None
        self.bridge_out = ''

    def __enter__(self):
        self.net = kbtnet.KbtNet(self.app_cmd, ready=kbtnet.KBT_READY)
        self.net.__enter__()
        try:
            self._rewire()
        except BaseException:
            self._stop_bridge()
            self.net.__exit__(*sys.exc_info())
            raise
        return self

    def __exit__(self, *exc):
        try:
            self._stop_bridge()
        finally:
            self.net.__exit__(*exc)
        return False

    def _ns(self, *cmd):
        r = self.net.run(*cmd, timeout=15)
        if r.returncode != 0:
            raise kbtnet.HarnessError(f'{" ".join(cmd)}: {r.stderr.strip()}')
        return r

    def _rewire(self):
        # The app's TAP stops being the kernel's interface: no address, no
        # ARP, and (rp_filter) nothing it delivers reaches the kernel's IP
        # layer; the packet socket of the bridge still sees every frame.
        self._ns('ip', 'addr', 'flush', 'dev', APP_TAP)
        self._ns('ip', 'link', 'set', APP_TAP, 'arp', 'off', 'address', APP_TAP_MAC)
        self._ns('sysctl', '-qw', 'net.ipv4.conf.all.rp_filter=1',
                 f'net.ipv4.conf.{APP_TAP}.rp_filter=1',
                 'net.ipv4.conf.default.rp_filter=1')
        self._ns('iptables', '-t', 'raw', '-A', 'PREROUTING', '-i', APP_TAP, '-j', 'DROP')
        self.bridge = subprocess.Popen(
            ['ip', 'netns', 'exec', self.net.ns, kbtnet.PYTHON, os.path.abspath(__file__),
             '--bridge', '--to-stack', json.dumps(self.to_stack.as_dict()),
             '--to-kernel', json.dumps(self.to_kernel.as_dict()), '--seed', str(self.seed)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, start_new_session=True, preexec_fn=kbtnet._pdeathsig_term)
        line = self._bridge_line(10)
        if line != 'bridge ready':
            raise kbtnet.HarnessError(f'bridge did not start: {line!r} '
                                      f'{self._bridge_rest()}')
        self._ns('sysctl', '-qw', f'net.ipv6.conf.{BRIDGE_TAP}.disable_ipv6=1')
        self._ns('ip', 'link', 'set', BRIDGE_TAP, 'address', kbtnet.KERNEL_MAC)
        self._ns('ip', 'addr', 'add', f'{kbtnet.KERNEL_IP}/24', 'dev', BRIDGE_TAP)
        self._ns('ip', 'link', 'set', BRIDGE_TAP, 'up')

    def _bridge_line(self, timeout):
        ready, _, _ = select.select([self.bridge.stdout], [], [], timeout)
        if not ready:
            return None
        return self.bridge.stdout.readline().strip()

    def _bridge_rest(self):
        try:
            out, err = self.bridge.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            return ''
        return out + err

    def _stop_bridge(self):
        b = self.bridge
        if b is None:
            return
        self.bridge = None
        try:
            out, err = b.communicate(input='', timeout=10)  # EOF: print counts, exit
        except subprocess.TimeoutExpired:
            os.killpg(b.pid, signal.SIGKILL)
            out, err = b.communicate()
        self.bridge_out = out + err
        m = re.search(r'^bridge counts (.*)$', out, re.M)
        if m:
            self.bridge_counts = json.loads(m.group(1))

    def run(self, *cmd, timeout=CLIENT_TIMEOUT):
        return self.net.run(*cmd, timeout=timeout)


class NetemScenarios(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix='kbt-netem-test-')

    def tearDown(self):
        self.tmp.cleanup()

    # ---- helpers

    def impaired(self, app_cmd, to_stack, to_kernel=None, seed=1):
        return Impaired(app_cmd, to_stack, to_stack if to_kernel is None else to_kernel, seed)

    def finish(self, name, env, nbytes, seconds):
        """Common checks after the app exited; returns its final stats."""
        net = env.net
        self.assertFalse(net.killed, 'app needed SIGKILL to exit')
        stats = net.final_stats
        self.assertIsNotNone(stats, 'no final stats line')
        self.assertIsNotNone(env.bridge_counts, f'bridge gave no counts: {env.bridge_out}')
        c = env.bridge_counts['counts']
        print(f'\nnetem {name}: {nbytes} bytes in {seconds:.2f}s '
              f'tcp_retransmits={stats.get("tcp_retransmits", 0)} '
              f'fast={stats.get("tcp_fast_retransmits", 0)} '
              f'rto={stats.get("tcp_rto_expiries", 0)} '
              f'ooo={stats.get("tcp_ooo_queued", 0)} '
              f'dupacks_in={stats.get("tcp_dup_acks_in", 0)} '
              f'oow={stats.get("tcp_out_of_window", 0)} | '
              f'to_stack {env.to_stack.describe()} '
              f'(dropped={c["to_stack"]["dropped"]} dup={c["to_stack"]["duplicated"]} '
              f'reord={c["to_stack"]["reordered"]}) '
              f'to_kernel {env.to_kernel.describe()} '
              f'(dropped={c["to_kernel"]["dropped"]} dup={c["to_kernel"]["duplicated"]} '
              f'reord={c["to_kernel"]["reordered"]}) '
              f'bridge_socket_drops={env.bridge_counts["socket_drops"]} seed={env.seed}',
              file=sys.stderr)
        for d in ('to_stack', 'to_kernel'):
            self.assertEqual(c[d]['send_errors'], 0, f'bridge could not send ({d}): {c}')
        return stats, c

    def curl_body(self, name, body, to_stack, to_kernel=None, seed=1):
        out = os.path.join(self.tmp.name, 'body')
        env = self.impaired(kbtnet.httpd_cmd('--body-size', str(body), iface=APP_TAP),
                            to_stack, to_kernel, seed)
        with env:
            t0 = time.monotonic()
            r = env.run('curl', '-sS', '--max-time', str(CLIENT_TIMEOUT - 10), '-o', out,
                        '-w', '%{http_code}', f'http://{kbtnet.STACK_IP}/')
            seconds = time.monotonic() - t0
            self.assertEqual(r.returncode, 0, f'curl failed: {r.stderr}\n{env.net.describe()}')
            self.assertEqual(r.stdout, '200')
        with open(out, 'rb') as f:
            got = f.read()
        self.assertEqual(len(got), body)
        self.assertTrue(got == pattern_body(body), 'body differs from the pattern')
        return self.finish(name, env, body, seconds)

    def nc_discard(self, name, nbytes, to_stack, to_kernel=None, seed=1):
        path = os.path.join(self.tmp.name, 'in.bin')
        with open(path, 'wb') as f:
            f.write(random.Random(seed).randbytes(nbytes))
        want = sha256_file(path)
        env = self.impaired(echo_cmd('--mode', 'discard'), to_stack, to_kernel, seed)
        with env:
            t0 = time.monotonic()
            r = env.run('sh', '-c', f'nc -N {kbtnet.STACK_IP} 9 < {path}')
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            kbtnet.wait_for(lambda: 'sha256=' in env.net.stdout, timeout=CLIENT_TIMEOUT,
                            what='discard line')
            seconds = time.monotonic() - t0
            line = [l for l in env.net.stdout.splitlines() if 'sha256=' in l][0]
        self.assertRegex(line, r'bytes=%d ' % nbytes)
        self.assertEqual(re.search(r'sha256=([0-9a-f]+)', line).group(1), want)
        return self.finish(name, env, nbytes, seconds)

    def nc_source(self, name, nbytes, to_stack, to_kernel=None, seed=1):
        path = os.path.join(self.tmp.name, 'out.bin')
        env = self.impaired(echo_cmd('--mode', 'source', '--bytes', str(nbytes)),
                            to_stack, to_kernel, seed)
        with env:
            t0 = time.monotonic()
            r = env.run('sh', '-c', f'nc -d {kbtnet.STACK_IP} 19 > {path}')
            seconds = time.monotonic() - t0
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(os.path.getsize(path), nbytes)
        self.assertEqual(sha256_file(path), source_pattern_sha256(nbytes))
        return self.finish(name, env, nbytes, seconds)

    def nc_echo(self, name, nbytes, to_stack, to_kernel=None, seed=1):
        src = os.path.join(self.tmp.name, 'in.bin')
        dst = os.path.join(self.tmp.name, 'back.bin')
        with open(src, 'wb') as f:
            f.write(random.Random(seed).randbytes(nbytes))
        env = self.impaired(echo_cmd('--mode', 'echo'), to_stack, to_kernel, seed)
        with env:
            t0 = time.monotonic()
            r = env.run('sh', '-c', f'nc -N {kbtnet.STACK_IP} 7 < {src} > {dst}')
            seconds = time.monotonic() - t0
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(os.path.getsize(dst), nbytes)
        self.assertEqual(sha256_file(src), sha256_file(dst))
        return self.finish(name, env, 2 * nbytes, seconds)  # bytes both ways

    # ---- no impairment: the bridge itself is transparent

    def test_curl_body_exact_through_the_bridge_unimpaired(self):
        """No impairment (the baseline): 2 MiB body, no retransmission."""
        stats, c = self.curl_body('unimpaired curl', 2 * MB, Impairment())
        self.assertEqual(c['to_stack']['dropped'] + c['to_kernel']['dropped'], 0)
        self.assertEqual(stats.get('tcp_retransmits', 0), 0, stats)

    # ---- loss

    def test_curl_body_exact_under_5pct_loss(self):
        """loss 5% both ways; 2 MiB body from kbt-httpd: kbt retransmits."""
        stats, c = self.curl_body('loss curl', 2 * MB, Impairment(loss=5), seed=11)
        self.assertGreater(c['to_kernel']['dropped'], 0)
        self.assertGreater(stats.get('tcp_retransmits', 0), 0, stats)

    def test_nc_discard_exact_under_5pct_loss(self):
        """loss 5% both ways; nc sends 2 MiB to discard: kbt holds
        out-of-order segments until Linux fills the holes."""
        stats, c = self.nc_discard('loss discard', 2 * MB, Impairment(loss=5), seed=12)
        self.assertGreater(c['to_stack']['dropped'], 0)
        self.assertGreater(stats.get('tcp_ooo_queued', 0), 0, stats)

    def test_nc_source_exact_under_5pct_loss(self):
        """loss 5% both ways; nc reads 2 MiB from source: kbt retransmits."""
        stats, c = self.nc_source('loss source', 2 * MB, Impairment(loss=5), seed=13)
        self.assertGreater(c['to_kernel']['dropped'], 0)
        self.assertGreater(stats.get('tcp_retransmits', 0), 0, stats)

    def test_nc_source_single_loss_is_fast_retransmitted_on_every_connection(self):
        """Not a netem setting: the 200th data frame of each of 8 connections
        (512 KiB each out of source mode) is dropped on its way to Linux,
        nothing else. Linux SACKs the hole at once, so each connection must
        recover by one fast retransmit, with no retransmission timeout.
        (RFC 6582 §3.2 step 1: "recover" starts at the ISS. Eight
        connections, so eight random ISSs: a `recover` left at 0 compares
        as "ahead of" SND.UNA for half of them, which then wait for the RTO.)"""
        n, conns = 512 * 1024, 8
        path = os.path.join(self.tmp.name, 'out.bin')
        env = self.impaired(echo_cmd('--mode', 'source', '--bytes', str(n)), Impairment(),
                            Impairment(drop_nth=200), seed=14)
        with env:
            t0 = time.monotonic()
            for i in range(conns):
                r = env.run('sh', '-c', f'nc -d {kbtnet.STACK_IP} 19 > {path}')
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                self.assertEqual(os.path.getsize(path), n, f'connection {i}')
                self.assertEqual(sha256_file(path), source_pattern_sha256(n), f'connection {i}')
            seconds = time.monotonic() - t0
        stats, c = self.finish('single-loss source x8', env, conns * n, seconds)
        self.assertEqual(c['to_kernel']['dropped'], conns)
        self.assertEqual(stats.get('tcp_rto_expiries', 0), 0,
                         f'{stats.get("tcp_rto_expiries", 0)} of {conns} single losses waited '
                         f'for the RTO although Linux SACKed them at once: {stats}')
        self.assertGreaterEqual(stats.get('tcp_fast_retransmits', 0), conns, stats)

    # ---- delay

    def test_curl_body_exact_under_delay(self):
        """delay 20ms jitter 0 both ways (RTT 40 ms); 2 MiB body: no loss,
        so no retransmission timeout may fire."""
        stats, _ = self.curl_body('delay curl', 2 * MB, Impairment(delay=20), seed=21)
        self.assertEqual(stats.get('tcp_rto_expiries', 0), 0, stats)
        self.assertEqual(stats.get('tcp_retransmits', 0), 0, stats)

    def test_nc_echo_exact_under_delay(self):
        """delay 10ms jitter 0 both ways; 1 MiB through echo mode."""
        stats, _ = self.nc_echo('delay echo', 1 * MB, Impairment(delay=10), seed=22)
        self.assertEqual(stats.get('tcp_rto_expiries', 0), 0, stats)

    # ---- reordering

    def test_nc_discard_exact_under_reordering(self):
        """reorder 25% gap 3ms both ways (delay 1ms): 2 MiB into discard;
        kbt queues the segments that arrive ahead of a held one."""
        imp = Impairment(delay=1, reorder=25, gap=3)
        stats, c = self.nc_discard('reorder discard', 2 * MB, imp, seed=31)
        self.assertGreater(c['to_stack']['reordered'], 0)
        self.assertGreater(stats.get('tcp_ooo_queued', 0), 0, stats)

    def test_nc_source_exact_under_reordering(self):
        """reorder 25% gap 3ms both ways (delay 1ms): 2 MiB out of source;
        Linux's duplicate ACKs (SACK) reach kbt."""
        imp = Impairment(delay=1, reorder=25, gap=3)
        stats, c = self.nc_source('reorder source', 2 * MB, imp, seed=32)
        self.assertGreater(c['to_kernel']['reordered'], 0)
        self.assertGreater(stats.get('tcp_dup_acks_in', 0), 0, stats)

    def test_curl_body_exact_under_jitter_reordering(self):
        """delay 5ms jitter 4ms both ways: frames leave in time order, so
        they overtake each other (netem's tfifo); 1 MiB body."""
        stats, _ = self.curl_body('jitter curl', 1 * MB, Impairment(delay=5, jitter=4),
                                  seed=33)
        self.assertGreater(stats.get('tcp_dup_acks_in', 0), 0, stats)

    # ---- duplication

    def test_nc_echo_exact_under_duplication(self):
        """duplicate 10% both ways; 1 MiB through echo mode: the copies of
        data kbt already has are unacceptable (answered, counted) and the
        duplicated ACKs count as duplicate ACKs."""
        stats, c = self.nc_echo('duplicate echo', 1 * MB, Impairment(duplicate=10), seed=41)
        self.assertGreater(c['to_stack']['duplicated'], 0)
        self.assertGreater(stats.get('tcp_out_of_window', 0) + stats.get('tcp_dup_acks_in', 0),
                           0, stats)

    def test_curl_body_exact_under_duplication(self):
        """duplicate 10% both ways; 2 MiB body."""
        stats, c = self.curl_body('duplicate curl', 2 * MB, Impairment(duplicate=10), seed=42)
        self.assertGreater(c['to_stack']['duplicated'], 0)
        self.assertGreater(stats.get('tcp_dup_acks_in', 0), 0, stats)

    # ---- everything at once

    def test_curl_body_exact_under_combined_impairments(self):
        """loss 2% delay 5ms jitter 2ms reorder 10% gap 4ms duplicate 2%,
        both ways; 2 MiB body."""
        imp = Impairment(loss=2, delay=5, jitter=2, reorder=10, gap=4, duplicate=2)
        stats, _ = self.curl_body('combined curl', 2 * MB, imp, seed=51)
        self.assertGreater(stats.get('tcp_retransmits', 0), 0, stats)

    def test_nc_echo_exact_under_combined_impairments(self):
        """loss 2% delay 5ms jitter 2ms reorder 10% gap 4ms duplicate 2%,
        both ways; 1 MiB through echo mode (data both ways at once)."""
        imp = Impairment(loss=2, delay=5, jitter=2, reorder=10, gap=4, duplicate=2)
        stats, _ = self.nc_echo('combined echo', 1 * MB, imp, seed=52)
        self.assertGreater(stats.get('tcp_retransmits', 0), 0, stats)
        self.assertGreater(stats.get('tcp_ooo_queued', 0), 0, stats)


if __name__ == '__main__':
    if len(sys.argv) > 1 and sys.argv[1] == '--bridge':
        sys.exit(bridge_main(sys.argv[2:]))
    unittest.main(verbosity=2)
