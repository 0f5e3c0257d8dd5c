// FIN_WAIT_2: our FIN acknowledged, the peer's not yet come. RFC 9293
// §3.10.7.4: the peer's text is still taken, its half being open, and its
// FIN moves to TIME_WAIT. The RFC puts no limit on the wait; for a
// connection the application has released the stack does (an orphan
// timeout), or a peer that never closes would hold the TCB for ever, and
// answers its data with a RST, as nobody will read it.
#include "state_fixtures.hh"

namespace kbt::tcp::test {
namespace {

TEST_F(FinWait2, BuilderReachesItPassive) {
  EXPECT_EQ(_layer->state_of(support::fin_wait_2(rig(), side::passive).tuple),
            tcp_state::fin_wait_2);
}

TEST_F(FinWait2, BuilderReachesItActive) {
  EXPECT_EQ(_layer->state_of(support::fin_wait_2(rig(), side::active).tuple),
            tcp_state::fin_wait_2);
}

// §3.10.7.4 seventh, FIN_WAIT_2: the peer may still send; text is taken and
// acknowledged.
TEST_F(FinWait2, DataIsAcceptedAndAcked) {
  const rig_conn k = support::fin_wait_2(rig(), side::active);
  rig().input(k.on(support::data(k.peer_nxt, k.stack_nxt, bytes_of(kHello))));
  advance_ms(500);
  const auto a = sent_one();
  EXPECT_EQ(a.h.flags, flag::kAck);
  EXPECT_EQ(a.h.seq.value, k.stack_nxt);
  EXPECT_EQ(a.h.ack.value, k.peer_nxt + 5);
  EXPECT_EQ(read_all(*_layer, *k.c, _now), kHello);
  EXPECT_EQ(_layer->state_of(k.tuple), tcp_state::fin_wait_2);
}

TEST_F(FinWait2, DataAfterReleaseGetsRstAndTheTcbIsFreed) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  const std::uint32_t u = _iss + 1;
  const std::uint32_t peer = kPeerIsn + 1;
  _layer->release(*c, _now);
  EXPECT_EQ(sent_one().h.flags, flag::kFin | flag::kAck);
  input({.flags = flag::kAck, .seq = peer, .ack = u + 1});
  EXPECT_EQ(_layer->state_of(kPassiveTuple), tcp_state::fin_wait_2);
  input({.flags = flag::kAck | flag::kPsh, .seq = peer, .ack = u + 1, .payload = "more"});
  const auto rst = sent_one();
  EXPECT_EQ(rst.h.flags, flag::kRst);  // as abort(): <SEQ=SND.NXT><CTL=RST>
  EXPECT_EQ(rst.h.seq.value, u + 1);
  EXPECT_EQ(_layer->state_of(kPassiveTuple), tcp_state::closed);
  EXPECT_EQ(_layer->connections(), 0U);
  EXPECT_EQ(_layer->counters().reset_data_lost.get(), 1U);
  // What follows finds no connection: RST <SEQ=SEG.ACK>.
  input({.flags = flag::kAck | flag::kPsh, .seq = peer + 4, .ack = u + 1, .payload = "again"});
  const auto again = sent_one();
  EXPECT_EQ(again.h.flags, flag::kRst);
  EXPECT_EQ(again.h.seq.value, u + 1);
}

// Found by the soak once bug 1 was fixed: a connection released in
// SYN_SENT sent its data and FIN, the peer aborted, its RST was lost, and
// the orphan sat in FIN_WAIT_2 for ever with no timer.
TEST_F(FinWait2, ReleasedConnectionInFinWait2GoesAfterTheOrphanTimeout) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  _layer->release(*c, _now);
  sent();
  input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = _iss + 2});
  EXPECT_EQ(_layer->state_of(kPassiveTuple), tcp_state::fin_wait_2);
  advance_ms(60'000 - 1);
  EXPECT_EQ(_layer->state_of(kPassiveTuple), tcp_state::fin_wait_2);
  advance_ms(1);
  EXPECT_EQ(_layer->state_of(kPassiveTuple), tcp_state::closed);
  EXPECT_EQ(_layer->connections(), 0U);
  EXPECT_EQ(_layer->counters().orphan_fin_wait_2_timeouts.get(), 1U);
  EXPECT_TRUE(sent().empty());
}

TEST_F(FinWait2, HalfClosedConnectionTheApplicationHoldsStaysInFinWait2) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  _layer->shutdown(*c, _now);
  sent();
  input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = _iss + 2});
  advance_ms(600'000);
  EXPECT_EQ(c->state, tcp_state::fin_wait_2) << "the peer may send for as long as it likes";
  _layer->release(*c, _now);  // now the timeout runs
  advance_ms(60'000);
  EXPECT_EQ(_layer->state_of(kPassiveTuple), tcp_state::closed);
  EXPECT_EQ(_layer->counters().orphan_fin_wait_2_timeouts.get(), 1U);
}

}  // namespace
}  // namespace kbt::tcp::test
