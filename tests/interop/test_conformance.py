#!/usr/bin/python3
"""Segment-level TCP conformance: scapy crafts each segment from the Linux
side of the TAP, and every answer of the stack is checked field by field
(flags, seq, ack, window, options, payload), as is the absence of an answer
where none is due.

Three apps, each in its own namespace (kbtnet.KbtNet), each started once:
  EchoServer        kbt-test-echo on port 7: handshake, closed ports, the
                    passive close, RST/SYN/ACK checks (RFC 5961), windows,
                    retransmissions, reassembly and SACK, zero window, PAWS,
                    checksums, malformed options, urgent data
  SynCookies        kbt-test-echo --syncookies always: cookie SYN-ACKs and the
                    final ACK that proves the client (RFC 4987 §3.6)
  StackClosesFirst  kbt-httpd on port 80 (an HTTP/1.0 request makes it
                    close first): FIN_WAIT_1/2, CLOSING, TIME_WAIT. The echo
                    server only ever closes after the peer, so it cannot
                    show the active close.
The expected numbers follow RFC 9293 and the stack's documented choices
(lib/tcp/config.hh: MSS 1460, 256 KiB buffers, window scale 3, 40 ms delayed
ACK, 200 ms minimum RTO); the window each segment must carry is modelled as
lib/tcp/output.cc advertised_window() computes it (conformance_peer.Conn).
The kernel is kept from answering for our side by an iptables rule (see
conformance_peer.Rig); segments go through a long-lived packet driver
(conformance_driver.py). Each scenario uses its own source port.

Run by hand (root, Debian's python with scapy), from the repo root:
    sudo KBT_TEST_ECHO=build/tests/interop/kbt-test-echo \\
         /usr/bin/python3 tests/interop/test_conformance.py -v
    ... test_conformance.py EchoServer.test_zero_window_holds_data_and_sends_backed_off_probes
kbt-httpd is taken from KBT_HTTPD, else from the build that holds
KBT_TEST_ECHO (apps/kbt-httpd), else build/apps/kbt-httpd.
"""

import os
import sys
import time
import unittest

sys.dont_write_bytecode = True
import kbtnet  # noqa: E402
from conformance_peer import (BUFFER, COOKIE_MSS_TABLE, MSS, NOP, SACK_OK,  # noqa: E402
                              STACK_WSCALE, TIMESTAMPS, TS_OPTION_SPACE, WSCALE, Conn, Rig,
                              add, echo_path, httpd_path, sub)

ECHO_PORT = 7
CLOSED_PORT = 9
HTTP_PORT = 80


class ConformanceCase(unittest.TestCase):
    """One app for the whole class; a fresh source port per connection."""

    first_port = 20000
    dport = ECHO_PORT
    rig = None

    @classmethod
    def app(cls):
        raise NotImplementedError

    @classmethod
    def setUpClass(cls):
        exe, extra = cls.app()
        if not os.access(exe, os.X_OK):
            raise kbtnet.HarnessError(f'{exe} not found or not executable (build it, or set '
                                      'KBT_TEST_ECHO / KBT_HTTPD)')
        cls._next_port = cls.first_port
        cls.rig = Rig(exe, *extra)
        cls.rig.__enter__()
        cls.addClassCleanup(cls.rig.__exit__, None, None, None)

    def setUp(self):
        self.conns = []

    def tearDown(self):
        # Free what the stack still holds for our connections (a RST at its
        # RCV.NXT, which is the ACK of its last segment), so nothing keeps
        # retransmitting into the next scenario's time.
        for c in self.conns:
            if c.rcv_nxt is None:
                continue
            seq = c._stack_rcv_nxt if c._stack_rcv_nxt is not None else c.snd_nxt
            c.send('R', seq=seq, ack=0, options=[], advance=False)

    def conn(self, dport=None, **kw):
        port = type(self)._next_port
        type(self)._next_port += 1
        c = Conn(self.rig, port, self.dport if dport is None else dport, **kw)
        self.conns.append(c)
        return c

    # ---- telemetry

    def counters(self):
        return self.rig.telemetry.counters()

    def states(self):
        return self.rig.telemetry.states()

    def assert_counter_delta(self, before, key, delta, timeout=3.0):
        """Counter `key` moves by exactly `delta` from `before` (bounded wait)."""
        want = before.get(key, 0) + delta
        try:
            kbtnet.wait_for(lambda: self.counters().get(key, 0) >= want, timeout,
                            interval=0.05, what=f'{key} to reach {want}')
        except TimeoutError:
            pass
        self.assertEqual(self.counters().get(key, 0) - before.get(key, 0), delta,
                         f'counter {key}')

    def assert_state_delta(self, before, state, delta, timeout=3.0):
        want = before[state] + delta
        try:
            kbtnet.wait_for(lambda: self.states()[state] == want, timeout, interval=0.05,
                            what=f'{state} == {want}')
        except TimeoutError:
            pass
        self.assertEqual(self.states()[state] - before[state], delta, f'connections in {state}')


# ==========================================================================

