// Opening a connection, RFC 9293 §3.5 and §3.10.7.1-3, with the seed
// documents' sequence: (x,0) (y,x+1) (x+1,y+1).
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

TEST_F(Handshake, DataOnTheThirdSegmentIsDelivered) {
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

TEST_F(Handshake, SynToAClosedPortGetsRstAck) {
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

TEST_F(Handshake, AckWithoutConnectionGetsRstFromItsAck) {
  // RFC 9293 §3.10.7.1: <SEQ=SEG.ACK><CTL=RST>
  ASSERT_TRUE(_layer->listen(kServerPort));
  input({.flags = flag::kAck, .seq = 5000, .ack = 123456});
  const auto rst = sent_one();
  EXPECT_EQ(rst.h.flags, flag::kRst);
  EXPECT_EQ(rst.h.seq.value, 123456U);
}

TEST_F(Handshake, RstWithoutConnectionIsNotAnswered) {
  input({.flags = flag::kRst, .seq = 5000, .dst_port = 81});
  EXPECT_TRUE(sent().empty());
}

TEST_F(Handshake, UnacceptableAckInSynSentGetsRst) {
  tcb* c = _layer->connect(kPeerIp, kServerPort, _now, 50000);
  ASSERT_NE(c, nullptr);
  const std::uint32_t x = sent_one().h.seq.value;
  input({.flags = flag::kSyn | flag::kAck, .seq = 9, .ack = x + 7, .src_port = kServerPort,
         .dst_port = 50000});
  const auto rst = sent_one();
  EXPECT_EQ(rst.h.flags, flag::kRst);
  EXPECT_EQ(rst.h.seq.value, x + 7);
  EXPECT_EQ(c->state, tcp_state::syn_sent);
}

TEST_F(Handshake, RstAckingOurSynIsConnectionRefused) {
  tcb* c = _layer->connect(kPeerIp, kServerPort, _now, 50000);
  ASSERT_NE(c, nullptr);
  const std::uint32_t x = sent_one().h.seq.value;
  input({.flags = flag::kRst | flag::kAck, .seq = 0, .ack = x + 1, .src_port = kServerPort,
         .dst_port = 50000});
  EXPECT_EQ(c->state, tcp_state::closed);
  EXPECT_NE(events_for(c) & event::kClosed, 0);
  EXPECT_EQ(c->reason, close_reason::refused);
  EXPECT_TRUE(sent().empty());
  _layer->release(*c, _now);
  EXPECT_EQ(_layer->connections(), 0U);
}

TEST_F(Handshake, RstWithoutAckInSynSentIsIgnored) {
  // RFC 5961 §3.2 / RFC 9293 §3.10.7.3: no ACK, no proof.
  tcb* c = _layer->connect(kPeerIp, kServerPort, _now, 50000);
  ASSERT_NE(c, nullptr);
  sent();
  input({.flags = flag::kRst, .seq = 0, .src_port = kServerPort, .dst_port = 50000});
  EXPECT_EQ(c->state, tcp_state::syn_sent);
}

TEST_F(Handshake, RstInSynRcvdReturnsToListen) {
  syn_rcvd();
  input({.flags = flag::kRst, .seq = kPeerIsn + 1});
  EXPECT_EQ(_layer->connections(), 0U);
  EXPECT_TRUE(sent().empty());
  // Still listening: a new SYN is answered.
  input({.flags = flag::kSyn, .seq = 42});
  EXPECT_EQ(sent_one().h.flags, flag::kSyn | flag::kAck);
}

TEST_F(Handshake, LostSynAckIsRetransmittedWithBackoff) {
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

TEST_F(Handshake, RetransmittedSynInSynRcvdResendsSynAck) {
  syn_rcvd();
  input({.flags = flag::kSyn, .seq = kPeerIsn});
  const auto s = sent_one();
  EXPECT_EQ(s.h.flags, flag::kSyn | flag::kAck);
  EXPECT_EQ(s.h.seq.value, _iss);
  EXPECT_EQ(s.h.ack.value, kPeerIsn + 1);
}

TEST_F(Handshake, SynRetriesGiveUpWithTimeout) {
  tcb* c = _layer->connect(kPeerIp, kServerPort, _now, 50000);
  ASSERT_NE(c, nullptr);
  // 6 retries with backoff: 1+2+4+8+16+32+64 s.
  for (int i = 0; i < 200 && c->state == tcp_state::syn_sent; ++i) advance_ms(1000);
  EXPECT_EQ(c->state, tcp_state::closed);
  EXPECT_EQ(c->reason, close_reason::timeout);
  EXPECT_EQ(sent().size(), 7U);  // the SYN and 6 retransmissions
}

TEST_F(Handshake, ReleaseInSynSentWithNothingQueuedDeletesTheTcbWithoutRst) {
  tcb* c = _layer->connect(kPeerIp, kServerPort, _now, 50000);
  ASSERT_NE(c, nullptr);
  sent();
  _layer->release(*c, _now);
  EXPECT_EQ(c->state, tcp_state::closed);
  EXPECT_TRUE(sent().empty());
  advance_ms(1);  // delivers the pending events, after which the TCB is free
  EXPECT_EQ(_layer->connections(), 0U);
}

// Soak bug 1: shutdown() in SYN_SENT deleted the connection with the data
// send() had taken and reported a normal close.
TEST_F(Handshake, ShutdownInSynSentSendsQueuedDataAndFinOnceEstablished) {
  tcb* c = _layer->connect(kPeerIp, kServerPort, _now, 50000);
  ASSERT_NE(c, nullptr);
  const std::uint32_t x = sent_one().h.seq.value;
  const std::string hello = "hello";
  ASSERT_EQ(_layer->send_copy(*c, std::as_bytes(std::span(hello.data(), hello.size())), _now),
            5U);
  _layer->shutdown(*c, _now);
  EXPECT_EQ(c->state, tcp_state::syn_sent);
  EXPECT_TRUE(sent().empty()) << "nothing before the handshake";
  input({.flags = flag::kSyn | flag::kAck, .seq = 777, .ack = x + 1, .src_port = kServerPort,
         .dst_port = 50000});
  EXPECT_EQ(c->state, tcp_state::fin_wait_1);
  EXPECT_NE(events_for(c) & event::kConnected, 0);
  EXPECT_EQ(events_for(c) & event::kClosed, 0);
  const auto out = sent();
  ASSERT_FALSE(out.empty());
  const seg_out& last = out.back();
  EXPECT_TRUE(last.has(flag::kFin));
  EXPECT_EQ(last.h.seq.value + last.payload.size(), x + 1 + 5);
  std::string data;
  for (const seg_out& s : out) data += text(s);
  EXPECT_EQ(data, "hello");
  // The receive half stays open: the peer's data is still taken.
  input({.flags = flag::kAck | flag::kPsh, .seq = 778, .ack = x + 1 + 5 + 1,
         .payload = "world", .src_port = kServerPort, .dst_port = 50000});
  EXPECT_EQ(c->state, tcp_state::fin_wait_2);
  EXPECT_EQ(read_all(*_layer, *c, _now), "world");
}

TEST_F(Handshake, ShutdownInSynSentWithNothingQueuedSendsFinOnceEstablished) {
  tcb* c = _layer->connect(kPeerIp, kServerPort, _now, 50000);
  ASSERT_NE(c, nullptr);
  const std::uint32_t x = sent_one().h.seq.value;
  _layer->shutdown(*c, _now);
  input({.flags = flag::kSyn | flag::kAck, .seq = 777, .ack = x + 1, .src_port = kServerPort,
         .dst_port = 50000});
  EXPECT_EQ(c->state, tcp_state::fin_wait_1);
  const auto out = sent();
  ASSERT_FALSE(out.empty());
  EXPECT_TRUE(out.back().has(flag::kFin));
  EXPECT_EQ(out.back().h.seq.value, x + 1);
  EXPECT_EQ(out.back().h.ack.value, 778U);
}

}  // namespace
}  // namespace kbt::tcp::test
