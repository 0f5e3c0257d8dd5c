// FIN_WAIT_1: our FIN sent (shutdown or release), not yet acknowledged.
// RFC 9293 §3.10.7.4 as in ESTABLISHED, the peer's half being open: its
// text is still delivered. In addition the ACK of our FIN moves to
// FIN_WAIT_2, and the peer's FIN to TIME_WAIT if our FIN is acknowledged
// (before or by the same segment) or to CLOSING if not, both sides then
// closing at once. Our FIN is retransmitted like data until acknowledged,
// a closed window included.
#include "state_fixtures.hh"

namespace kbt::tcp::test {
namespace {

TEST_F(FinWait1, BuilderReachesItPassive) {
  EXPECT_EQ(_layer->state_of(support::fin_wait_1(rig(), side::passive).tuple),
            tcp_state::fin_wait_1);
}

TEST_F(FinWait1, BuilderReachesItActive) {
  EXPECT_EQ(_layer->state_of(support::fin_wait_1(rig(), side::active).tuple),
            tcp_state::fin_wait_1);
}

// §3.10.7.4 eighth, FIN_WAIT_1: a FIN that also acknowledges ours goes
// straight to TIME_WAIT, ACKed with <ACK=FIN+1>.
TEST_F(FinWait1, FinThatAcksOursEntersTimeWait) {
  const rig_conn k = support::fin_wait_1(rig(), side::passive);
  rig().input(k.on(support::fin(k.peer_nxt, k.stack_nxt)));
  const auto a = sent_one();
  EXPECT_EQ(a.h.flags, flag::kAck);
  EXPECT_EQ(a.h.seq.value, k.stack_nxt);
  EXPECT_EQ(a.h.ack.value, k.peer_nxt + 1);
  EXPECT_EQ(_layer->state_of(k.tuple), tcp_state::time_wait);
}

TEST_F(FinWait1, FinWait1StraightToTimeWaitOnFinAck) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  const std::uint32_t u = _iss + 1;
  _layer->shutdown(*c, _now);
  sent_one();
  // One segment both ACKs our FIN and carries the peer's.
  input({.flags = flag::kFin | flag::kAck, .seq = kPeerIsn + 1, .ack = u + 1});
  EXPECT_EQ(_layer->state_of(kPassiveTuple), tcp_state::time_wait);
  const auto ack = sent_one();
  EXPECT_EQ(ack.h.flags, flag::kAck);
  EXPECT_EQ(ack.h.seq.value, u + 1);
  EXPECT_EQ(ack.h.ack.value, kPeerIsn + 2);
}

TEST_F(FinWait1, DataAfterShutdownIsStillDelivered) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  const std::uint32_t u = _iss + 1;
  const std::uint32_t peer = kPeerIsn + 1;
  _layer->shutdown(*c, _now);  // a half-close: the application still reads
  sent();
  input({.flags = flag::kAck | flag::kPsh, .seq = peer, .ack = u + 1, .payload = "more"});
  EXPECT_EQ(c->state, tcp_state::fin_wait_2);
  EXPECT_EQ(read_all(*_layer, *c, _now), "more");
  EXPECT_EQ(_layer->counters().reset_data_lost.get(), 0U);
}

TEST_F(FinWait1, FinIntoAClosedWindowIsProbedForThenSentOrGivenUp) {
  // Found by fuzz_tcp_established: our FIN outstanding, the peer's window
  // closed, nothing unsent. The RTO switched to persist, which saw nothing
  // to send and stopped: the connection sat in FIN_WAIT_1 for ever.
  for (bool peer_answers : {true, false}) {
    tcp_config cfg;
    cfg.max_retries = 3;
    make_layer(cfg);
    tcb* c = established_passive();
    ASSERT_NE(c, nullptr);
    _layer->shutdown(*c, _now);
    const auto fin = sent_one();
    ASSERT_TRUE(fin.has(flag::kFin));
    // The peer's window closes; it does not take the FIN.
    input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = _iss + 1, .window = 0});
    ASSERT_EQ(c->state, tcp_state::fin_wait_1);
    for (int i = 0; i < 10; ++i) {
      advance_ms(30'000);
      if (peer_answers) {
        for (std::size_t k = sent().size(); k > 0; --k) {
          input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = _iss + 1, .window = 0});
        }
      }
    }
    if (peer_answers) {
      EXPECT_EQ(c->state, tcp_state::fin_wait_1) << "probes answered: the connection stays";
      EXPECT_GT(_layer->counters().zero_window_probes.get(), 3U);
      sent();
      // The window opens: the FIN goes again, and its ACK moves us on.
      input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = _iss + 1, .window = 1000});
      advance_ms(c->rtt.rto_ns() / kMs + 1);
      bool fin_again = false;
      for (const auto& s : sent()) fin_again = fin_again || s.has(flag::kFin);
      EXPECT_TRUE(fin_again);
      input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = _iss + 2, .window = 1000});
      EXPECT_EQ(c->state, tcp_state::fin_wait_2);
    } else {
      EXPECT_EQ(c->state, tcp_state::closed) << "a silent peer: given up";
      EXPECT_EQ(_layer->counters().timeouts.get(), 1U);
    }
  }
}

}  // namespace
}  // namespace kbt::tcp::test
