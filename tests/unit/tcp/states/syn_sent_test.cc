// SYN_SENT: connect() sent our SYN and nothing of the peer is known yet.
// RFC 9293 §3.10.7.3 checks the ACK first, because only an ACK of our SYN
// (ISS < SEG.ACK =< SND.NXT) shows the segment answers this attempt: any
// other gets <SEQ=SEG.ACK><CTL=RST>. A RST counts only with that ACK (the
// connection is refused: RFC 5961 §3.2, a blind RST has no such proof); a
// SYN with it establishes, a SYN without it is a simultaneous open
// (SYN_RCVD); a segment with neither is dropped. The SYN's retransmission
// and what the application may do meanwhile (send, shut down, release)
// are here too.
#include "state_fixtures.hh"

namespace kbt::tcp::test {
namespace {

TEST_F(SynSent, BuilderReachesIt) {
  EXPECT_EQ(_layer->state_of(support::syn_sent(rig()).tuple), tcp_state::syn_sent);
}

// §3.10.7.3 first: in SYN_SENT an ACK of something never sent
// (SEG.ACK > SND.NXT) gets <SEQ=SEG.ACK><CTL=RST>, and the state stays.
TEST_F(SynSent, UnacceptableAckGetsRst) {
  const rig_conn k = support::syn_sent(rig());
  rig().input(k.on(support::ack(kPeerIsn, k.stack_nxt + 100)));
  const auto rst = sent_one();
  EXPECT_EQ(rst.h.flags, flag::kRst);
  EXPECT_EQ(rst.h.seq.value, k.stack_nxt + 100);
  EXPECT_EQ(_layer->state_of(k.tuple), tcp_state::syn_sent);
}

TEST_F(SynSent, UnacceptableAckInSynSentGetsRst) {
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

TEST_F(SynSent, RstAckingOurSynIsConnectionRefused) {
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

TEST_F(SynSent, RstWithoutAckInSynSentIsIgnored) {
  // RFC 5961 §3.2 / RFC 9293 §3.10.7.3: no ACK, no proof.
  tcb* c = _layer->connect(kPeerIp, kServerPort, _now, 50000);
  ASSERT_NE(c, nullptr);
  sent();
  input({.flags = flag::kRst, .seq = 0, .src_port = kServerPort, .dst_port = 50000});
  EXPECT_EQ(c->state, tcp_state::syn_sent);
}

TEST_F(SynSent, SynRetriesGiveUpWithTimeout) {
  tcb* c = _layer->connect(kPeerIp, kServerPort, _now, 50000);
  ASSERT_NE(c, nullptr);
  // 6 retries with backoff: 1+2+4+8+16+32+64 s.
  for (int i = 0; i < 200 && c->state == tcp_state::syn_sent; ++i) advance_ms(1000);
  EXPECT_EQ(c->state, tcp_state::closed);
  EXPECT_EQ(c->reason, close_reason::timeout);
  EXPECT_EQ(sent().size(), 7U);  // the SYN and 6 retransmissions
}

TEST_F(SynSent, ReleaseInSynSentWithNothingQueuedDeletesTheTcbWithoutRst) {
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
TEST_F(SynSent, ShutdownInSynSentSendsQueuedDataAndFinOnceEstablished) {
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

TEST_F(SynSent, ShutdownInSynSentWithNothingQueuedSendsFinOnceEstablished) {
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
