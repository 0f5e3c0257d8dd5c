// TIME_WAIT as a compact record (RFC 9293 §3.10.7.4 TIME-WAIT, RFC 1337,
// RFC 6191 reuse by a newer SYN, RFC 7323 PAWS).
#include "tcp_fixture.hh"

namespace kbt::tcp::test {
namespace {

class TimeWaitState : public TcpFixture {
 protected:
  static constexpr std::uint32_t kPeerTs = 100;

  // The passive connection closed by us first: TIME_WAIT. Sets _u to our
  // FIN's sequence number and _w to the peer's.
  // `release`: the application lets go of the old connection at once.
  void to_time_wait(bool timestamps, std::uint16_t port = kPeerPort, bool release = true) {
    wire::tcp_options o;
    o.mss = 1460;
    if (timestamps) o.timestamps = wire::tcp_timestamps{kPeerTs, 0};
    ASSERT_TRUE(_layer->listen(kServerPort));
    input({.flags = flag::kSyn, .seq = kPeerIsn, .options = o, .src_port = port});
    const auto sa = sent_one();
    _iss = sa.h.seq.value;
    wire::tcp_options a;
    if (timestamps) a.timestamps = wire::tcp_timestamps{kPeerTs, sa.h.options.timestamps->tsval};
    input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = _iss + 1, .options = a, .src_port = port});
    tcb* c = _layer->find({kStackIp, kPeerIp, kServerPort, port});
    ASSERT_NE(c, nullptr);
    _layer->shutdown(*c, _now);
    sent();
    _u = _iss + 1;
    _w = kPeerIsn + 1;
    input({.flags = flag::kFin | flag::kAck, .seq = _w, .ack = _u + 1, .options = a, .src_port = port});
    sent();
    _old = c;
    if (release) _layer->release(*c, _now);
  }
  four_tuple tuple(std::uint16_t port = kPeerPort) const { return {kStackIp, kPeerIp, kServerPort, port}; }
  wire::tcp_options ts(std::uint32_t tsval) const {
    wire::tcp_options o;
    o.timestamps = wire::tcp_timestamps{tsval, 0};
    return o;
  }
  std::uint32_t _u = 0;
  std::uint32_t _w = 0;
  tcb* _old = nullptr;
};

TEST_F(TimeWaitState, TheTcbIsFreedAndARecordHoldsTheTuple) {
  to_time_wait(true);
  EXPECT_EQ(_layer->state_of(tuple()), tcp_state::time_wait);
  EXPECT_EQ(_layer->find(tuple()), nullptr);
  EXPECT_EQ(_layer->connections(), 0U);
  EXPECT_EQ(_layer->time_wait().size(), 1U);
  EXPECT_EQ(_layer->counters().states[static_cast<std::size_t>(tcp_state::time_wait)].get(), 1U);
}