class EchoServer(ConformanceCase):
    first_port = 21000

    @classmethod
    def app(cls):
        return echo_path(), ('--port', str(ECHO_PORT))

    # ---- handshake (RFC 9293 §3.5)

    def test_syn_gets_syn_ack_acking_isn_plus_one_with_mss_wscale_sack_and_timestamps(self):
        """RFC 9293 §3.5 / §3.10.7.2: SYN(x) -> SYN-ACK(y, ack=x+1), window
        65535 unscaled (RFC 7323 §2.2), MSS 1460 (§3.7.1), window scale 3
        (RFC 7323 §2.2, 256 KiB buffer), SACK-permitted (RFC 2018 §2),
        timestamps with TSecr = our TSval (RFC 7323 §3.2). Exactly one
        segment; the connection waits in SYN_RCVD."""
        before = self.states()
        c = self.conn()
        c.send_syn()
        segs = c.recv(1, 3.0, 0.1)
        self.assertEqual(len(segs), 1, segs)
        c.take_syn_ack(segs[0])
        # Linux's layout: MSS, SACK-permitted in the timestamps' padding, NOP + window scale.
        self.assertEqual([k for k, _ in segs[0].options], [MSS, SACK_OK, TIMESTAMPS, NOP, WSCALE])
        self.assertEqual(segs[0].ts()[1], c.syn_tsval)
        self.assert_state_delta(before, 'SYN_RCVD', 1)

    def test_syn_without_options_gets_syn_ack_with_mss_only(self):
        """RFC 7323 §2.2 / §3.2, RFC 2018 §2: options the SYN did not offer
        are not offered back (window scale, timestamps, SACK-permitted);
        MSS is always sent (RFC 9293 §3.7.1). Windows are then unscaled:
        the echo of data carries 65535 (the 256 KiB buffer clamped)."""
        c = self.conn(ts=False, ws=None, sack=False, mss=None)
        c.send_syn()
        segs = c.recv(1, 3.0, 0.1)
        self.assertEqual(len(segs), 1, segs)
        c.take_syn_ack(segs[0])
        self.assertEqual([k for k, _ in segs[0].options], [MSS])
        c.send('PA', b'no options')
        seg = c.expect_echo(b'no options')
        self.assertEqual(seg.window, 65535)
        c.expect_nothing(0.2)

    def test_final_ack_completes_handshake_without_answer(self):
        """RFC 9293 §3.10.7.4 fifth (SYN-RECEIVED): an acceptable ACK moves
        to ESTABLISHED; a bare ACK draws no answer. Data then flows."""
        c = self.conn()
        c.send_syn()
        c.take_syn_ack(c.next_seg())
        before = self.states()
        c.send('A')
        c.expect_nothing(0.25)
        self.assert_state_delta(before, 'ESTABLISHED', 1)
        self.assert_state_delta(before, 'SYN_RCVD', -1)
        c.echo_round(b'after the handshake')
        c.expect_nothing(0.2)

    def test_data_on_third_segment_is_delivered_and_echoed(self):
        """RFC 9293 §3.5 (the third segment may carry data) and §3.10.7.4
        seventh: the data is delivered at once; the echo carries the ACK
        (seq=y+1, ack=x+1+len, PSH) and no separate ACK goes out."""
        c = self.conn()
        c.open(b'data on the third segment')
        c.echo_round(b'and a second round')
        c.expect_nothing(0.2)

    def test_retransmitted_syn_in_syn_rcvd_gets_the_same_syn_ack(self):
        """RFC 9293 §3.10.7.4 / §3.8.1: the same SYN again (our SYN-ACK was
        lost) is answered with the SYN-ACK again: same ISS, ack=x+1, same
        options, TSecr still the first SYN's TSval, TSval not going back."""
        c = self.conn()
        syn = c.send_syn()
        first = c.take_syn_ack(c.next_seg())
        self.rig.send_frames([syn])
        segs = c.recv(1, 2.0, 0.1)
        self.assertEqual(len(segs), 1, segs)
        again = segs[0]
        self.assertEqual((again.flags, again.seq, again.ack, again.window),
                         (first.flags, first.seq, first.ack, first.window))
        self.assertEqual([k for k, _ in again.options], [k for k, _ in first.options])
        self.assertEqual(again.ts()[1], c.syn_tsval)
        self.assertLess(sub(again.ts()[0], first.ts()[0]), 1 << 31)
        c.last_stack_tsval = again.ts()[0]
        c.send('PA', b'after a lost SYN-ACK')
        c.expect_echo(b'after a lost SYN-ACK')
        c.expect_nothing(0.2)

    def test_final_ack_with_wrong_ack_in_syn_rcvd_gets_rst_seq_of_that_ack(self):
        """RFC 9293 §3.10.7.4 fifth, SYN-RECEIVED: an ACK outside
        SND.UNA < SEG.ACK =< SND.NXT gets <SEQ=SEG.ACK><CTL=RST> and the
        connection stays in SYN_RCVD: the right ACK still completes it."""
        c = self.conn()
        c.send_syn()
        c.take_syn_ack(c.next_seg())
        bad = add(c.rcv_nxt, 1000)
        c.send('A', ack=bad, advance=False)
        c.expect('R', seq=bad, window=0)
        c.send('PA', b'right ack now')
        c.expect_echo(b'right ack now')
        c.expect_nothing(0.2)

    def test_peer_without_mss_option_gets_536_byte_segments(self):
        """RFC 9293 §3.7.1: without an MSS option the send MSS is 536. 1000
        bytes echo as 536 (no PSH) and, after our ACK (Nagle, RFC 9293
        §3.7.4, holds the runt while data is unacknowledged), 464 with PSH."""
        c = self.conn(ts=False, ws=None, sack=False, mss=None)
        c.open()
        data = bytes(i % 251 for i in range(1000))
        c.send('PA', data)
        c.expect('A', payload=data[:536])
        c.expect_nothing(0.05)  # well within the 200 ms RTO: the runt waits for our ACK
        c.send('A')
        c.expect('PA', payload=data[536:])
        c.send('A')
        c.expect_nothing(0.2)

    # ---- closed ports and stray segments (RFC 9293 §3.10.7.1, §3.10.7.2)

    def test_syn_to_closed_port_gets_rst_ack_seq_zero_ack_isn_plus_one(self):
        """RFC 9293 §3.10.7.1: no connection, ACK bit off:
        <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, window 0, no options."""
        c = self.conn(dport=CLOSED_PORT)
        c.send_syn()
        c.expect('RA', seq=0, ack=add(c.isn, 1), window=0)

    def test_syn_with_data_to_closed_port_acks_the_data_too(self):
        """RFC 9293 §3.10.7.1: SEG.LEN counts the SYN and the data:
        ack = x + 1 + len."""
        c = self.conn(dport=CLOSED_PORT)
        c.send('S', b'0123456789', seq=c.isn, ack=0, options=[('MSS', 1460)])
        c.expect('RA', seq=0, ack=add(c.isn, 11), window=0)

    def test_ack_to_closed_port_gets_rst_with_seq_of_its_ack(self):
        """RFC 9293 §3.10.7.1: ACK bit on: <SEQ=SEG.ACK><CTL=RST>, no ACK bit,
        window 0."""
        c = self.conn(dport=CLOSED_PORT)
        c.send('A', b'data', seq=c.isn, ack=0x12345678, options=[], advance=False)
        c.expect('R', seq=0x12345678, window=0)

    def test_rst_to_closed_port_gets_no_answer(self):
        """RFC 9293 §3.10.7.1: "An incoming segment containing a RST is
        discarded." (Nor for a listening port, §3.10.7.2.)"""
        c = self.conn(dport=CLOSED_PORT)
        c.send('R', seq=c.isn, ack=0, options=[], advance=False)
        c.send('RA', seq=c.isn, ack=77, options=[], advance=False)
        c2 = self.conn()
        c2.send('R', seq=c2.isn, ack=0, options=[], advance=False)
        c.expect_nothing(0.25)
        c2.expect_nothing(0.05)

    def test_stray_ack_to_listening_port_gets_rst(self):
        """RFC 9293 §3.10.7.2 LISTEN, second: any ACK is bad here:
        <SEQ=SEG.ACK><CTL=RST> (cookies are not checked: --syncookies auto
        sent none recently)."""
        c = self.conn()
        c.send('A', seq=c.isn, ack=0x0badf00d, options=[], advance=False)
        c.expect('R', seq=0x0badf00d, window=0)

    # ---- the peer closes first (RFC 9293 §3.6 case 1; the stack is passive)

    def test_peer_fin_is_acked_at_once_then_echo_server_sends_its_fin(self):
        """RFC 9293 §3.10.7.4 eighth: our FIN is ACKed at once (ack=u+1,
        CLOSE_WAIT), then the echo server follows the half-close with its
        FIN (LAST_ACK): two segments, the ACK first."""
        c = self.conn()
        c.open(b'before the close')
        before = self.states()
        c.send('FA')
        c.expect('A')
        c.expect('FA')
        self.assert_state_delta(before, 'LAST_ACK', 1)
        c.send('A')
        c.expect_nothing(0.25)
        self.assert_state_delta(before, 'LAST_ACK', 0)

    def test_fin_with_data_is_acked_then_data_echoed_in_close_wait_then_fin(self):
        """RFC 9293 §3.6 / §3.10.7.4: a FIN carrying data: the ACK covers data
        and FIN, the echo still goes out in CLOSE_WAIT (half-close), then
        the FIN: ACK, PSH+ACK(data), FIN+ACK, in that order."""
        c = self.conn()
        c.open()
        data = b'last words before the FIN'
        c.send('FPA', data)
        c.expect('A', held=len(data))
        c.expect('PA', payload=data)
        c.expect('FA')
        c.send('A')
        c.expect_nothing(0.25)

    def test_ack_of_stack_fin_ends_last_ack_and_later_data_draws_rst(self):
        """RFC 9293 §3.10.7.4 fifth, LAST-ACK: the ACK of our FIN deletes the
        TCB, silently. A later segment meets no connection (§3.10.7.1, here
        the listener, §3.10.7.2): RST with seq = its ACK."""
        c = self.conn()
        c.open(b'x')
        c.close_from_peer()
        c.expect_nothing(0.25)
        c.send('PA', b'too late', advance=False)
        c.expect('R', seq=c.rcv_nxt, window=0)

    def test_retransmitted_fin_in_last_ack_is_acked_again(self):
        """RFC 9293 §3.10.7.4 first: our FIN again (LAST_ACK, it is now
        below RCV.NXT): not acceptable, so an ACK <SEQ=SND.NXT><ACK=RCV.NXT>."""
        c = self.conn()
        c.open(b'x')
        c.send('FA')
        c.expect('A')
        c.expect('FA')
        c.send('FA', seq=sub(c.snd_nxt, 1), advance=False, accepted=False)
        c.expect('A')
        c.send('A')
        c.expect_nothing(0.25)

    # ---- RST, SYN and ACK checks (RFC 5961)

    def test_rst_in_window_but_not_exact_gets_challenge_ack(self):
        """RFC 5961 §3.2 (RFC 9293 §3.10.7.4 second): RST with RCV.NXT <
        SEG.SEQ < RCV.NXT+RCV.WND: challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT>,
        the connection stays."""
        c = self.conn()
        c.open(b'x')
        before = self.counters()
        c.send('R', seq=add(c.snd_nxt, 100), ack=0, options=[], advance=False)
        c.expect('A')
        self.assert_counter_delta(before, 'tcp_challenge_acks', 1)
        c.echo_round(b'still here')
        c.expect_nothing(0.2)

    def test_rst_outside_window_is_dropped_without_answer(self):
        """RFC 5961 §3.2 / RFC 9293 §3.10.7.4 first: a RST outside the window
        is dropped silently; the connection stays."""
        c = self.conn()
        c.open(b'x')
        before = self.counters()
        c.send('R', seq=add(c.snd_nxt, 10_000_000), ack=0, options=[], advance=False)
        c.expect_nothing(0.25)
        self.assert_counter_delta(before, 'tcp_out_of_window', 1)
        c.echo_round(b'still here')
        c.expect_nothing(0.2)

    def test_rst_exact_closes_connection_and_later_data_draws_rst(self):
        """RFC 5961 §3.2 / RFC 9293 §3.10.7.4 second: SEG.SEQ == RCV.NXT:
        the connection is reset, nothing is sent; later data meets no
        connection and draws <SEQ=SEG.ACK><CTL=RST>."""
        c = self.conn()
        c.open(b'x')
        before = self.counters()
        c.send('R', seq=c.snd_nxt, ack=0, options=[], advance=False)
        c.expect_nothing(0.25)
        self.assert_counter_delta(before, 'tcp_resets', 1)
        c.send('PA', b'anyone?', advance=False)
        c.expect('R', seq=c.rcv_nxt, window=0)

    def test_syn_in_window_on_established_gets_challenge_ack(self):
        """RFC 5961 §4.2 (RFC 9293 §3.10.7.4 fourth): a SYN in a synchronized
        state gets a challenge ACK, the connection stays."""
        c = self.conn()
        c.open(b'x')
        before = self.counters()
        c.send('S', seq=c.snd_nxt, ack=0, options=[('MSS', 1460)], advance=False)
        c.expect('A')
        self.assert_counter_delta(before, 'tcp_challenge_acks', 1)
        c.echo_round(b'still here')
        c.expect_nothing(0.2)

    def test_syn_with_new_isn_outside_window_gets_ack_not_reset(self):
        """RFC 5961 §4.2: whatever its sequence number, a SYN on an
        established connection is answered with an ACK (here from the
        §3.10.7.4 first check, as it is outside the window), never a RST,
        and the connection stays."""
        c = self.conn()
        c.open(b'x')
        c.send('S', seq=add(c.isn, 0x40000000), ack=0, options=[('MSS', 1460)],
               advance=False, accepted=False)
        c.expect('A')
        c.echo_round(b'still here')
        c.expect_nothing(0.2)

    def test_ack_of_unsent_data_is_answered_with_ack_and_its_data_dropped(self):
        """RFC 9293 §3.10.7.4 fifth / RFC 5961 §5.2: SEG.ACK > SND.NXT: send an
        ACK, drop the segment (its data is not delivered: the same bytes
        sent again are echoed once)."""
        c = self.conn()
        c.open(b'x')
        c.send('PA', b'acks the future', ack=add(c.rcv_nxt, 1000), advance=False)
        c.expect('A')
        c.echo_round(b'acks the future')
        c.expect_nothing(0.2)

    def test_ack_too_old_gets_challenge_ack_and_its_data_dropped(self):
        """RFC 5961 §5.2: SEG.ACK < SND.UNA - MAX.SND.WND: challenge ACK, the
        segment is dropped."""
        c = self.conn()
        c.open(b'x')
        before = self.counters()
        c.send('PA', b'acks the past', ack=sub(c.rcv_nxt, 300000), advance=False)
        c.expect('A')
        self.assert_counter_delta(before, 'tcp_challenge_acks', 1)
        c.echo_round(b'acks the past')
        c.expect_nothing(0.2)

    def test_old_ack_is_ignored_but_its_data_delivered(self):
        """RFC 9293 §3.10.7.4 fifth: SEG.ACK < SND.UNA (within MAX.SND.WND,
        RFC 5961 §5.2) is a duplicate that "can be ignored": a bare one
        draws nothing, and data riding on one is still delivered."""
        c = self.conn()
        c.open(b'x')
        c.echo_round(b'0123456789')
        c.send('A', ack=sub(c.rcv_nxt, 5))
        c.expect_nothing(0.2)
        c.send('PA', b'old ack, new data', ack=sub(c.rcv_nxt, 5))
        c.expect_echo(b'old ack, new data')
        c.expect_nothing(0.2)

    # ---- the receive window and retransmissions (RFC 9293 §3.10.7.4 first)

    def test_data_beyond_window_is_acked_and_dropped(self):
        """RFC 9293 §3.10.7.4 first: a segment past RCV.NXT+RCV.WND is not
        acceptable: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, no SACK block
        (nothing was queued), no echo."""
        c = self.conn()
        c.open(b'x')
        before = self.counters()
        c.send('PA', b'far away', seq=add(c.snd_nxt, BUFFER + 40000), advance=False,
               accepted=False)
        c.expect('A')
        self.assert_counter_delta(before, 'tcp_out_of_window', 1)
        c.echo_round(b'in order')
        c.expect_nothing(0.2)

    def test_data_past_unscaled_window_is_not_accepted(self):
        """RFC 9293 §3.10.7.4 first, RFC 7323 §2.2: without window scaling the
        stack advertises 65535; a segment wholly past RCV.NXT+65535 is not
        acceptable: an ACK without a SACK block, and it is not queued."""
        c = self.conn(ws=None)
        c.open(b'x')
        self.assertEqual(c.stack_ws, 0)
        before = self.counters()
        c.send('PA', b'past the edge', seq=add(c.snd_nxt, 65535 + 1000), advance=False,
               accepted=False)
        c.expect('A')
        self.assert_counter_delta(before, 'tcp_out_of_window', 1)
        self.assert_counter_delta(before, 'tcp_ooo_queued', 0)

    def test_old_duplicate_data_gets_ack_with_current_rcv_nxt(self):
        """RFC 9293 §3.10.7.4 first: data wholly below RCV.NXT (an old
        duplicate) gets an ACK carrying the current RCV.NXT and is not
        delivered again."""
        c = self.conn()
        c.open(b'x')
        c.echo_round(b'0123456789')
        c.send('PA', b'0123456789', seq=sub(c.snd_nxt, 10), advance=False, accepted=False)
        c.expect('A')
        c.echo_round(b'next')
        c.expect_nothing(0.2)

    def test_overlapping_retransmission_is_delivered_once(self):
        """RFC 9293 §3.10.7.4 seventh / §3.4: a retransmission overlapping
        RCV.NXT is trimmed: only its new bytes are delivered (echoed once)."""
        c = self.conn()
        c.open()
        data = bytes(range(65, 65 + 50)) * 3
        c.send('PA', data[:100])
        c.expect_echo(data[:100])
        start = sub(c.snd_nxt, 50)
        c.send('PA', data[50:150], seq=start, advance=False)
        c.snd_nxt = add(start, 100)
        c.expect_echo(data[100:150])
        c.expect_nothing(0.2)

    # ---- out of order and SACK (RFC 2018, RFC 5681 §4.2)

    def test_out_of_order_segment_gets_immediate_ack_with_sack_block(self):
        """RFC 5681 §4.2 / RFC 2018 §4: a segment past a hole is ACKed at
        once with ack=RCV.NXT and a SACK block for it; filling the hole
        ACKs both at once (ack=+200) and the 200 bytes are echoed in order."""
        c = self.conn()
        c.open(b'x')
        base = c.snd_nxt
        data = bytes(range(200))
        c.send('PA', data[100:], seq=add(base, 100), advance=False)
        c.expect('A', ack=base, held=100, sack=[(add(base, 100), add(base, 200))])
        c.send('PA', data[:100], seq=base, advance=False)
        c.snd_nxt = add(base, 200)
        c.expect('A', held=200)
        c.expect_echo(data)
        c.expect_nothing(0.2)

    def test_two_holes_are_reported_newest_sack_block_first(self):
        """RFC 2018 §4: the first SACK block covers the segment that
        triggered the ACK, then the others; blocks follow the holes as they
        fill, also on the echo data (SACK rides on data segments too)."""
        c = self.conn()
        c.open(b'x')
        base = c.snd_nxt
        data = bytes(i % 256 for i in range(400))
        b1 = (add(base, 100), add(base, 200))
        b2 = (add(base, 300), add(base, 400))
        c.send('PA', data[100:200], seq=b1[0], advance=False)
        c.expect('A', ack=base, held=100, sack=[b1])
        c.send('PA', data[300:400], seq=b2[0], advance=False)
        c.expect('A', ack=base, held=200, sack=[b2, b1])
        c.send('PA', data[:100], seq=base, advance=False)
        c.snd_nxt = add(base, 200)
        c.expect('A', held=300, sack=[b2])
        c.expect('PA', payload=data[:200], held=100, sack=[b2])
        c.send('A', seq=add(base, 200))
        c.send('PA', data[200:300], seq=add(base, 200), advance=False)
        c.snd_nxt = add(base, 400)
        c.expect('A', held=200)
        c.expect_echo(data[200:400])
        c.expect_nothing(0.2)

    def test_overlapping_out_of_order_segments_are_merged_and_delivered_once(self):
        """RFC 2018 §4 / RFC 9293 §3.4: overlapping out-of-order segments are
        reported as one SACK block and, once the hole is filled, every byte
        is delivered exactly once."""
        c = self.conn()
        c.open(b'x')
        base = c.snd_nxt
        data = bytes((i * 7) % 256 for i in range(250))
        c.send('PA', data[100:200], seq=add(base, 100), advance=False)
        c.expect('A', ack=base, held=100, sack=[(add(base, 100), add(base, 200))])
        c.send('PA', data[150:250], seq=add(base, 150), advance=False)
        c.expect('A', ack=base, held=150, sack=[(add(base, 100), add(base, 250))])
        c.send('PA', data[:100], seq=base, advance=False)
        c.snd_nxt = add(base, 250)
        c.expect('A', held=250)
        c.expect_echo(data)
        c.expect_nothing(0.2)

    # ---- zero window (RFC 9293 §3.8.6.1)

    def test_zero_window_holds_data_and_sends_backed_off_probes(self):
        """RFC 9293 §3.8.6.1 / RFC 1122 §4.2.2.17: with our window at 0 the
        echo is held (nothing but ACKs goes out); the delayed ACK (40 ms,
        RFC 1122 §4.2.3.2) comes first, then window probes after an RTO,
        backed off exponentially. The stack probes as Linux does: a bare
        ACK at SND.UNA-1 that the peer must answer (no new octet, see the
        report). Reopening the window releases the data at once."""
        c = self.conn()
        c.open(b'x')
        data = b'held behind a closed window'
        c.send('PA', data, window=0)
        t0 = time.monotonic()
        c.expect('A', timeout=1.0)
        c.expect('A', seq=sub(c.rcv_nxt, 1), timeout=2.0)
        t1 = time.monotonic()
        c.send('A', window=0)
        c.expect('A', seq=sub(c.rcv_nxt, 1), timeout=3.0)
        t2 = time.monotonic()
        # First probe one RTO (200 ms min) after the data, the next one
        # twice as long after (timer granularity and polling give slack).
        self.assertGreaterEqual(t1 - t0, 0.15, 'first probe earlier than an RTO')
        self.assertGreater(t2 - t1, 1.4 * (t1 - t0), 'probe interval did not back off')
        c.send('A', window=16384)
        c.expect_echo(data)
        c.expect_nothing(0.2)

    # ---- timestamps and PAWS (RFC 7323)

    def test_paws_drops_segment_with_old_timestamp_and_acks(self):
        """RFC 7323 §5.3 R1: SEG.TSval < TS.Recent: not acceptable, send an
        ACK and drop (TS.Recent unchanged, data not delivered)."""
        c = self.conn()
        c.open(b'x')
        before = self.counters()
        c.send('PA', b'from the past', tsval=sub(c.ts_recent, 1000), advance=False,
               accepted=False)
        c.expect('A')
        self.assert_counter_delta(before, 'tcp_paws_rejected', 1)
        c.echo_round(b'from the past')
        c.expect_nothing(0.2)

    def test_segment_without_timestamps_on_timestamped_connection_is_dropped(self):
        """RFC 7323 §3.2: once negotiated, "If a non-<RST> segment is
        received without a TSopt, a TCP SHOULD silently drop the segment."
        No echo, no ACK."""
        c = self.conn()
        c.open(b'x')
        c.send('PA', b'no timestamps', ts=False, advance=False, accepted=False)
        c.expect_nothing(0.3)

    # ---- malformed segments (RFC 9293 §3.1, RFC 1122 §4.2.2.5)

    def test_bad_tcp_checksum_is_ignored(self):
        """RFC 9293 §3.1 / RFC 1122 §4.2.2.7: a segment with a bad checksum is
        discarded: no answer, counted as drop.tcp_bad_checksum; the same
        bytes with a good checksum are then echoed once."""
        c = self.conn()
        c.open(b'x')
        before = self.counters()
        c.send('PA', b'bit rot', chksum='bad', advance=False, accepted=False)
        c.expect_nothing(0.3)
        self.assert_counter_delta(before, 'drop_tcp_bad_checksum', 1)
        c.echo_round(b'bit rot')
        c.expect_nothing(0.2)

    def _bad_option(self, option_bytes):
        c = self.conn()
        c.open(b'x')
        before = self.counters()
        c.send('PA', b'bad option', raw_options=c.raw_ts() + option_bytes, advance=False,
               accepted=False)
        c.expect_nothing(0.3)
        self.assert_counter_delta(before, 'drop_tcp_bad_option', 1)
        c.echo_round(b'bad option')
        c.expect_nothing(0.2)

    def test_mss_option_with_length_3_drops_segment_and_stack_keeps_working(self):
        """RFC 1122 §4.2.2.5 / RFC 9293 §3.1 (MUST-7): an illegal option
        length must not crash the stack. kbt drops the whole segment
        silently (drop.tcp_bad_option); the connection goes on."""
        self._bad_option(b'\x02\x03\x05')

    def test_option_length_past_header_drops_segment_and_stack_keeps_working(self):
        """RFC 1122 §4.2.2.5: an option whose length runs past the header
        (kind 254, length 16, 4 bytes left): segment dropped silently,
        counted, the connection goes on."""
        self._bad_option(b'\xfe\x10\x00\x00')

    def test_zero_length_option_drops_segment_and_stack_keeps_working(self):
        """RFC 1122 §4.2.2.5 ("e.g., zero"): an option of length 0: segment
        dropped silently, counted, the connection goes on."""
        self._bad_option(b'\xfe\x00\x00\x00')

    def test_unknown_option_is_skipped_by_its_length(self):
        """RFC 9293 §3.1 (MUST-6): an option of an unknown kind (254, RFC 6994
        experimental, valid length) is skipped; the segment is processed."""
        c = self.conn()
        c.open(b'x')
        c.send('PA', b'unknown option', raw_options=c.raw_ts() + b'\xfe\x04\xab\xcd')
        c.expect_echo(b'unknown option')
        c.expect_nothing(0.2)

    def test_urgent_data_is_delivered_in_order(self):
        """RFC 9293 §3.8.5 / RFC 6093: URG with an urgent pointer: the data
        stays in the stream, delivered in order (echoed whole, as plain
        data)."""
        c = self.conn()
        c.open(b'x')
        c.send('UPA', b'urgent!then the rest', urgptr=7)
        c.expect_echo(b'urgent!then the rest')
        c.echo_round(b'after the urgent data')
        c.expect_nothing(0.2)


