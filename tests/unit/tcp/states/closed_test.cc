// CLOSED: no TCB for the tuple and no listener on the port, or a TCB the
// application still holds after its connection ended. RFC 9293 §3.10.7.1:
// whatever arrives is discarded, and anything but a RST is answered with a
// RST numbered from the segment itself, there being no state here to
// number it from: <SEQ=SEG.ACK><CTL=RST> if it carried an ACK, else
// <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, so that the sender accepts
// it. A RST is never answered, or two ends without state would go on
// resetting each other.
#include "state_fixtures.hh"

namespace kbt::tcp::test {
namespace {

TEST_F(Closed, BuilderReachesItPassive) {
  const rig_conn k = support::closed(rig(), side::passive);
  EXPECT_EQ(_layer->state_of(k.tuple), tcp_state::closed);
  ASSERT_NE(k.c, nullptr);
  EXPECT_EQ(k.c->state, tcp_state::closed);
  _layer->release(*k.c, _now);
}

TEST_F(Closed, BuilderReachesItActive) {
  const rig_conn k = support::closed(rig(), side::active);
  EXPECT_EQ(_layer->state_of(k.tuple), tcp_state::closed);
  ASSERT_NE(k.c, nullptr);
  EXPECT_EQ(k.c->state, tcp_state::closed);
  _layer->release(*k.c, _now);
}

// §3.10.7.1: in CLOSED a segment with ACK gets <SEQ=SEG.ACK><CTL=RST>.
TEST_F(Closed, AckGetsRstWithSeqOfSegAck) {
  const rig_conn k = support::closed(rig(), side::active);
  rig().input(k.on(support::ack(k.peer_nxt, k.stack_nxt + 7)));
  const auto rst = sent_one();
  EXPECT_EQ(rst.h.flags, flag::kRst);
  EXPECT_EQ(rst.h.seq.value, k.stack_nxt + 7);
  EXPECT_EQ(rst.h.src_port, k.tuple.local_port);
  _layer->release(*k.c, _now);
}

TEST_F(Closed, SynToAClosedPortGetsRstAck) {
  // RFC 9293 §3.10.7.1: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>
  input({.flags = flag::kSyn, .seq = 5000, .dst_port = 81});
  const auto rst = sent_one();
  EXPECT_EQ(rst.h.flags, flag::kRst | flag::kAck);
  EXPECT_EQ(rst.h.seq.value, 0U);
  EXPECT_EQ(rst.h.ack.value, 5001U);
  EXPECT_EQ(rst.h.src_port, 81);
  EXPECT_EQ(rst.h.dst_port, kPeerPort);
  EXPECT_EQ(_layer->connections(), 0U);
}

TEST_F(Closed, RstWithoutConnectionIsNotAnswered) {
  input({.flags = flag::kRst, .seq = 5000, .dst_port = 81});
  EXPECT_TRUE(sent().empty());
}

TEST_F(Closed, SegmentForAClosedConnectionStillHeldGetsRst) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  input({.flags = flag::kRst, .seq = kPeerIsn + 1});
  ASSERT_EQ(c->state, tcp_state::closed);  // the application has not released it yet
  input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = _iss + 1, .payload = "late"});
  const auto rst = sent_one();
  EXPECT_EQ(rst.h.flags, flag::kRst);
  EXPECT_EQ(rst.h.seq.value, _iss + 1);
}

}  // namespace
}  // namespace kbt::tcp::test
