// Closing, RFC 9293 §3.6, followed through every state it passes: the seed
// documents' four-way sequence (u,·) (v,u+1) (w,u+1) (u+1,w+1) into
// TIME_WAIT and its end, the peer closing first with a half-close, and both
// at once. What one state does with a segment or a call is in states/.
#include "states/state_fixtures.hh"

namespace kbt::tcp::test {
namespace {

using Close = TcpFixture;

TEST_F(Close, ActiveCloseFourWaySequence) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  const std::uint32_t u = _iss + 1;          // our FIN's sequence number
  const std::uint32_t peer = kPeerIsn + 1;   // the peer's next sequence number
  _layer->shutdown(*c, _now);
  const auto fin = sent_one();  // (u, ·)
  EXPECT_EQ(fin.h.flags, flag::kFin | flag::kAck);
  EXPECT_EQ(fin.h.seq.value, u);
  EXPECT_EQ(fin.h.ack.value, peer);
  EXPECT_EQ(c->state, tcp_state::fin_wait_1);

  input({.flags = flag::kAck, .seq = peer, .ack = u + 1});  // (v, u+1)
  EXPECT_EQ(c->state, tcp_state::fin_wait_2);
  EXPECT_TRUE(sent().empty());

  input({.flags = flag::kFin | flag::kAck, .seq = peer, .ack = u + 1});  // (w, u+1)
  const auto last = sent_one();  // (u+1, w+1)
  EXPECT_EQ(last.h.flags, flag::kAck);
  EXPECT_EQ(last.h.seq.value, u + 1);
  EXPECT_EQ(last.h.ack.value, peer + 1);
  EXPECT_EQ(_layer->state_of(kPassiveTuple), tcp_state::time_wait);
  EXPECT_NE(events_for(c) & event::kClosed, 0);
  EXPECT_EQ(c->reason, close_reason::normal);
  _layer->release(*c, _now);

  EXPECT_EQ(_layer->connections(), 0U);  // the TCB is free: a record holds TIME_WAIT
  EXPECT_EQ(_layer->time_wait().size(), 1U);
  advance_ms(kTwoMslMs - 1);
  EXPECT_EQ(_layer->state_of(kPassiveTuple), tcp_state::time_wait);
  advance_ms(1);
  EXPECT_EQ(_layer->state_of(kPassiveTuple), tcp_state::closed);  // 2MSL over
  EXPECT_EQ(_layer->time_wait().size(), 0U);
  EXPECT_EQ(_layer->counters().states[static_cast<std::size_t>(tcp_state::time_wait)].get(), 0U);
}

TEST_F(Close, PassiveCloseWithHalfCloseThenLastAck) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  const std::uint32_t u = kPeerIsn + 1;  // the peer's FIN
  const std::uint32_t v = _iss + 1;
  input({.flags = flag::kFin | flag::kAck, .seq = u, .ack = v});  // (u, ·)
  const auto ack = sent_one();                                    // (v, u+1)
  EXPECT_EQ(ack.h.flags, flag::kAck);
  EXPECT_EQ(ack.h.seq.value, v);
  EXPECT_EQ(ack.h.ack.value, u + 1);
  EXPECT_EQ(c->state, tcp_state::close_wait);
  EXPECT_NE(events_for(c) & event::kPeerFin, 0);

  // Half-close: CLOSE_WAIT keeps sending.
  const std::string reply = "still talking";
  EXPECT_EQ(_layer->send_copy(*c, std::as_bytes(std::span(reply.data(), reply.size())), _now),
            reply.size());
  const auto data = sent_one();
  EXPECT_EQ(text(data), reply);
  EXPECT_EQ(data.h.seq.value, v);
  EXPECT_EQ(data.h.ack.value, u + 1);
  input({.flags = flag::kAck, .seq = u + 1, .ack = v + 13});

  const std::uint32_t w = v + 13;
  _layer->shutdown(*c, _now);
  const auto fin = sent_one();  // (w, u+1)
  EXPECT_EQ(fin.h.flags, flag::kFin | flag::kAck);
  EXPECT_EQ(fin.h.seq.value, w);
  EXPECT_EQ(fin.h.ack.value, u + 1);
  EXPECT_EQ(c->state, tcp_state::last_ack);

  input({.flags = flag::kAck, .seq = u + 1, .ack = w + 1});  // (u+1, w+1)
  EXPECT_EQ(c->state, tcp_state::closed);
  EXPECT_NE(events_for(c) & event::kClosed, 0);
  EXPECT_EQ(c->reason, close_reason::normal);
  EXPECT_TRUE(sent().empty());
  _layer->release(*c, _now);
  EXPECT_EQ(_layer->connections(), 0U);
}

TEST_F(Close, SimultaneousCloseGoesThroughClosing) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  const std::uint32_t u = _iss + 1;
  const std::uint32_t w = kPeerIsn + 1;
  _layer->shutdown(*c, _now);
  sent_one();
  // The peer's FIN crosses ours: it does not ACK our FIN.
  input({.flags = flag::kFin | flag::kAck, .seq = w, .ack = u});
  EXPECT_EQ(c->state, tcp_state::closing);
  const auto ack = sent_one();
  EXPECT_EQ(ack.h.seq.value, u + 1);
  EXPECT_EQ(ack.h.ack.value, w + 1);
  // Then the ACK of our FIN.
  input({.flags = flag::kAck, .seq = w + 1, .ack = u + 1});
  EXPECT_EQ(_layer->state_of(kPassiveTuple), tcp_state::time_wait);
  EXPECT_TRUE(sent().empty());
}

}  // namespace
}  // namespace kbt::tcp::test
