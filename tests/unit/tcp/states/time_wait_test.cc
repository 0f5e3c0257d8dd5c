// TIME_WAIT: both FINs sent and acknowledged, we having closed first. We
// wait 2MSL so that a lost last ACK can be sent again and the old
// connection's segments die out before the tuple is used again. RFC 9293
// §3.10.7.4: the only thing that should come is the peer's FIN again (our
// ACK of it was lost), acknowledged again and restarting the 2MSL wait.
// The TCB is freed and a compact record holds the tuple; it ignores a RST
// unless configured (RFC 1337: a RST cut short would let old segments
// into a new connection), and lets a SYN newer than the old connection
// reopen the tuple (RFC 6191).
#include "state_fixtures.hh"

namespace kbt::tcp::test {
namespace {

TEST_F(TimeWait, BuilderReachesItPassive) {
  EXPECT_EQ(_layer->state_of(support::time_wait(rig(), side::passive).tuple),
            tcp_state::time_wait);
}

TEST_F(TimeWait, BuilderReachesItActive) {
  EXPECT_EQ(_layer->state_of(support::time_wait(rig(), side::active).tuple),
            tcp_state::time_wait);
}

// §3.10.7.4 eighth, TIME_WAIT: a retransmitted FIN is acknowledged again
// <SEQ=SND.NXT><ACK=RCV.NXT> and the state stays.
TEST_F(TimeWait, RetransmittedFinIsAckedAgain) {
  const rig_conn k = support::time_wait(rig(), side::passive);
  rig().input(k.on(support::fin(k.peer_nxt - 1, k.stack_nxt)));
  const auto a = sent_one();
  EXPECT_EQ(a.h.flags, flag::kAck);
  EXPECT_EQ(a.h.seq.value, k.stack_nxt);
  EXPECT_EQ(a.h.ack.value, k.peer_nxt);
  EXPECT_EQ(_layer->state_of(k.tuple), tcp_state::time_wait);
}

TEST_F(TimeWait, RetransmittedFinInTimeWaitIsAckedAndRestartsTwoMsl) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  const std::uint32_t u = _iss + 1;
  const std::uint32_t w = kPeerIsn + 1;
  _layer->shutdown(*c, _now);
  sent_one();
  input({.flags = flag::kFin | flag::kAck, .seq = w, .ack = u + 1});
  ASSERT_EQ(_layer->state_of(kPassiveTuple), tcp_state::time_wait);
  sent_one();
  _layer->release(*c, _now);

