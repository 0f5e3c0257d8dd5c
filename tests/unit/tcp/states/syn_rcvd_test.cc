// SYN_RCVD: the peer's SYN taken and our SYN-ACK sent, after LISTEN
// (passive) or after our own SYN crossed the peer's (simultaneous open).
// RFC 9293 §3.10.7.4 from here on: a segment must first be in the window.
// A RST sends a passive open back to LISTEN, since the listener still
// serves other peers, and refuses an active one. An ACK is acceptable only
// if it acknowledges our SYN (SND.UNA < SEG.ACK =< SND.NXT), which
// establishes the connection, its text and FIN then processed as
// ESTABLISHED's; any other gets <SEQ=SEG.ACK><CTL=RST>. The SYN-ACK is
// retransmitted until then, and a CLOSE meanwhile holds its FIN back.
#include "state_fixtures.hh"

namespace kbt::tcp::test {
namespace {

TEST_F(SynRcvd, BuilderReachesItPassive) {
  EXPECT_EQ(_layer->state_of(support::syn_rcvd(rig(), side::passive).tuple), tcp_state::syn_rcvd);
}

TEST_F(SynRcvd, BuilderReachesItActive) {
  EXPECT_EQ(_layer->state_of(support::syn_rcvd(rig(), side::active).tuple), tcp_state::syn_rcvd);
}

// §3.10.7.4 fifth, SYN_RCVD: an ACK outside SND.UNA < SEG.ACK =< SND.NXT
// gets <SEQ=SEG.ACK><CTL=RST>.
TEST_F(SynRcvd, UnacceptableAckGetsRst) {
  const rig_conn k = support::syn_rcvd(rig(), side::active);
  rig().input(k.on(support::ack(k.peer_nxt, k.stack_nxt + 10)));
  const auto rst = sent_one();
  EXPECT_EQ(rst.h.flags, flag::kRst);
  EXPECT_EQ(rst.h.seq.value, k.stack_nxt + 10);
  EXPECT_EQ(_layer->state_of(k.tuple), tcp_state::syn_rcvd);
}

TEST_F(SynRcvd, DataOnTheThirdSegmentIsDelivered) {
  syn_rcvd();
  input({.flags = flag::kAck | flag::kPsh, .seq = kPeerIsn + 1, .ack = _iss + 1,
         .payload = "GET / HTTP/1.1\r\n\r\n"});
  tcb* c = _layer->find({kStackIp, kPeerIp, kServerPort, kPeerPort});
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->state, tcp_state::established);
  EXPECT_EQ(c->rcv_nxt.value, kPeerIsn + 1 + 18);
  EXPECT_EQ(events_for(c) & (event::kConnected | event::kReadable),
            event::kConnected | event::kReadable);
  EXPECT_EQ(read_all(*_layer, *c, _now), "GET / HTTP/1.1\r\n\r\n");
  // One data segment: its ACK waits for the delayed-ACK timer.
  EXPECT_TRUE(sent().empty());
  advance_ms(40);
  const auto ack = sent_one();
  EXPECT_EQ(ack.h.ack.value, kPeerIsn + 1 + 18);
}

TEST_F(SynRcvd, RstInSynRcvdReturnsToListen) {
  syn_rcvd();
  input({.flags = flag::kRst, .seq = kPeerIsn + 1});
  EXPECT_EQ(_layer->connections(), 0U);
  EXPECT_TRUE(sent().empty());
  // Still listening: a new SYN is answered.
  input({.flags = flag::kSyn, .seq = 42});
  EXPECT_EQ(sent_one().h.flags, flag::kSyn | flag::kAck);
}

TEST_F(SynRcvd, LostSynAckIsRetransmittedWithBackoff) {
  syn_rcvd();
  advance_ms(999);
  EXPECT_TRUE(sent().empty());
  advance_ms(1);  // RFC 6298 §2.1: initial RTO 1 s
  auto again = sent_one();
  EXPECT_EQ(again.h.flags, flag::kSyn | flag::kAck);
  EXPECT_EQ(again.h.seq.value, _iss);
  advance_ms(1999);
  EXPECT_TRUE(sent().empty());
  advance_ms(1);  // backed off to 2 s
  EXPECT_EQ(sent_one().h.seq.value, _iss);
}

TEST_F(SynRcvd, RetransmittedSynInSynRcvdResendsSynAck) {
  syn_rcvd();
  input({.flags = flag::kSyn, .seq = kPeerIsn});
  const auto s = sent_one();
  EXPECT_EQ(s.h.flags, flag::kSyn | flag::kAck);
  EXPECT_EQ(s.h.seq.value, _iss);
  EXPECT_EQ(s.h.ack.value, kPeerIsn + 1);
}

TEST_F(SynRcvd, CloseInSynRcvdSendsFinOnceTheHandshakeCompletes) {
  // RFC 9293 §3.10.4: CLOSE in SYN_RCVD queues the FIN; FIN_WAIT_1 follows.
  tcb* c = _layer->connect(kPeerIp, kServerPort, _now, kPeerPort);
  ASSERT_NE(c, nullptr);
  const std::uint32_t x = sent_one().h.seq.value;
  input({.flags = flag::kSyn, .seq = 300, .src_port = kServerPort, .dst_port = kPeerPort});
  ASSERT_EQ(c->state, tcp_state::syn_rcvd);
  sent();
  _layer->shutdown(*c, _now);
  EXPECT_EQ(c->state, tcp_state::syn_rcvd);
  EXPECT_TRUE(sent().empty()) << "no FIN before our SYN is acknowledged";
  input({.flags = flag::kAck, .seq = 301, .ack = x + 1, .src_port = kServerPort,
         .dst_port = kPeerPort});
  EXPECT_EQ(c->state, tcp_state::fin_wait_1);
  const auto fin = sent_one();
  EXPECT_EQ(fin.h.flags, flag::kFin | flag::kAck);
  EXPECT_EQ(fin.h.seq.value, x + 1);
  EXPECT_EQ(fin.h.ack.value, 301U);
}

}  // namespace
}  // namespace kbt::tcp::test
