// tcp::connection's acceptance of a segment (RFC 9293 §3.10.7.4 first, with
// PAWS), its RST (second, RFC 5961 §3.2) and its ACK field (fifth), by
// themselves: what the connection answers, what it changes, and what it
// leaves for its owner (rst_outcome, ack_outcome).
#include "connection_fixture.hh"

namespace kbt::tcp::test {
namespace {

wire::tcp_repr ack_of(std::uint32_t ack, std::uint32_t seq = 7000) {
  wire::tcp_repr seg;
  seg.seq = seq32{seq};
  seg.ack = seq32{ack};
  seg.flags = flag::kAck;
  seg.window = 65535;
  return seg;
}

// RFC 9293 §3.10.7.4 fifth: SND.UNA < SEG.ACK =< SND.NXT frees what it
// covers and tells the application; the RTO restarts while data is still
// out (RFC 6298 §5.3) and stops when none is (§5.2).
TEST_F(Connection, ANewAckAdvancesSndUnaAndFreesTheSendBuffer) {
  data_outstanding(3000);
  EXPECT_EQ(conn().receive_ack(ack_of(2000), kNow), ack_outcome::go_on);
  EXPECT_EQ(_c.snd_una, seq32{2000});
  EXPECT_EQ(_c.snd.bytes(), 2000U);
  EXPECT_EQ(_c.acked_unreported, 1000U);
  EXPECT_EQ(events(), event::kAcked | event::kWritable);
  EXPECT_TRUE(_c.rto_timer().armed()) << "2000 bytes still out";
  EXPECT_EQ(conn().receive_ack(ack_of(4000), kNow), ack_outcome::go_on);
  EXPECT_EQ(_c.snd.bytes(), 0U);
  EXPECT_FALSE(_c.rto_timer().armed()) << "all acknowledged";
  EXPECT_EQ(_counters.snd_mbufs.get(), 0U) << "the gauge follows the buffer";
  EXPECT_TRUE(sent().empty());
}

// RFC 5681 §3.2 / RFC 6582 §3.2: the third duplicate ACK starts fast
// recovery and sends the first unacknowledged segment again at once.
TEST_F(Connection, TheThirdDuplicateAckEntersRecoveryAndResendsTheFirstSegment) {
  data_outstanding(3 * 1460);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(conn().receive_ack(ack_of(1000), kNow), ack_outcome::go_on);
  }
  EXPECT_FALSE(_c.in_recovery);
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(conn().receive_ack(ack_of(1000), kNow), ack_outcome::go_on);
  EXPECT_TRUE(_c.in_recovery);
  EXPECT_EQ(_c.recover, seq32{1000 + 3 * 1460});
  EXPECT_EQ(_counters.dup_acks_in.get(), 3U);
  EXPECT_EQ(_counters.fast_retransmits.get(), 1U);
  auto s = sent();
  ASSERT_EQ(s.size(), 1U);
  EXPECT_EQ(s[0].seq, 1000U);
  // RFC 6582 §3.2 step 3: an ACK of everything sent before ends it.
  EXPECT_EQ(conn().receive_ack(ack_of(1000 + 3 * 1460), kNow), ack_outcome::go_on);
  EXPECT_FALSE(_c.in_recovery);
}

// RFC 5681 §2: an ACK that changes the window, or one with nothing
// outstanding, is no duplicate.
TEST_F(Connection, AWindowUpdateIsNoDuplicateAck) {
  data_outstanding(1460);
  for (std::uint16_t w = 60000; w < 60003; ++w) {
    auto seg = ack_of(1000);
    seg.window = w;
    EXPECT_EQ(conn().receive_ack(seg, kNow), ack_outcome::go_on);
  }
  EXPECT_EQ(_counters.dup_acks_in.get(), 0U);
  EXPECT_FALSE(_c.in_recovery);
  EXPECT_EQ(_c.snd_wnd, 60002U);
}

// RFC 9293 §3.10.7.4 fifth: "If the ACK acks something not yet sent
// (SEG.ACK > SND.NXT) then send an ACK, drop the segment".
TEST_F(Connection, AnAckOfWhatWasNeverSentIsDroppedAndAnswered) {
  data_outstanding(100);
  EXPECT_EQ(conn().receive_ack(ack_of(1101), kNow), ack_outcome::drop);
  EXPECT_EQ(_c.snd_una, seq32{1000});
  auto s = sent();
  ASSERT_EQ(s.size(), 1U);
  EXPECT_EQ(s[0].flags, flag::kAck);
  EXPECT_EQ(s[0].seq, 1100U);
  EXPECT_EQ(s[0].ack, 7000U);
}

// RFC 5961 §5.2: an ACK below SND.UNA - MAX.SND.WND is a blind guess: a
// challenge ACK, and nothing changes.
TEST_F(Connection, AnAckFarBelowSndUnaGetsAChallengeAck) {
  EXPECT_EQ(conn().receive_ack(ack_of(1000 - 65536), kNow), ack_outcome::drop);
  EXPECT_EQ(_counters.challenge_acks.get(), 1U);
  EXPECT_EQ(sent().size(), 1U);
  EXPECT_EQ(_c.snd_wnd, 65535U);
}

// RFC 9293 §3.10.7.4 fifth: the window comes from the newest segment only
// (SND.WL1 < SEG.SEQ, or equal with SND.WL2 =< SEG.ACK).
TEST_F(Connection, AnOlderSegmentDoesNotChangeTheSendWindow) {
  auto newer = ack_of(1000, 7100);
  newer.window = 30000;
  conn().receive_ack(newer, kNow);
  EXPECT_EQ(_c.snd_wnd, 30000U);
  EXPECT_EQ(_c.snd_wl1, seq32{7100});
  auto older = ack_of(1000, 7050);
  older.window = 500;
  conn().receive_ack(older, kNow);
  EXPECT_EQ(_c.snd_wnd, 30000U);
}

// RFC 9293 §3.10.7.4 fifth, by state: our FIN acknowledged moves
// FIN_WAIT_1 to FIN_WAIT_2 (an orphan's with its time limit armed), and
// asks the owner for TIME_WAIT from CLOSING and for CLOSED from LAST_ACK.
TEST_F(Connection, OurFinAcknowledgedMovesFinWait1ToFinWait2) {
  fin_outstanding();
  _c.state = tcp_state::fin_wait_1;
  _c.life = lifecycle::orphan;
  EXPECT_EQ(conn().receive_ack(ack_of(1000), kNow), ack_outcome::go_on);
  EXPECT_EQ(_c.state, tcp_state::fin_wait_1) << "the FIN is not acknowledged yet";
  EXPECT_EQ(conn().receive_ack(ack_of(1001), kNow), ack_outcome::go_on);
  EXPECT_EQ(_c.state, tcp_state::fin_wait_2);
  EXPECT_TRUE(_c.idle_timer().armed()) << "an orphan's FIN_WAIT_2 is limited";
}

TEST_F(Connection, OurFinAcknowledgedInClosingAsksForTimeWait) {
  fin_outstanding();
  _c.state = tcp_state::closing;
  EXPECT_EQ(conn().receive_ack(ack_of(1001), kNow), ack_outcome::time_wait);
  EXPECT_EQ(_c.state, tcp_state::closing) << "the owner moves it";
}

TEST_F(Connection, OurFinAcknowledgedInLastAckAsksForClosed) {
  fin_outstanding();
  _c.state = tcp_state::last_ack;
  EXPECT_EQ(conn().receive_ack(ack_of(1000), kNow), ack_outcome::go_on);
  EXPECT_EQ(conn().receive_ack(ack_of(1001), kNow), ack_outcome::closed);
}

// RFC 5961 §3.2: a RST at RCV.NXT resets; one elsewhere in the window gets
// a challenge ACK and changes nothing.
TEST_F(Connection, AnExactRstResetsAndAnInexactOneIsChallenged) {
  EXPECT_EQ(conn().receive_rst(from_peer(7001, 0, flag::kRst)), rst_outcome::challenged);
  auto s = sent();
  ASSERT_EQ(s.size(), 1U);
  EXPECT_EQ(s[0].flags, flag::kAck);
  EXPECT_EQ(s[0].ack, 7000U);
  EXPECT_EQ(_counters.rst_in.get(), 0U);
  EXPECT_EQ(conn().receive_rst(from_peer(7000, 0, flag::kRst)), rst_outcome::reset);
  EXPECT_EQ(_counters.rst_in.get(), 1U);
  EXPECT_TRUE(sent().empty());
}

// RFC 9293 §3.10.7.4 second: in SYN_RCVD a passive open returns to LISTEN
// (the application never saw it); an active one's was refused.
TEST_F(Connection, ARstInSynRcvdIsToListenOrRefusedByHowItOpened) {
  _c.state = tcp_state::syn_rcvd;
  _c.opened = open_kind::passive;
  EXPECT_EQ(conn().receive_rst(from_peer(7000, 0, flag::kRst)), rst_outcome::to_listen);
  _c.opened = open_kind::active;
  EXPECT_EQ(conn().receive_rst(from_peer(7000, 0, flag::kRst)), rst_outcome::refused);
}

// RFC 9293 §3.10.7.4 first: a segment wholly outside the window goes no
// further and is answered with an ACK of RCV.NXT, within the connection's
// limit (RFC 5961 §7); an out-of-window RST is dropped silently.
TEST_F(Connection, AnOutOfWindowSegmentIsAnsweredWithinTheLimit) {
  _c.rcv_adv = _c.rcv_nxt + 1000;
  EXPECT_TRUE(conn().check_sequence(from_peer(7500, 100), kNow));
  EXPECT_FALSE(conn().check_sequence(from_peer(90000, 100), kNow));
  EXPECT_EQ(_counters.out_of_window.get(), 1U);
  auto s = sent();
  ASSERT_EQ(s.size(), 1U);
  EXPECT_EQ(s[0].ack, 7000U);
  EXPECT_FALSE(conn().check_sequence(from_peer(90000, 100), kNow + base::nanos{kMs}));
  EXPECT_TRUE(sent().empty()) << "limited";
  EXPECT_EQ(_counters.invalid_acks_suppressed.get(), 1U);
  EXPECT_FALSE(conn().check_sequence(from_peer(90000, 0, flag::kRst), kNow + base::nanos{kSec}));
  EXPECT_TRUE(sent().empty()) << "no answer to a RST";
}

// Old data ending at the last ACK sent means that ACK was lost: the answer
// goes at once, whatever the limit (Linux's rcv_wup rule).
TEST_F(Connection, ARetransmissionOfAckedDataIsAnsweredAtOnce) {
  _c.rcv_adv = _c.rcv_nxt + 1000;
  _c.last_ack_sent = seq32{7000};
  // The limit is spent.
  _c.last_invalid_ack_ms = static_cast<std::uint32_t>(base::ns_since_start(kNow) / kMs);
  EXPECT_FALSE(conn().check_sequence(from_peer(6900, 100), kNow));
  auto s = sent();
  ASSERT_EQ(s.size(), 1U);
  EXPECT_EQ(s[0].ack, 7000U);
}

// RFC 7323 §5.3 PAWS: a TSval older than TS.Recent is dropped (and
// answered); once timestamps are agreed a segment without one is dropped
// silently (§3.2); an acceptable one at Last.ACK.sent updates TS.Recent.
TEST_F(Connection, PawsDropsOldTimestampsAndSegmentsWithout) {
  _c.ts_ok = true;
  _c.ts_recent = 5000;
  _c.ts_recent_stamp = kNow;
  _c.last_ack_sent = seq32{7000};
  auto seg = from_peer(7000, 10);
  EXPECT_FALSE(conn().check_sequence(seg, kNow));
  EXPECT_EQ(_counters.timestamp_missing.get(), 1U);
  seg.options.timestamps = wire::tcp_timestamps{.tsval = 4999, .tsecr = 0};
  EXPECT_FALSE(conn().check_sequence(seg, kNow));
  EXPECT_EQ(_counters.paws_rejected.get(), 1U);
  EXPECT_EQ(sent().size(), 1U);
  seg.options.timestamps = wire::tcp_timestamps{.tsval = 5001, .tsecr = 0};
  EXPECT_TRUE(conn().check_sequence(seg, kNow));
  EXPECT_EQ(_c.ts_recent, 5001U);
}

// RFC 3522 §2 (Eifel detection): after a timeout, the first ACK of new data
// echoes the TSval of the original transmission when the original was not
// lost but late (a slow peer, a queue): the timeout was spurious. An ACK
// echoing the retransmission's TSval, or carrying none, proves nothing;
// only that first ACK is looked at.
TEST_F(Connection, AnAckEchoingTheOriginalAfterATimeoutCountsItSpurious) {
  _c.ts_ok = true;
  data_outstanding(1460);
  const std::uint32_t original = conn().tsval(kNow - base::nanos{300 * kMs});
  EXPECT_EQ(conn().on_rto(kNow), timer_outcome::go_on);
  ASSERT_EQ(sent().size(), 1U);
  auto ack = ack_of(1000 + 730);
  ack.options.timestamps = wire::tcp_timestamps{.tsval = 1, .tsecr = original};
  EXPECT_EQ(conn().receive_ack(ack, kNow + base::nanos{kMs}), ack_outcome::go_on);
  EXPECT_EQ(_counters.spurious_rtos.get(), 1U);
  ack = ack_of(1000 + 1460);
  ack.options.timestamps = wire::tcp_timestamps{.tsval = 2, .tsecr = original};
  EXPECT_EQ(conn().receive_ack(ack, kNow + base::nanos{2 * kMs}), ack_outcome::go_on);
  EXPECT_EQ(_counters.spurious_rtos.get(), 1U) << "only the first ACK after the timeout";
}

// Each backoff of a timeout the original's ACK proves needless was needless too.
TEST_F(Connection, EveryBackoffOfASpuriousTimeoutCountsSpurious) {
  _c.ts_ok = true;
  data_outstanding(1460);
  const std::uint32_t original = conn().tsval(kNow - base::nanos{300 * kMs});
  EXPECT_EQ(conn().on_rto(kNow), timer_outcome::go_on);
  EXPECT_EQ(conn().on_rto(kNow + base::nanos{400 * kMs}), timer_outcome::go_on);
  EXPECT_EQ(sent().size(), 2U);
  auto ack = ack_of(1000 + 1460);
  ack.options.timestamps = wire::tcp_timestamps{.tsval = 1, .tsecr = original};
  EXPECT_EQ(conn().receive_ack(ack, kNow + base::nanos{500 * kMs}), ack_outcome::go_on);
  EXPECT_EQ(_counters.rto_expiries.get(), 2U);
  EXPECT_EQ(_counters.spurious_rtos.get(), 2U);
}

TEST_F(Connection, AnAckEchoingTheRetransmissionLeavesTheTimeoutReal) {
  _c.ts_ok = true;
  data_outstanding(1460);
  EXPECT_EQ(conn().on_rto(kNow), timer_outcome::go_on);
  auto ack = ack_of(1000 + 1460);
  ack.options.timestamps = wire::tcp_timestamps{.tsval = 1, .tsecr = conn().tsval(kNow)};
  EXPECT_EQ(conn().receive_ack(ack, kNow + base::nanos{50 * kMs}), ack_outcome::go_on);
  EXPECT_EQ(_counters.rto_expiries.get(), 1U);
  EXPECT_EQ(_counters.spurious_rtos.get(), 0U);
}

TEST_F(Connection, WithoutTimestampsNoTimeoutIsCalledSpurious) {
  data_outstanding(1460);
  EXPECT_EQ(conn().on_rto(kNow), timer_outcome::go_on);
  EXPECT_EQ(conn().receive_ack(ack_of(1000 + 1460), kNow + base::nanos{kMs}), ack_outcome::go_on);
  EXPECT_EQ(_counters.spurious_rtos.get(), 0U);
}

}  // namespace
}  // namespace kbt::tcp::test
