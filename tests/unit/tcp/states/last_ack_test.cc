// LAST_ACK: the peer closed first, then we did; our FIN waits for its
// ACK. RFC 9293 §3.10.7.4: that ACK is the only thing that should come,
// and it deletes the TCB at once (CLOSED): the peer, having closed first,
// holds TIME_WAIT for the tuple. The peer's FIN again is answered with an
// ACK; a RST closes.
#include "state_fixtures.hh"

namespace kbt::tcp::test {
namespace {

TEST_F(LastAck, BuilderReachesItPassive) {
  EXPECT_EQ(_layer->state_of(support::last_ack(rig(), side::passive).tuple), tcp_state::last_ack);
}

TEST_F(LastAck, BuilderReachesItActive) {
  EXPECT_EQ(_layer->state_of(support::last_ack(rig(), side::active).tuple), tcp_state::last_ack);
}

// §3.10.7.4 fifth, LAST_ACK: the ACK of our FIN closes; nothing is sent.
TEST_F(LastAck, AckOfFinCloses) {
  const rig_conn k = support::last_ack(rig(), side::passive);
  rig().input(k.on(support::ack(k.peer_nxt, k.stack_nxt)));
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(_layer->state_of(k.tuple), tcp_state::closed);
  EXPECT_EQ(k.c->state, tcp_state::closed);
  _layer->release(*k.c, _now);
}

}  // namespace
}  // namespace kbt::tcp::test
