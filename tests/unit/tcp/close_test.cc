// Closing, RFC 9293 §3.6 and §3.10.7.4, with the seed documents' four-way
// sequence (u,·) (v,u+1) (w,u+1) (u+1,w+1), half-close, simultaneous close
// and TIME_WAIT.
#include "tcp_fixture.hh"

namespace kbt::tcp::test {
namespace {

using Close = TcpFixture;
constexpr std::uint64_t kTwoMslMs = 60'000;  // default MSL 30 s

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

TEST_F(Close, CloseWaitIsToldWritableAndKeepsSendingAfterAcks) {
  // A source that outlives the peer's half-close (kbt-echo --mode source
  // --bytes N, RFC 9293 §3.6): kWritable still comes in CLOSE_WAIT, and
  // what is sent after it goes out, until our FIN.
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  _layer->set_nodelay(*c, true);
  const std::uint32_t u = kPeerIsn + 1;
  const std::uint32_t v = _iss + 1;
  input({.flags = flag::kFin | flag::kAck, .seq = u, .ack = v});
  sent_one();  // the ACK of the FIN
  ASSERT_EQ(c->state, tcp_state::close_wait);
  events_for(c);
  std::uint32_t next = v;
  for (int round = 0; round < 3; ++round) {
    const std::string chunk(2000, static_cast<char>('a' + round));
    ASSERT_EQ(_layer->send_copy(*c, std::as_bytes(std::span(chunk.data(), chunk.size())), _now),
              chunk.size());
    std::uint32_t out = 0;
    for (const auto& seg : sent()) {
      EXPECT_EQ(seg.h.seq.value, next + out);
      EXPECT_EQ(seg.h.ack.value, u + 1);
      out += static_cast<std::uint32_t>(text(seg).size());
    }
    EXPECT_EQ(out, chunk.size());
    next += out;
    input({.flags = flag::kAck, .seq = u + 1, .ack = next});
    EXPECT_NE(events_for(c) & event::kWritable, 0) << round;
    EXPECT_EQ(c->state, tcp_state::close_wait);
  }
  _layer->shutdown(*c, _now);
  const auto fin = sent_one();
  EXPECT_EQ(fin.h.flags, flag::kFin | flag::kAck);
  EXPECT_EQ(fin.h.seq.value, next);
  EXPECT_EQ(c->state, tcp_state::last_ack);
  input({.flags = flag::kAck, .seq = u + 1, .ack = next + 1});
  EXPECT_EQ(c->state, tcp_state::closed);
  _layer->release(*c, _now);
}

TEST_F(Close, FinWait1StraightToTimeWaitOnFinAck) {
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

TEST_F(Close, RetransmittedFinInTimeWaitIsAckedAndRestartsTwoMsl) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  const std::uint32_t u = _iss + 1;
  const std::uint32_t w = kPeerIsn + 1;
  _layer->shutdown(*c, _now);
  sent_one();
  input({.flags = flag::kFin | flag::kAck, .seq = w, .ack = u + 1});
  ASSERT_EQ(_layer->state_of(kPassiveTuple), tcp_state::time_wait);
  sent_one();
  _layer->release(*c, _now);

  advance_ms(50'000);
  // Our last ACK was lost: the peer sends its FIN again.
  input({.flags = flag::kFin | flag::kAck, .seq = w, .ack = u + 1});
  const auto again = sent_one();
  EXPECT_EQ(again.h.flags, flag::kAck);
  EXPECT_EQ(again.h.seq.value, u + 1);
  EXPECT_EQ(again.h.ack.value, w + 1);
  // 2MSL counts from the retransmitted FIN.
  advance_ms(kTwoMslMs - 1);
  EXPECT_EQ(_layer->state_of(kPassiveTuple), tcp_state::time_wait);
  EXPECT_EQ(_layer->time_wait().size(), 1U);
  advance_ms(1);
  EXPECT_EQ(_layer->time_wait().size(), 0U);
  EXPECT_EQ(_layer->state_of(kPassiveTuple), tcp_state::closed);
}

TEST_F(Close, FinBeforeTheDataItFollowsWaitsInReassembly) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  const std::uint32_t s = kPeerIsn + 1;
  // "world" + FIN arrives before "hello ".
  input({.flags = flag::kFin | flag::kAck, .seq = s + 6, .ack = _iss + 1, .payload = "world"});
  EXPECT_EQ(c->state, tcp_state::established);
  auto dup = sent_one();  // immediate duplicate ACK for out-of-order data
  EXPECT_EQ(dup.h.ack.value, s);
  input({.flags = flag::kAck, .seq = s, .ack = _iss + 1, .payload = "hello "});
  EXPECT_EQ(c->state, tcp_state::close_wait);
  const auto ack = sent_one();
  EXPECT_EQ(ack.h.ack.value, s + 11 + 1);  // the data and the FIN
  EXPECT_EQ(read_all(*_layer, *c, _now), "hello world");
}

TEST_F(Close, RstInTimeWaitIsIgnoredByDefault) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  _layer->shutdown(*c, _now);
  sent();
  input({.flags = flag::kFin | flag::kAck, .seq = kPeerIsn + 1, .ack = _iss + 2});
  sent();
  ASSERT_EQ(_layer->state_of(kPassiveTuple), tcp_state::time_wait);
  input({.flags = flag::kRst, .seq = kPeerIsn + 2});
  EXPECT_EQ(_layer->state_of(kPassiveTuple), tcp_state::time_wait);  // RFC 1337
  EXPECT_EQ(_layer->counters().time_wait_rst_ignored.get(), 1U);
}

TEST_F(Close, RstInTimeWaitHonouredWhenConfigured) {
  tcp_config cfg;
  cfg.time_wait_honours_rst = true;
  make_layer(cfg);
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  _layer->shutdown(*c, _now);
  sent();
  input({.flags = flag::kFin | flag::kAck, .seq = kPeerIsn + 1, .ack = _iss + 2});
  sent();
  _layer->release(*c, _now);
  input({.flags = flag::kRst, .seq = kPeerIsn + 2});
  EXPECT_EQ(_layer->state_of(kPassiveTuple), tcp_state::closed);
  EXPECT_EQ(_layer->time_wait().size(), 0U);
  EXPECT_EQ(_layer->counters().time_wait_rst_honoured.get(), 1U);
}

TEST_F(Close, CloseInSynRcvdSendsFinOnceTheHandshakeCompletes) {
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

TEST_F(Close, SegmentForAClosedConnectionStillHeldGetsRst) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  input({.flags = flag::kRst, .seq = kPeerIsn + 1});
  ASSERT_EQ(c->state, tcp_state::closed);  // the application has not released it yet
  input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = _iss + 1, .payload = "late"});
  const auto rst = sent_one();
  EXPECT_EQ(rst.h.flags, flag::kRst);
  EXPECT_EQ(rst.h.seq.value, _iss + 1);
}