  advance_ms(50'000);
  // Our last ACK was lost: the peer sends its FIN again.
  input({.flags = flag::kFin | flag::kAck, .seq = w, .ack = u + 1});
  const auto again = sent_one();
  EXPECT_EQ(again.h.flags, flag::kAck);
  EXPECT_EQ(again.h.seq.value, u + 1);
  EXPECT_EQ(again.h.ack.value, w + 1);
  // 2MSL counts from the retransmitted FIN.
  advance_ms(kTwoMslMs - 1);
  EXPECT_EQ(_layer->state_of(kPassiveTuple), tcp_state::time_wait);
  EXPECT_EQ(_layer->time_wait().size(), 1U);
  advance_ms(1);
  EXPECT_EQ(_layer->time_wait().size(), 0U);
  EXPECT_EQ(_layer->state_of(kPassiveTuple), tcp_state::closed);
}

TEST_F(TimeWait, RstInTimeWaitIsIgnoredByDefault) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  _layer->shutdown(*c, _now);
  sent();
  input({.flags = flag::kFin | flag::kAck, .seq = kPeerIsn + 1, .ack = _iss + 2});
  sent();
  ASSERT_EQ(_layer->state_of(kPassiveTuple), tcp_state::time_wait);
  input({.flags = flag::kRst, .seq = kPeerIsn + 2});
  EXPECT_EQ(_layer->state_of(kPassiveTuple), tcp_state::time_wait);  // RFC 1337
  EXPECT_EQ(_layer->counters().time_wait_rst_ignored.get(), 1U);
}

TEST_F(TimeWait, RstInTimeWaitHonouredWhenConfigured) {
  tcp_config cfg;
  cfg.time_wait_honours_rst = true;
  make_layer(cfg);
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  _layer->shutdown(*c, _now);
  sent();
  input({.flags = flag::kFin | flag::kAck, .seq = kPeerIsn + 1, .ack = _iss + 2});
  sent();
  _layer->release(*c, _now);
  input({.flags = flag::kRst, .seq = kPeerIsn + 2});
  EXPECT_EQ(_layer->state_of(kPassiveTuple), tcp_state::closed);
  EXPECT_EQ(_layer->time_wait().size(), 0U);
  EXPECT_EQ(_layer->counters().time_wait_rst_honoured.get(), 1U);
}

TEST_F(TimeWait, TheTcbIsFreedAndARecordHoldsTheTuple) {
  to_time_wait(true);
  EXPECT_EQ(_layer->state_of(tuple()), tcp_state::time_wait);
  EXPECT_EQ(_layer->find(tuple()), nullptr);
  EXPECT_EQ(_layer->connections(), 0U);
  EXPECT_EQ(_layer->time_wait().size(), 1U);
  EXPECT_EQ(_layer->counters().states[static_cast<std::size_t>(tcp_state::time_wait)].get(), 1U);
}

TEST_F(TimeWait, Rfc6191SynWithANewerTimestampReopensTheTuple) {
  to_time_wait(true);
  // Its sequence number is even below RCV.NXT: the timestamp decides.
  input({.flags = flag::kSyn, .seq = kPeerIsn - 5000, .options = ts(kPeerTs + 10)});
  const auto sa = sent_one();
  EXPECT_EQ(sa.h.flags, flag::kSyn | flag::kAck);
  EXPECT_EQ(sa.h.ack.value, kPeerIsn - 5000 + 1);
  EXPECT_TRUE(seq32{sa.h.seq.value} > seq32{_u + 1}) << "the new ISS starts above the old incarnation";
  EXPECT_EQ(_layer->state_of(tuple()), tcp_state::syn_rcvd);
  EXPECT_EQ(_layer->time_wait().size(), 0U);
  EXPECT_EQ(_layer->counters().time_wait_reused.get(), 1U);
}

TEST_F(TimeWait, ReleasingTheOldConnectionAfterAReuseKeepsTheNewOneInTheTable) {
  // Found by fuzz_tcp_listen_cookies_never: the application released the
  // old connection only after a SYN had reopened its tuple, and freeing the
  // old TCB deleted the tuple from the table again, the new entry with it.
  to_time_wait(true, kPeerPort, false);
  input({.flags = flag::kSyn, .seq = kPeerIsn + 100000, .options = ts(kPeerTs + 10)});
  const auto sa = sent_one();
  ASSERT_EQ(sa.h.flags, flag::kSyn | flag::kAck);
  _layer->release(*_old, _now);
  tcb* c = _layer->find(tuple());
  ASSERT_NE(c, nullptr) << "the new connection is still in the table";
  EXPECT_EQ(c->state, tcp_state::syn_rcvd);
  wire::tcp_options a = ts(kPeerTs + 11);
  a.timestamps->tsecr = sa.h.options.timestamps->tsval;
  input({.flags = flag::kAck, .seq = kPeerIsn + 100001, .ack = sa.h.seq.value + 1, .options = a});
  EXPECT_EQ(c->state, tcp_state::established);
}

TEST_F(TimeWait, Rfc6191SynWithAnOlderTimestampIsSilentlyDropped) {
  to_time_wait(true);
  input({.flags = flag::kSyn, .seq = kPeerIsn + 100000, .options = ts(kPeerTs - 1)});
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(_layer->state_of(tuple()), tcp_state::time_wait);
  EXPECT_EQ(_layer->counters().time_wait_syn_dropped.get(), 1U);
}

TEST_F(TimeWait, Rfc6191WithoutTimestampsAHigherSequenceNumberReopens) {
  to_time_wait(false);
  input({.flags = flag::kSyn, .seq = _w + 1 + 100000});
  const auto sa = sent_one();
  EXPECT_EQ(sa.h.flags, flag::kSyn | flag::kAck);
  EXPECT_TRUE(seq32{sa.h.seq.value} > seq32{_u + 1});
  EXPECT_EQ(_layer->state_of(tuple()), tcp_state::syn_rcvd);
}

TEST_F(TimeWait, Rfc6191WithoutTimestampsALowerSequenceNumberIsDropped) {
  to_time_wait(false);
  input({.flags = flag::kSyn, .seq = kPeerIsn});
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(_layer->state_of(tuple()), tcp_state::time_wait);
  EXPECT_EQ(_layer->counters().time_wait_syn_dropped.get(), 1U);
}

TEST_F(TimeWait, Rfc6191SameTimestampAndAHigherSequenceNumberReopens) {
  // The peer's clock has not ticked since its FIN: the sequence number decides.
  to_time_wait(true);
  input({.flags = flag::kSyn, .seq = _w + 1 + 100000, .options = ts(kPeerTs)});
  const auto sa = sent_one();
  EXPECT_EQ(sa.h.flags, flag::kSyn | flag::kAck);
  EXPECT_EQ(_layer->state_of(tuple()), tcp_state::syn_rcvd);
  EXPECT_EQ(_layer->counters().time_wait_reused.get(), 1U);
}

TEST_F(TimeWait, Rfc6191SameTimestampAndALowerSequenceNumberIsDropped) {
  to_time_wait(true);
  input({.flags = flag::kSyn, .seq = kPeerIsn, .options = ts(kPeerTs)});
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(_layer->state_of(tuple()), tcp_state::time_wait);
  EXPECT_EQ(_layer->counters().time_wait_syn_dropped.get(), 1U);
}

TEST_F(TimeWait, Rfc6191SequenceNumberAtRcvNxtIsNotNewer) {
  // "Greater than the last sequence number seen": RCV.NXT itself is not,
  // as in Linux's tcp_timewait_state_process().
  to_time_wait(false);
  input({.flags = flag::kSyn, .seq = _w + 1});
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(_layer->state_of(tuple()), tcp_state::time_wait);
}

TEST_F(TimeWait, Rfc6191OldWithoutTimestampsAndANewSynWithThemReopens) {
  // Timestamps will be on for the new incarnation and were off for the
  // old: no old segment can carry one, so even a low sequence number is new.
  to_time_wait(false);
  input({.flags = flag::kSyn, .seq = kPeerIsn - 5000, .options = ts(1)});
  const auto sa = sent_one();
  EXPECT_EQ(sa.h.flags, flag::kSyn | flag::kAck);
  EXPECT_EQ(_layer->state_of(tuple()), tcp_state::syn_rcvd);
}

TEST_F(TimeWait, Rfc6191OldWithTimestampsAndANewSynWithoutThemGoesBySequence) {
  to_time_wait(true);
  input({.flags = flag::kSyn, .seq = kPeerIsn});
  EXPECT_TRUE(sent().empty()) << "below RCV.NXT: dropped";
  EXPECT_EQ(_layer->state_of(tuple()), tcp_state::time_wait);
  input({.flags = flag::kSyn, .seq = _w + 1 + 100000});
  const auto sa = sent_one();
  EXPECT_EQ(sa.h.flags, flag::kSyn | flag::kAck);
  EXPECT_EQ(_layer->state_of(tuple()), tcp_state::syn_rcvd);
}

TEST_F(TimeWait, Rfc6191WithTimestampsOffHereTheSequenceNumberDecides) {
  // "Timestamps would be enabled for the new incarnation" needs us to offer
  // them too: with them off, a newer TSval proves nothing.
  tcp_config c;
  c.max_time_wait = 1024;
  c.timestamps = false;
  make_layer(c);
  to_time_wait(false);
  input({.flags = flag::kSyn, .seq = kPeerIsn, .options = ts(kPeerTs + 10)});
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(_layer->state_of(tuple()), tcp_state::time_wait);
}

TEST_F(TimeWait, RetransmittedFinIsAckedWithTimestamps) {
  to_time_wait(true);
  input({.flags = flag::kFin | flag::kAck, .seq = _w, .ack = _u + 1, .options = ts(kPeerTs + 1)});
  const auto ack = sent_one();
  EXPECT_EQ(ack.h.flags, flag::kAck);
  EXPECT_EQ(ack.h.seq.value, _u + 1);
  EXPECT_EQ(ack.h.ack.value, _w + 1);
  ASSERT_TRUE(ack.h.options.timestamps);
  EXPECT_EQ(ack.h.options.timestamps->tsecr, kPeerTs);
}

TEST_F(TimeWait, PawsOldTimestampGetsAnAckAndChangesNothing) {
  to_time_wait(true);
  input({.flags = flag::kAck, .seq = _w + 1, .ack = _u + 1, .payload = "old", .options = ts(kPeerTs - 50)});
  const auto ack = sent_one();
  EXPECT_EQ(ack.h.seq.value, _u + 1);
  EXPECT_EQ(ack.h.ack.value, _w + 1);
  EXPECT_EQ(_layer->counters().paws_rejected.get(), 1U);
  EXPECT_EQ(_layer->state_of(tuple()), tcp_state::time_wait);
}

TEST_F(TimeWait, DataAfterTheFinGetsAnAckButABareAckGetsNothing) {
  to_time_wait(false);
  input({.flags = flag::kAck, .seq = _w + 1, .ack = _u + 1, .payload = "late"});
  const auto ack = sent_one();
  EXPECT_EQ(ack.h.ack.value, _w + 1);
  input({.flags = flag::kAck, .seq = _w + 1, .ack = _u + 1});
  EXPECT_TRUE(sent().empty()) << "ACKing an ACK would loop";
}

// RFC 5961 §7 on a record: what is not the peer's FIN again draws at most
// one ACK per invalid_ack_interval (Linux: tw_last_oow_ack_time).
TEST_F(TimeWait, OutOfWindowAnswersThrottled) {
  to_time_wait(true);
  const auto late = [this](std::uint32_t tsval) {
    input({.flags = flag::kAck, .seq = _w + 1, .ack = _u + 1, .payload = "late",
           .options = ts(tsval)});
  };
  for (int i = 0; i < 50; ++i) late(kPeerTs + 1);
  const auto ack = sent_one();
  EXPECT_EQ(ack.h.seq.value, _u + 1);
  EXPECT_EQ(ack.h.ack.value, _w + 1);
  EXPECT_EQ(_layer->counters().out_of_window.get(), 50U);
  EXPECT_EQ(_layer->counters().invalid_acks_suppressed.get(), 49U);
  // A PAWS-rejected segment shares the record's limit.
  late(kPeerTs - 50);
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(_layer->counters().paws_rejected.get(), 1U);
  EXPECT_EQ(_layer->counters().invalid_acks_suppressed.get(), 50U);
  advance_ms(500);
  late(kPeerTs - 50);
  EXPECT_EQ(sent_one().h.ack.value, _w + 1);
  late(kPeerTs + 1);
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(_layer->counters().invalid_acks_suppressed.get(), 51U);
  EXPECT_EQ(_layer->state_of(tuple()), tcp_state::time_wait);
}

TEST_F(TimeWait, RetransmittedFinAlwaysAcked) {
  to_time_wait(true);
  // The record's limit in force: it has just answered a late segment.
  input({.flags = flag::kAck, .seq = _w + 1, .ack = _u + 1, .payload = "late",
         .options = ts(kPeerTs + 1)});
  EXPECT_EQ(sent().size(), 1U);
  // The peer's FIN again, and again: our ACK of it is lost each time, and
  // the peer waits in LAST_ACK for one. Every one is answered.
  for (int i = 0; i < 5; ++i) {
    input({.flags = flag::kFin | flag::kAck, .seq = _w, .ack = _u + 1,
           .options = ts(kPeerTs + 2 + static_cast<std::uint32_t>(i))});
    const auto ack = sent_one();
    EXPECT_EQ(ack.h.seq.value, _u + 1) << "FIN " << i;
    EXPECT_EQ(ack.h.ack.value, _w + 1) << "FIN " << i;
    advance_ms(50);
  }
  // They neither spent nor lifted the limit: a late segment still waits.
  input({.flags = flag::kAck, .seq = _w + 1, .ack = _u + 1, .payload = "late",
         .options = ts(kPeerTs + 9)});
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(_layer->counters().invalid_acks_suppressed.get(), 1U);
  EXPECT_EQ(_layer->state_of(tuple()), tcp_state::time_wait);
}

TEST_F(TimeWait, FullTableSkipsTimeWaitAndCounts) {
  tcp_config cfg;
  cfg.max_time_wait = 1;
  make_layer(cfg);
  to_time_wait(false, 41000);
  to_time_wait(false, 41001);
  EXPECT_EQ(_layer->state_of(tuple(41000)), tcp_state::time_wait);
  EXPECT_EQ(_layer->state_of(tuple(41001)), tcp_state::closed);
  EXPECT_EQ(_layer->counters().time_wait_overflow.get(), 1U);
  EXPECT_EQ(_layer->connections(), 0U);
}

TEST_F(TimeWait, ConnectRefusesATupleInTimeWait) {
  to_time_wait(false);
  // The same tuple from our side, as an explicit local port: still in 2MSL.
  EXPECT_EQ(_layer->connect(kPeerIp, kPeerPort, _now, kServerPort), nullptr);
}

}  // namespace
}  // namespace kbt::tcp::test