# ==========================================================================

class SynCookies(ConformanceCase):
    """kbt-test-echo --syncookies always: every SYN gets a cookie (RFC 4987 §3.6)."""

    first_port = 22000

    @classmethod
    def app(cls):
        return echo_path(), ('--port', str(ECHO_PORT), '--syncookies', 'always')

    MSS_TABLE = COOKIE_MSS_TABLE

    def cookie_syn(self, **kw):
        c = self.conn(**kw)
        c.send_syn()
        segs = c.recv(1, 3.0, 0.1)
        self.assertEqual(len(segs), 1, segs)
        c.take_syn_ack(segs[0], cookie=True)
        return c, segs[0]

    def test_cookie_syn_ack_encodes_mss_in_isn_and_options_in_tsval_keeping_no_state(self):
        """RFC 4987 §3.6, lib/tcp/syn_cookie.hh: ISS low 3 bits = index of
        the MSS (1460 -> 6); TSval low 6 bits = peer window scale (2) |
        SACK bit (16); TSecr = our TSval; ack = x+1; window 65535. No TCB
        is kept (SYN_RCVD unchanged), one cookie counted."""
        before_states, before = self.states(), self.counters()
        c, seg = self.cookie_syn()
        self.assertEqual(seg.seq & 7, self.MSS_TABLE.index(1460))
        self.assertEqual(seg.ts()[0] & 0x3f, 2 | 16)
        self.assertEqual(seg.wscale(), STACK_WSCALE)
        self.assert_counter_delta(before, 'tcp_syncookies_sent', 1)
        self.assert_state_delta(before_states, 'SYN_RCVD', 0)

    def test_cookie_mss_index_is_largest_table_entry_not_above_peer_mss(self):
        """lib/tcp/syn_cookie.hh mss_index(): 1400 -> 1400 (3), 1000 -> 536
        (0), 9000 -> 8960 (7); without a peer window scale the TSval bits
        say 15 (none)."""
        for mss, idx in ((1400, 3), (1000, 0), (9000, 7)):
            with self.subTest(mss=mss):
                c, seg = self.cookie_syn(mss=mss, ws=None)
                self.assertEqual(seg.seq & 7, idx)
                self.assertEqual(seg.ts()[0] & 0x3f, 15 | 16)

    def test_same_syn_gets_same_cookie(self):
        """RFC 4987 §3.6: the cookie is a function of the tuple, the peer's
        ISN, the MSS and a 64 s counter: the same SYN again gets the same
        ISS (once more if the counter ticked in between)."""
        c, first = self.cookie_syn()
        seqs = [first.seq]
        for _ in range(2):
            c.send_syn()
            seqs.append(c.recv(1, 3.0, 0.05)[0].seq)
            if seqs[-1] == seqs[-2]:
                break
        self.assertEqual(seqs[-1], seqs[-2], f'cookies {seqs}')

    def test_valid_cookie_ack_with_data_establishes_and_echoes(self):
        """RFC 4987 §3.6: the ACK of ISS+1 from ISN+1 proves the client; the
        connection is rebuilt ESTABLISHED from the cookie (window scale 3
        and SACK from TSecr) and the data on it is delivered and echoed."""
        c, _ = self.cookie_syn()
        before = self.counters()
        c.send('PA', b'cookie data')
        seg = c.expect_echo(b'cookie data')
        self.assertEqual(seg.window, BUFFER >> STACK_WSCALE)
        self.assert_counter_delta(before, 'tcp_syncookies_valid', 1)
        c.echo_round(b'second round')
        c.expect_nothing(0.2)

    def test_cookie_connection_sends_segments_of_the_table_mss(self):
        """RFC 4987 §3.6 (cookies keep the MSS coarsely): a peer MSS of 1000 is
        kept as 536, so the connection sends 536 - 12 (timestamps, RFC 7323
        §3.2) = 524-byte segments: 1000 bytes echo as 524 and, once that is
        ACKed (Nagle), 476 with PSH."""
        c, _ = self.cookie_syn(mss=1000)
        data = bytes(i % 253 for i in range(1000))
        c.send('PA', data)
        first = 536 - TS_OPTION_SPACE
        c.expect('A', payload=data[:first])
        c.expect_nothing(0.05)  # well within the 200 ms RTO
        c.send('A')
        c.expect('PA', payload=data[first:])
        c.send('A')
        c.expect_nothing(0.2)

    def test_cookie_ack_with_wrong_ack_is_dropped_without_rst(self):
        """lib/tcp/listener.cc listener::on_segment(): in `always` mode an ACK whose
        cookie does not check is dropped silently (counted as
        syncookies_invalid), no RST (RFC 9293 §3.10.7.2 would send
        <SEQ=SEG.ACK><CTL=RST>; see the report). Nothing is kept: the right
        ACK still works."""
        c, _ = self.cookie_syn()
        before = self.counters()
        c.send('A', ack=add(c.rcv_nxt, 1), advance=False, accepted=False)
        c.expect_nothing(0.3)
        self.assert_counter_delta(before, 'tcp_syncookies_invalid', 1)
        c.send('PA', b'right ack')
        c.expect_echo(b'right ack')
        c.expect_nothing(0.2)

    def test_cookie_ack_with_wrong_seq_is_dropped_without_rst(self):
        """RFC 4987 §3.6 / lib/tcp/syn_cookie.cc check(): the cookie binds the
        peer's ISN, so an ACK whose seq is not ISN+1 fails: dropped,
        counted, no RST."""
        c, _ = self.cookie_syn()
        before = self.counters()
        c.send('A', seq=add(c.snd_nxt, 1), advance=False, accepted=False)
        c.expect_nothing(0.3)
        self.assert_counter_delta(before, 'tcp_syncookies_invalid', 1)

    def test_cookie_ack_with_reserved_tsecr_bit_is_dropped(self):
        """lib/tcp/syn_cookie.hh decode_ts(): TSecr bit 5 is never set by the
        stack, so an ACK echoing it is forged: dropped, counted."""
        c, _ = self.cookie_syn()
        before = self.counters()
        c.send('A', advance=False, accepted=False,
               options=[('NOP', None), ('NOP', None),
                        ('Timestamp', (c.next_tsval(), c.last_stack_tsval ^ 0x20))])
        c.expect_nothing(0.3)
        self.assert_counter_delta(before, 'tcp_syncookies_invalid', 1)

    def test_cookie_without_timestamps_offers_no_window_scale_or_sack(self):
        """RFC 4987 §3.6 (the cost of cookies), lib/tcp/listener.cc
        send_cookie_synack(): with no timestamps there is nowhere to keep
        window scale or SACK-permitted, so the SYN-ACK offers only MSS and
        the connection runs unscaled (window 65535), without SACK."""
        c, seg = self.cookie_syn(ts=False)
        self.assertEqual([k for k, _ in seg.options], [MSS])
        c.send('PA', b'plain cookie')
        seg = c.expect_echo(b'plain cookie')
        self.assertEqual(seg.window, 65535)
        c.expect_nothing(0.2)


