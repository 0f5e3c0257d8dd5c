#!/usr/bin/python3
"""Hostile peers and the ACKs they draw (RFC 5961 §7): scapy floods the
stack from the Linux side of the TAP with segments that each ask for an
ACK, and every answer is counted and checked field by field.

- Challenge ACKs (RFC 5961 §3.2 in-window RSTs) go through a limit per
  connection first and then through the core's budget, whose size is drawn
  anew each second (CVE-2016-5696): a flood on one connection draws a
  handful of challenge ACKs and leaves the budget to the others.
- ACKs for invalid segments (out of window, ACK beyond SND.NXT, PAWS) and
  the challenge ACKs for SYNs on the established tuple: at most one per
  connection per tcp_config::invalid_ack_interval (500 ms, Linux's
  tcp_invalid_ratelimit), not one per segment.
Each flood is paced in batches under the TAP's queue; what the stack
received is read from its own counters (`kbt stats:` lines, tcp_segs_in),
so a frame the TAP dropped does not upset the arithmetic: every segment
received is either answered or counted as suppressed.

The rig is test_conformance's (ConformanceCase, conformance_peer.Rig):
kbt-test-echo on port 7 in a namespace of its own (198.18.0.0/24 only), the
kernel's RSTs dropped by iptables inside it, segments through the
long-lived packet driver, a fresh source port per connection.

Run by hand (root, Debian's python with scapy), from the repo root:
    sudo KBT_TEST_ECHO=build/tests/interop/kbt-test-echo \\
         /usr/bin/python3 tests/interop/test_hostile_acks.py -v
"""

import struct
import sys
import time
import unittest

sys.dont_write_bytecode = True
import kbtnet  # noqa: E402
from conformance_peer import add, build_frame, echo_path, sub  # noqa: E402
from test_conformance import ConformanceCase  # noqa: E402

ECHO_PORT = 7
INTERVAL = 0.5      # tcp_config::invalid_ack_interval
SLACK = 2           # ACKs over elapsed / INTERVAL a run may see: the first, and rounding
LARGEST_BUDGET = 1499  # challenge_ack_limit 1000: budgets are drawn from [500, 1500)
BATCH = 250         # frames per driver command
PAUSE = 0.003       # between batches: the TAP's queue holds 1000 frames


def delta(after, before, key):
    return after.get(key, 0) - before.get(key, 0)


def ones_sum(data):
    """RFC 1071 one's complement sum of `data`, folded to 16 bits."""
    if len(data) % 2:
        data += b'\0'
    total = sum(struct.unpack(f'!{len(data) // 2}H', data))
    while total >> 16:
        total = (total & 0xffff) + (total >> 16)
    return total


def with_seqs(frame, seqs):
    """Copies of `frame` (the bytes of an Ether/IPv4/TCP frame scapy built)
    with each of `seqs` as the sequence number, the TCP checksum made right
    again (RFC 9293 §3.1). Scapy takes about a third of a millisecond to
    build a frame; these floods are thousands of frames."""
    ip = 14
    ihl = (frame[ip] & 0x0f) * 4
    tcp = ip + ihl
    end = ip + int.from_bytes(frame[ip + 2:ip + 4], 'big')
    pseudo = frame[ip + 12:ip + 20] + bytes([0, 6]) + (end - tcp).to_bytes(2, 'big')
    out = []
    for seq in seqs:
        f = bytearray(frame)
        f[tcp + 4:tcp + 8] = (seq & 0xffffffff).to_bytes(4, 'big')
        f[tcp + 16:tcp + 18] = b'\0\0'
        f[tcp + 16:tcp + 18] = (~ones_sum(pseudo + bytes(f[tcp:end])) & 0xffff).to_bytes(2, 'big')
        out.append(bytes(f))
    return out