TEST_F(Close, AbortSendsRstFromSndNxt) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  _layer->abort(*c, _now);
  const auto rst = sent_one();
  EXPECT_EQ(rst.h.flags, flag::kRst);
  EXPECT_EQ(rst.h.seq.value, _iss + 1);
  EXPECT_EQ(c->state, tcp_state::closed);
  advance_ms(1);  // events are handed out by the next poll
  EXPECT_NE(events_for(c) & event::kClosed, 0);
  EXPECT_EQ(c->reason, close_reason::aborted);
}

// Soak bug 3: released connections took data nobody would read, and a peer
// that kept sending probed the shut window for ever (RFC 1122 §4.2.2.13).
TEST_F(Close, ReleaseWithUnreadDataSendsRstFromSndNxt) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  input({.flags = flag::kAck | flag::kPsh, .seq = kPeerIsn + 1, .ack = _iss + 1,
         .payload = "unread"});
  sent();
  _layer->release(*c, _now);
  const auto rst = sent_one();
  EXPECT_EQ(rst.h.flags, flag::kRst);  // as abort(): <SEQ=SND.NXT><CTL=RST>
  EXPECT_EQ(rst.h.seq.value, _iss + 1);
  EXPECT_EQ(_layer->state_of(kPassiveTuple), tcp_state::closed);
  EXPECT_EQ(_layer->connections(), 0U);
  EXPECT_EQ(_layer->counters().reset_data_lost.get(), 1U);
}

TEST_F(Close, DataAfterReleaseGetsRstAndTheTcbIsFreed) {
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

TEST_F(Close, DataAfterShutdownIsStillDelivered) {
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

// Found by the soak once bug 1 was fixed: a connection released in
// SYN_SENT sent its data and FIN, the peer aborted, its RST was lost, and
// the orphan sat in FIN_WAIT_2 for ever with no timer.
TEST_F(Close, ReleasedConnectionInFinWait2GoesAfterTheOrphanTimeout) {
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

TEST_F(Close, HalfClosedConnectionTheApplicationHoldsStaysInFinWait2) {
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