# ==========================================================================

class StackClosesFirst(ConformanceCase):
    """kbt-httpd answers an HTTP/1.0 request and closes first (RFC 9293 §3.6)."""

    first_port = 23000
    dport = HTTP_PORT
    REQUEST = b'GET / HTTP/1.0\r\n\r\n'

    @classmethod
    def app(cls):
        return httpd_path(), ('--port', str(HTTP_PORT))

    def request(self):
        """Handshake, request; the response (PSH) then the stack's FIN
        (FIN_WAIT_1), numbers checked."""
        c = self.conn()
        c.open()
        c.send('PA', self.REQUEST)
        resp = c.expect('PA', payload=None)
        self.assertTrue(resp.payload.startswith(b'HTTP/1.'), resp.payload[:40])
        c.expect('FA')
        return c

    def test_stack_fin_then_our_ack_moves_to_fin_wait_2_silently(self):
        """RFC 9293 §3.10.7.4 fifth, FIN-WAIT-1: our ACK of its FIN ->
        FIN_WAIT_2, nothing sent."""
        c = self.request()
        before = self.states()
        c.send('A')
        c.expect_nothing(0.25)
        self.assert_state_delta(before, 'FIN_WAIT_1', -1)
        self.assert_state_delta(before, 'FIN_WAIT_2', 1)

    def test_fin_in_fin_wait_2_is_acked_and_enters_time_wait(self):
        """RFC 9293 §3.10.7.4 eighth, FIN-WAIT-2: our FIN is ACKed
        (ack=u+1) and the connection enters TIME_WAIT."""
        c = self.request()
        c.send('A')
        c.expect_nothing(0.1)
        before = self.states()
        c.send('FA')
        c.expect('A')
        self.assert_state_delta(before, 'TIME_WAIT', 1)

    def test_fin_ack_in_fin_wait_1_goes_straight_to_time_wait(self):
        """RFC 9293 §3.10.7.4 eighth, FIN-WAIT-1: "If our FIN has been ACKed
        (perhaps in this segment), then enter TIME-WAIT": one FIN+ACK that
        acknowledges its FIN, one ACK back."""
        c = self.request()
        before = self.states()
        c.send('FA')
        c.expect('A')
        self.assert_state_delta(before, 'TIME_WAIT', 1)
        self.assert_state_delta(before, 'FIN_WAIT_2', 0)

    def test_simultaneous_close_goes_through_closing_to_time_wait(self):
        """RFC 9293 §3.6 (figure 13) / §3.10.7.4: our FIN crosses its FIN
        (ours does not ACK it): CLOSING, and our FIN is ACKed; our ACK of
        its FIN then moves CLOSING -> TIME_WAIT without an answer."""
        c = self.request()
        before = self.states()
        c.send('FA', ack=sub(c.rcv_nxt, 1))
        c.expect('A')
        self.assert_state_delta(before, 'CLOSING', 1)
        c.send('A')
        c.expect_nothing(0.25)
        self.assert_state_delta(before, 'CLOSING', 0)
        self.assert_state_delta(before, 'TIME_WAIT', 1)

    def test_retransmitted_fin_in_time_wait_is_acked_again(self):
        """RFC 9293 §3.10.7.4 eighth, TIME-WAIT: "The only thing that can
        arrive in this state is a retransmission of the remote FIN.
        Acknowledge it, and restart the 2 MSL timeout": the same ACK again
        (same seq, ack and window). A bare ACK gets nothing."""
        c = self.request()
        c.send('FA')
        first = c.expect('A')
        c.send('FA', seq=sub(c.snd_nxt, 1), advance=False, accepted=False)
        again = c.expect('A')
        self.assertEqual((again.seq, again.ack, again.window),
                         (first.seq, first.ack, first.window))
        c.send('A', accepted=False)
        c.expect_nothing(0.25)

    def test_rst_in_time_wait_is_ignored(self):
        """RFC 1337 §3 (TIME-WAIT assassination; lib/tcp/config.hh
        time_wait_honours_rst=false): a RST does not end TIME_WAIT; the
        retransmitted FIN is still ACKed."""
        c = self.request()
        c.send('FA')
        c.expect('A')
        before = self.counters()
        c.send('R', seq=c.snd_nxt, ack=0, options=[], advance=False)
        c.expect_nothing(0.25)
        self.assert_counter_delta(before, 'tcp_time_wait_rst_ignored', 1)
        c.send('FA', seq=sub(c.snd_nxt, 1), advance=False, accepted=False)
        c.expect('A')

    def test_data_in_time_wait_gets_ack(self):
        """RFC 9293 §3.10.7.4 first: in TIME_WAIT (RCV.WND closed after the
        FIN) data is not acceptable: the TIME_WAIT ACK again, data dropped."""
        c = self.request()
        c.send('FA')
        first = c.expect('A')
        c.send('PA', b'after my FIN', advance=False, accepted=False)
        again = c.expect('A')
        self.assertEqual((again.seq, again.ack, again.window),
                         (first.seq, first.ack, first.window))
        c.expect_nothing(0.2)

    def _time_wait_then_syn(self, tsval_step):
        c = self.request()
        c.send('FA')
        c.expect('A')
        new = Conn(self.rig, c.sport, HTTP_PORT, isn=add(c.snd_nxt, 100000))
        self.conns.append(new)
        new.tsval = add(c.ts_recent, tsval_step - 1)  # send_syn() takes the next one
        new.send_syn()
        return c, new

    def test_syn_with_newer_timestamp_reopens_time_wait_above_old_sequence(self):
        """RFC 6191 §2 / RFC 1122 §4.2.2.13: a SYN for a tuple in TIME_WAIT
        whose TSval is newer than TS.Recent reopens it: a SYN-ACK whose ISS
        lies above everything the old incarnation sent, and a working
        connection."""
        before = self.counters()
        old, c = self._time_wait_then_syn(1000)
        c.take_syn_ack(c.next_seg())
        self.assertTrue(0 < sub(c.stack_iss, old.rcv_nxt) < 1 << 31,
                        f'ISS {c.stack_iss} not above the old SND.NXT {old.rcv_nxt}')
        self.assert_counter_delta(before, 'tcp_time_wait_reused', 1)
        c.send('PA', self.REQUEST)
        resp = c.expect('PA', payload=None)
        self.assertTrue(resp.payload.startswith(b'HTTP/1.'), resp.payload[:40])
        c.expect('FA')
        c.send('FA')
        c.expect('A')
        c.expect_nothing(0.2)

    def test_syn_with_older_timestamp_in_time_wait_is_dropped(self):
        """RFC 6191 §2: a SYN whose TSval is not newer than TS.Recent cannot
        reopen TIME_WAIT: dropped silently (lib/tcp/time_wait.cc), counted;
        TIME_WAIT stays (the old FIN is still ACKed)."""
        before = self.counters()
        old, c = self._time_wait_then_syn(-1000)
        c.expect_nothing(0.3)
        self.assert_counter_delta(before, 'tcp_time_wait_syn_dropped', 1)
        old.send('FA', seq=sub(old.snd_nxt, 1), advance=False, accepted=False)
        old.expect('A')


if __name__ == '__main__':
    unittest.main(verbosity=2)