TEST_F(TimeWaitState, Rfc6191SynWithANewerTimestampReopensTheTuple) {
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

TEST_F(TimeWaitState, ReleasingTheOldConnectionAfterAReuseKeepsTheNewOneInTheTable) {
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

TEST_F(TimeWaitState, Rfc6191SynWithAnOlderTimestampIsSilentlyDropped) {
  to_time_wait(true);
  input({.flags = flag::kSyn, .seq = kPeerIsn + 100000, .options = ts(kPeerTs - 1)});
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(_layer->state_of(tuple()), tcp_state::time_wait);
  EXPECT_EQ(_layer->counters().time_wait_syn_dropped.get(), 1U);
}

TEST_F(TimeWaitState, Rfc6191WithoutTimestampsAHigherSequenceNumberReopens) {
  to_time_wait(false);
  input({.flags = flag::kSyn, .seq = _w + 1 + 100000});
  const auto sa = sent_one();
  EXPECT_EQ(sa.h.flags, flag::kSyn | flag::kAck);
  EXPECT_TRUE(seq32{sa.h.seq.value} > seq32{_u + 1});
  EXPECT_EQ(_layer->state_of(tuple()), tcp_state::syn_rcvd);
}

TEST_F(TimeWaitState, Rfc6191WithoutTimestampsALowerSequenceNumberIsDropped) {
  to_time_wait(false);
  input({.flags = flag::kSyn, .seq = kPeerIsn});
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(_layer->state_of(tuple()), tcp_state::time_wait);
  EXPECT_EQ(_layer->counters().time_wait_syn_dropped.get(), 1U);
}

TEST_F(TimeWaitState, Rfc6191SameTimestampAndAHigherSequenceNumberReopens) {
  // The peer's clock has not ticked since its FIN: the sequence number decides.
  to_time_wait(true);
  input({.flags = flag::kSyn, .seq = _w + 1 + 100000, .options = ts(kPeerTs)});
  const auto sa = sent_one();
  EXPECT_EQ(sa.h.flags, flag::kSyn | flag::kAck);
  EXPECT_EQ(_layer->state_of(tuple()), tcp_state::syn_rcvd);
  EXPECT_EQ(_layer->counters().time_wait_reused.get(), 1U);
}

TEST_F(TimeWaitState, Rfc6191SameTimestampAndALowerSequenceNumberIsDropped) {
  to_time_wait(true);
  input({.flags = flag::kSyn, .seq = kPeerIsn, .options = ts(kPeerTs)});
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(_layer->state_of(tuple()), tcp_state::time_wait);
  EXPECT_EQ(_layer->counters().time_wait_syn_dropped.get(), 1U);
}

TEST_F(TimeWaitState, Rfc6191SequenceNumberAtRcvNxtIsNotNewer) {
  // "Greater than the last sequence number seen": RCV.NXT itself is not,
  // as in Linux's tcp_timewait_state_process().
  to_time_wait(false);
  input({.flags = flag::kSyn, .seq = _w + 1});
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(_layer->state_of(tuple()), tcp_state::time_wait);
}

TEST_F(TimeWaitState, Rfc6191OldWithoutTimestampsAndANewSynWithThemReopens) {
  // Timestamps will be on for the new incarnation and were off for the
  // old: no old segment can carry one, so even a low sequence number is new.
  to_time_wait(false);
  input({.flags = flag::kSyn, .seq = kPeerIsn - 5000, .options = ts(1)});
  const auto sa = sent_one();
  EXPECT_EQ(sa.h.flags, flag::kSyn | flag::kAck);
  EXPECT_EQ(_layer->state_of(tuple()), tcp_state::syn_rcvd);
}

TEST_F(TimeWaitState, Rfc6191OldWithTimestampsAndANewSynWithoutThemGoesBySequence) {
  to_time_wait(true);
  input({.flags = flag::kSyn, .seq = kPeerIsn});
  EXPECT_TRUE(sent().empty()) << "below RCV.NXT: dropped";
  EXPECT_EQ(_layer->state_of(tuple()), tcp_state::time_wait);
  input({.flags = flag::kSyn, .seq = _w + 1 + 100000});
  const auto sa = sent_one();
  EXPECT_EQ(sa.h.flags, flag::kSyn | flag::kAck);
  EXPECT_EQ(_layer->state_of(tuple()), tcp_state::syn_rcvd);
}

TEST_F(TimeWaitState, Rfc6191WithTimestampsOffHereTheSequenceNumberDecides) {
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

TEST_F(TimeWaitState, RetransmittedFinIsAckedWithTimestamps) {
  to_time_wait(true);
  input({.flags = flag::kFin | flag::kAck, .seq = _w, .ack = _u + 1, .options = ts(kPeerTs + 1)});
  const auto ack = sent_one();
  EXPECT_EQ(ack.h.flags, flag::kAck);
  EXPECT_EQ(ack.h.seq.value, _u + 1);
  EXPECT_EQ(ack.h.ack.value, _w + 1);
  ASSERT_TRUE(ack.h.options.timestamps);
  EXPECT_EQ(ack.h.options.timestamps->tsecr, kPeerTs);
}

TEST_F(TimeWaitState, PawsOldTimestampGetsAnAckAndChangesNothing) {
  to_time_wait(true);
  input({.flags = flag::kAck, .seq = _w + 1, .ack = _u + 1, .payload = "old", .options = ts(kPeerTs - 50)});
  const auto ack = sent_one();
  EXPECT_EQ(ack.h.seq.value, _u + 1);
  EXPECT_EQ(ack.h.ack.value, _w + 1);
  EXPECT_EQ(_layer->counters().paws_rejected.get(), 1U);
  EXPECT_EQ(_layer->state_of(tuple()), tcp_state::time_wait);
}

TEST_F(TimeWaitState, DataAfterTheFinGetsAnAckButABareAckGetsNothing) {
  to_time_wait(false);
  input({.flags = flag::kAck, .seq = _w + 1, .ack = _u + 1, .payload = "late"});
  const auto ack = sent_one();
  EXPECT_EQ(ack.h.ack.value, _w + 1);
  input({.flags = flag::kAck, .seq = _w + 1, .ack = _u + 1});
  EXPECT_TRUE(sent().empty()) << "ACKing an ACK would loop";
}

// RFC 5961 §7 on a record: what is not the peer's FIN again draws at most
// one ACK per invalid_ack_interval_ns (Linux: tw_last_oow_ack_time).
TEST_F(TimeWaitState, OutOfWindowAnswersThrottled) {
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

TEST_F(TimeWaitState, RetransmittedFinAlwaysAcked) {
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

TEST_F(TimeWaitState, FullTableSkipsTimeWaitAndCounts) {
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

TEST_F(TimeWaitState, ConnectRefusesATupleInTimeWait) {
  to_time_wait(false);
  // The same tuple from our side, as an explicit local port: still in 2MSL.
  EXPECT_EQ(_layer->connect(kPeerIp, kPeerPort, _now, kServerPort), nullptr);
}

}  // namespace
}  // namespace kbt::tcp::test
