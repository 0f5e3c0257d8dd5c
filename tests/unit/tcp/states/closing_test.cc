// CLOSING: both FINs sent and the peer's acknowledged, ours not (a
// simultaneous close, RFC 9293 §3.6). §3.10.7.4: the ACK of our FIN moves
// to TIME_WAIT, and any other ACK is ignored; text cannot be valid after
// the peer's FIN and is ignored; a RST closes.
#include "state_fixtures.hh"

namespace kbt::tcp::test {
namespace {

TEST_F(Closing, BuilderReachesItPassive) {
  EXPECT_EQ(_layer->state_of(support::closing(rig(), side::passive).tuple), tcp_state::closing);
}

TEST_F(Closing, BuilderReachesItActive) {
  EXPECT_EQ(_layer->state_of(support::closing(rig(), side::active).tuple), tcp_state::closing);
}

// §3.10.7.4 fifth, CLOSING: the ACK of our FIN enters TIME_WAIT; nothing
// is sent.
TEST_F(Closing, AckOfFinEntersTimeWait) {
  const rig_conn k = support::closing(rig(), side::active);
  rig().input(k.on(support::ack(k.peer_nxt, k.stack_nxt)));
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(_layer->state_of(k.tuple), tcp_state::time_wait);
}

}  // namespace
}  // namespace kbt::tcp::test