class HostileAcks(ConformanceCase):
    first_port = 24000

    @classmethod
    def app(cls):
        return echo_path(), ('--port', str(ECHO_PORT))

    def settled_stats(self):
        """The stats line once the stack is quiet: two lines in a row with
        the same segments in and out, the second printed from now on
        (bounded: ten lines)."""
        net = self.rig.net
        prev = net.stats() or {}
        for _ in range(10):
            cur = net.wait_for_new_stats(timeout=5)
            if all(cur.get(k, 0) == prev.get(k, 0) for k in ('tcp_segs_in', 'tcp_segs_out')):
                return cur
            prev = cur
        raise kbtnet.HarnessError(f'the stack never went quiet: {prev}')

    def flood(self, frames, pause=PAUSE):
        for i in range(0, len(frames), BATCH):
            self.rig.send_frames(frames[i:i + BATCH])
            time.sleep(pause)

    def frame(self, c, flags, seq, ack=None, options=(), payload=b''):
        """One frame from c's port, as bytes (built before a flood starts)."""
        return bytes(build_frame(self.rig, c.sport, ECHO_PORT, flags, seq,
                                 c.rcv_nxt if ack is None else ack, c.window, options, payload))

    def run_flood(self, c, frames, what, middle=None, pause=PAUSE):
        """Floods `frames` at the stack (`middle`: a callable run halfway;
        `pause` between batches sets how long the flood lasts) and collects
        what comes back to c within 0.6 s of the last one. Returns (ACKs,
        seconds from the first frame to the last look)."""
        t0 = time.monotonic()
        half = len(frames) // 2
        self.flood(frames[:half], pause)
        if middle is not None:
            middle()
        self.flood(frames[half:], pause)
        spent = time.monotonic() - t0
        acks = c.recv(1, 2.0, 0.6)
        elapsed = time.monotonic() - t0
        for s in acks:
            c.check(s, 'A')
        self.assertGreaterEqual(len(acks), 1, f'{what}: not even the first one answered')
        self.assertLessEqual(len(acks), elapsed / INTERVAL + SLACK,
                             f'{what}: {len(acks)} ACKs in {elapsed:.2f} s')
        if spent > 2 * INTERVAL:
            # A limit, not silence: a flood longer than an interval draws
            # another ACK once the interval has passed.
            self.assertGreaterEqual(len(acks), 2, f'{what}: {len(acks)} ACKs in {spent:.2f} s')
        return acks, elapsed

    def report(self, what, sent, received, acks, elapsed, counters):
        print(f'\n  {what}: {sent} sent, {received} received by the stack, {len(acks)} ACKs '
              f'back in {elapsed:.2f} s; ' + ' '.join(f'{k}+{v}' for k, v in counters.items()),
              flush=True)

    # ---- RFC 5961 §7: the per-connection limit and the core's budget

    def test_challenge_ack_isolation_between_two_connections(self):
        """RFC 5961 §3.2 / §7, CVE-2016-5696: thousands of in-window RSTs
        (SEG.SEQ != RCV.NXT) on connection A, over three times the core's
        largest budget, draw at most one challenge ACK per 500 ms; B, probed
        with one such RST in the middle of the flood, still gets its
        challenge ACK. The counters account for every RST: answered, or
        held back by A's own limit (the core's budget is not touched)."""
        a = self.conn().open()
        b = self.conn().open()
        before = self.settled_stats()
        n = 5000
        # In the window (the stack offered 65535 in its SYN-ACK), never at RCV.NXT.
        rsts = with_seqs(self.frame(a, 'R', a.snd_nxt, ack=0),
                         (add(a.snd_nxt, 1 + i % 60000) for i in range(n)))
        probe = self.frame(b, 'R', add(b.snd_nxt, 1000), ack=0)
        # Over about 1.5 s (20 batches, 75 ms apart), B's probe halfway.
        a_acks, elapsed = self.run_flood(a, rsts, 'A flooded', pause=0.075,
                                         middle=lambda: self.rig.send_frames([probe]))
        b_acks = b.recv(1, 2.0, 0.1)
        self.assertEqual(len(b_acks), 1, f'B: {b_acks}')
        b.check(b_acks[0], 'A')
        after = self.settled_stats()
        received = delta(after, before, 'tcp_segs_in')
        counters = {k: delta(after, before, 'tcp_' + k) for k in (
            'challenge_acks', 'challenge_acks_conn_limited', 'challenge_acks_suppressed')}
        self.report('in-window RSTs on A, one on B', n + 1, received, a_acks + b_acks, elapsed,
                    counters)
        self.assertGreater(received, LARGEST_BUDGET + 1, 'the flood must exceed any budget')
        self.assertEqual(counters['challenge_acks'], len(a_acks) + 1)
        self.assertEqual(counters['challenge_acks_conn_limited'], received - len(a_acks) - 1)
        self.assertEqual(counters['challenge_acks_suppressed'], 0)
        self.assertEqual(delta(after, before, 'tcp_segs_out'), len(a_acks) + 1)
        # Neither connection was hurt.
        a.echo_round(b'A is still here')
        b.echo_round(b'B is still here')
        a.expect_nothing(0.2)

    # ---- RFC 5961 §7: invalid segments on one connection

    def test_invalid_segment_throttle(self):
        """RFC 9293 §3.10.7.4 first and fifth, RFC 7323 §5.3, RFC 5961 §4.2,
        §5.2 and §7: floods of out-of-window data (10,000), ACKs beyond
        SND.NXT, PAWS-rejected data and SYNs on the established tuple each
        draw at most one ACK per 500 ms, every one of them a correct ACK
        <SEQ=SND.NXT><ACK=RCV.NXT>; the counters hold back what was not
        answered, one for one. The connection then works as before."""
        c = self.conn().open()
        before = self.settled_stats()

        def phase(what, frames, keys, pause=PAUSE):
            nonlocal before
            acks, elapsed = self.run_flood(c, frames, what, pause=pause)
            after = self.settled_stats()
            received = delta(after, before, 'tcp_segs_in')
            counters = {k: delta(after, before, 'tcp_' + k) for k in keys}
            self.report(what, len(frames), received, acks, elapsed, counters)
            self.assertGreater(received, len(frames) // 2, f'{what}: the flood reached the stack')
            self.assertEqual(delta(after, before, 'tcp_segs_out'), len(acks), what)
            before = after
            return received, len(acks), counters

        # Far beyond the right edge, fresh timestamps (RFC 7323 §3.2: none
        # at all would be dropped silently).
        tv = c.next_tsval()
        far = with_seqs(self.frame(c, 'PA', c.snd_nxt, options=c.options(tsval=tv),
                                   payload=b'guess'),
                        (add(c.snd_nxt, 1_000_000 + 1000 * i) for i in range(10_000)))
        received, acks, k = phase('out-of-window data', far,
                                  ('out_of_window', 'invalid_acks_suppressed'), pause=0.05)
        self.assertEqual(k['out_of_window'], received)
        self.assertEqual(k['invalid_acks_suppressed'], received - acks)

        # In the window, acknowledging 100000 bytes never sent. Each one
        # passes the sequence check and so sets TS.Recent (RFC 7323 §4.3).
        tv = c.next_tsval()
        beyond = [self.frame(c, 'A', c.snd_nxt, ack=add(c.rcv_nxt, 100_000),
                             options=c.options(tsval=tv))] * 2000
        c.ts_recent = tv
        received, acks, k = phase('ACKs beyond SND.NXT', beyond, ('invalid_acks_suppressed',))
        self.assertEqual(k['invalid_acks_suppressed'], received - acks)

        # Data at RCV.NXT with a timestamp older than TS.Recent.
        old = sub(c.ts_recent, 1000)
        paws = [self.frame(c, 'PA', c.snd_nxt, options=c.options(tsval=old),
                           payload=b'stale')] * 2000
        received, acks, k = phase('PAWS-rejected data', paws,
                                  ('paws_rejected', 'invalid_acks_suppressed'))
        self.assertEqual(k['paws_rejected'], received)
        self.assertEqual(k['invalid_acks_suppressed'], received - acks)

        # SYNs at RCV.NXT without timestamps (RFC 7323 §3.2 lets a SYN
        # through without): a challenge ACK each (RFC 5961 §4.2), within
        # the same per-connection limit.
        syns = [self.frame(c, 'S', c.snd_nxt, ack=0, options=[('MSS', 1460)])] * 2000
        received, acks, k = phase('SYNs on the established tuple', syns,
                                  ('challenge_acks', 'challenge_acks_conn_limited',
                                   'challenge_acks_suppressed'))
        self.assertEqual(k['challenge_acks'], acks)
        self.assertEqual(k['challenge_acks_conn_limited'] + k['challenge_acks_suppressed'],
                         received - acks)

        c.echo_round(b'nothing of all that was taken')
        c.expect_nothing(0.2)


if __name__ == '__main__':
    unittest.main(verbosity=2)
