// Opening a connection, RFC 9293 §3.5, the seed documents' sequence (x,0)
// (y,x+1) (x+1,y+1) followed through every state it passes: passive,
// active and simultaneous. What one state does with a segment or a call
// is in states/.
#include "tcp_fixture.hh"

namespace kbt::tcp::test {
namespace {

using Handshake = TcpFixture;

TEST_F(Handshake, PassiveOpenFollowsTheThreeWaySequence) {
  ASSERT_TRUE(_layer->listen(kServerPort));
  const std::uint32_t x = kPeerIsn;
  input({.flags = flag::kSyn, .seq = x});
  const auto synack = sent_one();
  EXPECT_EQ(synack.h.flags, flag::kSyn | flag::kAck);
  EXPECT_EQ(synack.h.ack.value, x + 1);  // (y, x+1)
  EXPECT_EQ(synack.h.options.mss, 1460);
  const std::uint32_t y = synack.h.seq.value;
  tcb* c = _layer->find({kStackIp, kPeerIp, kServerPort, kPeerPort});
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->state, tcp_state::syn_rcvd);
  EXPECT_EQ(events_for(c), 0);  // not handed out before the handshake completes

  input({.flags = flag::kAck, .seq = x + 1, .ack = y + 1});  // (x+1, y+1)
  EXPECT_TRUE(sent().empty()) << "a bare ACK is not answered";
  EXPECT_EQ(c->state, tcp_state::established);
  EXPECT_EQ(c->snd_una.value, y + 1);
  EXPECT_EQ(c->snd_nxt.value, y + 1);
  EXPECT_EQ(c->rcv_nxt.value, x + 1);
  EXPECT_NE(events_for(c) & event::kConnected, 0);
}

TEST_F(Handshake, ActiveOpenFollowsTheThreeWaySequence) {
  tcb* c = _layer->connect(kPeerIp, kServerPort, _now, 50000);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->state, tcp_state::syn_sent);
  const auto syn = sent_one();
  EXPECT_EQ(syn.h.flags, flag::kSyn);  // (x, 0)
  EXPECT_EQ(syn.h.ack.value, 0U);
  EXPECT_TRUE(syn.h.options.mss);
  EXPECT_TRUE(syn.h.options.window_scale);
  EXPECT_TRUE(syn.h.options.sack_permitted);
  EXPECT_TRUE(syn.h.options.timestamps);
  const std::uint32_t x = syn.h.seq.value;
  const std::uint32_t y = 777;
  input({.flags = flag::kSyn | flag::kAck, .seq = y, .ack = x + 1, .src_port = kServerPort,
         .dst_port = 50000});
  const auto ack = sent_one();
  EXPECT_EQ(ack.h.flags, flag::kAck);  // (x+1, y+1)
  EXPECT_EQ(ack.h.seq.value, x + 1);
  EXPECT_EQ(ack.h.ack.value, y + 1);
  EXPECT_EQ(c->state, tcp_state::established);
  EXPECT_NE(events_for(c) & event::kConnected, 0);
}

TEST_F(Handshake, SimultaneousOpenGoesThroughSynRcvd) {
  // RFC 9293 §3.5 figure 8.
  tcb* c = _layer->connect(kPeerIp, kServerPort, _now, kPeerPort);
  ASSERT_NE(c, nullptr);
  const std::uint32_t x = sent_one().h.seq.value;
  const std::uint32_t y = 300;
  // The peer's own SYN crosses ours.
  input({.flags = flag::kSyn, .seq = y, .src_port = kServerPort, .dst_port = kPeerPort});
  EXPECT_EQ(c->state, tcp_state::syn_rcvd);
  const auto synack = sent_one();
  EXPECT_EQ(synack.h.flags, flag::kSyn | flag::kAck);
  EXPECT_EQ(synack.h.seq.value, x);
  EXPECT_EQ(synack.h.ack.value, y + 1);
  // The peer's SYN-ACK for our SYN.
  input({.flags = flag::kSyn | flag::kAck, .seq = y, .ack = x + 1, .src_port = kServerPort,
         .dst_port = kPeerPort});
  EXPECT_EQ(c->state, tcp_state::established);
  EXPECT_NE(events_for(c) & event::kConnected, 0);
  for (const auto& s : sent()) {
    EXPECT_EQ(s.h.flags, flag::kAck);
    EXPECT_EQ(s.h.seq.value, x + 1);
    EXPECT_EQ(s.h.ack.value, y + 1);
  }
}

}  // namespace
}  // namespace kbt::tcp::test
