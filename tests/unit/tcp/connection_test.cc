// tcp::connection (tcp/connection.hh) by itself: a TCB and the narrow
// context alone, with no tcp_layer, no connection table and no listener.
// Its timers and its receive side tell the owner how the connection ends
// (timer_outcome, receive_outcome) rather than ending it; its segments go to
// the segment queue, its news to the event queue.
#include "connection_fixture.hh"

namespace kbt::tcp::test {
namespace {

// RFC 6298 §5.4-5.6: the RTO sends the first unacknowledged segment again
// and backs off; RFC 1122 §4.2.3.5 R2: past max_retries the peer is gone,
// and the connection says so rather than ending itself.
TEST_F(Connection, TheRtoResendsUntilMaxRetriesThenTimesOut) {
  fin_outstanding();
  const std::uint64_t rto_before = _c.rtt.rto_ns();
  EXPECT_EQ(conn().on_rto(kNow), timer_outcome::go_on);
  auto s = sent();
  ASSERT_EQ(s.size(), 1U);
  EXPECT_EQ(s[0].flags, flag::kFin | flag::kAck);
  EXPECT_EQ(s[0].seq, 1000U);
  EXPECT_EQ(s[0].ack, 7000U);
  EXPECT_GT(_c.rtt.rto_ns(), rto_before) << "backed off";
  EXPECT_TRUE(_c.rto_timer().armed());
  EXPECT_EQ(_counters.rto_expiries.get(), 1U);

  _c.retries = _config.max_retries;
  EXPECT_EQ(conn().on_rto(kNow + base::nanos{kSec}), timer_outcome::timed_out);
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(_c.state, tcp_state::established) << "the owner closes it, not the connection";
}

TEST_F(Connection, AnRtoWithNothingOutstandingDoesNothing) {
  EXPECT_EQ(conn().on_rto(kNow), timer_outcome::go_on);
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(_counters.rto_expiries.get(), 0U);
}

// RFC 9293 §3.8.6.1: behind a shut window the persist timer probes with an
// old sequence number; an orphan (nobody reads, its buffer holds the core's
// mbufs) is reset after orphan_probes probes, as Linux's tcp_probe_timer.
TEST_F(Connection, PersistProbesAShutWindowAndResetsAnOrphanAtItsLimit) {
  fin_outstanding();
  _c.snd_wnd = 0;
  EXPECT_EQ(conn().on_persist(kNow), timer_outcome::go_on);
  auto s = sent();
  ASSERT_EQ(s.size(), 1U);
  EXPECT_EQ(s[0].flags, flag::kAck);
  EXPECT_EQ(s[0].seq, 999U) << "SND.UNA - 1";
  EXPECT_TRUE(_c.persist_timer().armed());
  EXPECT_EQ(_counters.zero_window_probes.get(), 1U);

  _c.life = lifecycle::orphan;
  _c.persist_backoff = _config.orphan_probes;
  EXPECT_EQ(conn().on_persist(kNow + base::nanos{kSec}), timer_outcome::reset);
  EXPECT_TRUE(sent().empty()) << "the owner sends the RST";
  EXPECT_EQ(_counters.orphan_probe_timeouts.get(), 1U);
}

// RFC 1122 §4.2.3.6: a keepalive probe is SND.NXT - 1 with no data; past
// keepalive_probes unanswered the peer is gone.
TEST_F(Connection, KeepaliveProbesThenTimesOut) {
  _c.last_rx = base::instant_from_ns(0);
  EXPECT_EQ(conn().on_idle_timeout(kNow + _config.keepalive_idle), timer_outcome::go_on);
  auto s = sent();
  ASSERT_EQ(s.size(), 1U);
  EXPECT_EQ(s[0].seq, 999U);
  EXPECT_EQ(_c.keepalive_sent, 1U);
  _c.keepalive_sent = _config.keepalive_probes;
  EXPECT_EQ(conn().on_idle_timeout(kNow + 2 * _config.keepalive_idle),
            timer_outcome::timed_out);
  EXPECT_TRUE(sent().empty());
}

// An orphan's FIN_WAIT_2 ends on the idle timer (Linux's tcp_fin_timeout);
// one the application holds does not.
TEST_F(Connection, AnOrphansFinWait2RunsOutOnTheIdleTimer) {
  _c.state = tcp_state::fin_wait_2;
  _c.last_rx = kNow;
  EXPECT_EQ(conn().on_idle_timeout(kNow + base::nanos{kSec}), timer_outcome::go_on);
  _c.life = lifecycle::orphan;
  EXPECT_EQ(conn().on_idle_timeout(kNow + base::nanos{kSec}), timer_outcome::closed);
  EXPECT_EQ(_counters.orphan_fin_wait_2_timeouts.get(), 1U);
}

// The delayed ACK acknowledges RCV.NXT and clears what it owed.
TEST_F(Connection, TheDelayedAckAcknowledgesRcvNxt) {
  conn().on_delack(kNow);
  EXPECT_TRUE(sent().empty()) << "nothing owed";
  _c.unacked_segs = 1;
  conn().on_delack(kNow);
  auto s = sent();
  ASSERT_EQ(s.size(), 1U);
  EXPECT_EQ(s[0].flags, flag::kAck);
  EXPECT_EQ(s[0].seq, 1000U);
  EXPECT_EQ(s[0].ack, 7000U);
  EXPECT_EQ(_c.unacked_segs, 0U);
}

// With no tx room a segment waits with its connection (segment_queue.hh):
// the owed ACK is kept and the connection joins the deferred list once.
TEST_F(Connection, NoTxRoomDefersTheConnectionAndKeepsTheAckOwed) {
  _out.set_room(0);
  _c.unacked_segs = 1;
  conn().on_delack(kNow);
  conn().on_delack(kNow);
  EXPECT_TRUE(sent().empty());
  EXPECT_TRUE(_c.ack_now);
  EXPECT_EQ(_deferred.front(), &_c);
  EXPECT_EQ(_counters.tx_deferred.get(), 1U);
  _deferred.remove(_c);
}

// RFC 9293 §3.10.7.4 seventh: in-order text goes to the receive queue,
// the application hears kReadable once, and RFC 5681 §4.2's delayed ACK
// waits for a second segment or the timer.
TEST_F(Connection, InOrderTextIsQueuedReadableAndAckedEverySecondSegment) {
  EXPECT_EQ(receive(7000, 100), receive_outcome::go_on);
  EXPECT_EQ(_c.rcv_nxt, seq32{7100});
  EXPECT_EQ(_c.rx_bytes, 100U);
  EXPECT_FALSE(_c.ack_now);
  EXPECT_TRUE(_c.delack_timer().armed());
  EXPECT_EQ(receive(7100, 50), receive_outcome::go_on);
  EXPECT_EQ(_c.rx_bytes, 150U);
  EXPECT_TRUE(_c.ack_now) << "second segment";
  EXPECT_EQ(events(), event::kReadable);
  EXPECT_EQ(_counters.rcv_mbufs.get(), _c.rcv_held_mbufs()) << "the gauge follows the queue";
}

// Text ahead of RCV.NXT waits in reassembly with an immediate ACK; the
// segment that fills the hole delivers both, in order.
TEST_F(Connection, TextPastAHoleWaitsUntilTheHoleFills) {
  EXPECT_EQ(receive(7100, 100), receive_outcome::go_on);
  EXPECT_EQ(_c.rcv_nxt, seq32{7000});
  EXPECT_TRUE(_c.ack_now) << "RFC 5681 §4.2: out of order is ACKed at once";
  EXPECT_EQ(_counters.ooo_queued.get(), 1U);
  EXPECT_EQ(events(), 0);
  EXPECT_EQ(receive(7000, 100), receive_outcome::go_on);
  EXPECT_EQ(_c.rcv_nxt, seq32{7200});
  EXPECT_EQ(_c.rx_bytes, 200U);
  EXPECT_TRUE(_c.out_of_order.empty());
  EXPECT_EQ(events(), event::kReadable);
}

// The peer's FIN in ESTABLISHED: CLOSE_WAIT at once, kPeerFin, ACKed now.
TEST_F(Connection, AFinInEstablishedIsCloseWait) {
  const auto before = _counters.states[static_cast<std::size_t>(tcp_state::close_wait)].get();
  EXPECT_EQ(receive(7000, 10, flag::kAck | flag::kFin), receive_outcome::go_on);
  EXPECT_EQ(_c.state, tcp_state::close_wait);
  EXPECT_EQ(_c.rcv_nxt, seq32{7011}) << "the text and the FIN";
  EXPECT_TRUE(_c.ack_now);
  EXPECT_EQ(events(), event::kReadable | event::kPeerFin);
  EXPECT_EQ(_counters.states[static_cast<std::size_t>(tcp_state::close_wait)].get(),
            before + 1);
}

// In FIN_WAIT_2 (and FIN_WAIT_1 with our FIN acknowledged) the FIN means
// TIME_WAIT, which the owner keeps: the connection says so and stays put.
TEST_F(Connection, AFinAfterOursWasAckedAsksForTimeWait) {
  _c.state = tcp_state::fin_wait_2;
  EXPECT_EQ(receive(7000, 0, flag::kAck | flag::kFin), receive_outcome::time_wait);
  EXPECT_EQ(_c.state, tcp_state::fin_wait_2) << "the owner moves it to TIME_WAIT";
  EXPECT_EQ(_c.rcv_nxt, seq32{7001});
  EXPECT_TRUE(_c.ack_now);
}

// FIN_WAIT_1 with our FIN still unacknowledged: simultaneous close,
// CLOSING (RFC 9293 §3.6).
TEST_F(Connection, AFinBeforeOursIsAckedIsClosing) {
  fin_outstanding();
  _c.state = tcp_state::fin_wait_1;
  EXPECT_EQ(receive(7000, 0, flag::kAck | flag::kFin), receive_outcome::go_on);
  EXPECT_EQ(_c.state, tcp_state::closing);
}

// RFC 1122 §4.2.2.13: new data for a connection its application released
// will never be read: the owner resets it. The payload is freed here.
TEST_F(Connection, NewTextForAReleasedConnectionIsDataLost) {
  _c.life = lifecycle::orphan;
  const unsigned in_use = rte_mempool_in_use_count(kbt::test::mbuf_pool());
  EXPECT_EQ(receive(7000, 100), receive_outcome::data_lost);
  EXPECT_EQ(rte_mempool_in_use_count(kbt::test::mbuf_pool()), in_use);
  EXPECT_EQ(_c.rx_bytes, 0U);
}

// A passive open's entering and leaving SYN_RCVD is its listener's SYN
// queue; an active open's (simultaneous open) is nobody's.
TEST_F(Connection, SetStateKeepsTheListenersSynQueue) {
  _c.state = tcp_state::listen;
  _c.opened = open_kind::passive;
  _c.listener_slot = 3;
  conn().set_state(tcp_state::syn_rcvd);
  EXPECT_EQ(_syn_queues.of(3), 1U);
  conn().set_state(tcp_state::established);
  EXPECT_EQ(_syn_queues.of(3), 0U);
  _c.opened = open_kind::active;
  conn().set_state(tcp_state::syn_rcvd);
  conn().set_state(tcp_state::established);
  EXPECT_EQ(_syn_queues.of(3), 0U);
}

}  // namespace
}  // namespace kbt::tcp::test
