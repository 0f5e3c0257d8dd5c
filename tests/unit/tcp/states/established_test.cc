// ESTABLISHED: both sides synchronized, data flowing both ways. RFC 9293
// §3.10.7.4 checks a segment in order: its sequence number (outside the
// window: answered with an ACK and dropped, as the peer may have missed
// ours), RST and SYN (RFC 5961 §3 and §4: only a RST at exactly RCV.NXT
// resets, any other in the window and any SYN draw a challenge ACK, since
// a blind attacker can hit the window but hardly the number), the ACK
// (RFC 5961 §5: one for data never sent, or far below SND.UNA, is answered
// and dropped), then text, and a FIN, taken in order, moves to CLOSE_WAIT.
// The transfer machinery that runs alike in every synchronized state
// (delayed ACK, retransmission, windows, Nagle, keepalive, ACK limits)
// keeps its topic files.
#include "state_fixtures.hh"

namespace kbt::tcp::test {
namespace {

TEST_F(Established, BuilderReachesItPassive) {
  EXPECT_EQ(_layer->state_of(support::established(rig(), side::passive).tuple),
            tcp_state::established);
}

TEST_F(Established, BuilderReachesItActive) {
  EXPECT_EQ(_layer->state_of(support::established(rig(), side::active).tuple),
            tcp_state::established);
}

// §3.10.7.4 seventh: ESTABLISHED takes in-window text and acknowledges it
// with <SEQ=SND.NXT><ACK=RCV.NXT>.
TEST_F(Established, DataIsAcceptedAndAcked) {
  const rig_conn k = support::established(rig(), side::passive);
  rig().input(k.on(support::data(k.peer_nxt, k.stack_nxt, bytes_of(kHello))));
  advance_ms(500);  // past any delayed ACK
  const auto a = sent_one();
  EXPECT_EQ(a.h.flags, flag::kAck);
  EXPECT_EQ(a.h.seq.value, k.stack_nxt);
  EXPECT_EQ(a.h.ack.value, k.peer_nxt + 5);
  EXPECT_EQ(read_all(*_layer, *k.c, _now), kHello);
}

TEST_F(Established, ExactRstResetsTheConnection) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  input({.flags = flag::kRst, .seq = kPeerIsn + 1});
  EXPECT_EQ(c->state, tcp_state::closed);
  EXPECT_NE(events_for(c) & event::kClosed, 0);
  EXPECT_EQ(c->reason, close_reason::reset);
  EXPECT_TRUE(sent().empty());  // RST is never answered
}

TEST_F(Established, InWindowRstGetsChallengeAck) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  input({.flags = flag::kRst, .seq = kPeerIsn + 100});
  EXPECT_EQ(c->state, tcp_state::established);
  const auto ack = sent_one();
  EXPECT_EQ(ack.h.flags, flag::kAck);
  EXPECT_EQ(ack.h.seq.value, _iss + 1);
  EXPECT_EQ(ack.h.ack.value, kPeerIsn + 1);
  EXPECT_EQ(_layer->counters().challenge_acks.get(), 1U);
}

TEST_F(Established, OutOfWindowRstIsDropped) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  input({.flags = flag::kRst, .seq = kPeerIsn + 10'000'000});
  EXPECT_EQ(c->state, tcp_state::established);
  EXPECT_TRUE(sent().empty());
}

TEST_F(Established, SynOnEstablishedGetsChallengeAck) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  input({.flags = flag::kSyn, .seq = kPeerIsn + 5});
  EXPECT_EQ(c->state, tcp_state::established);
  const auto ack = sent_one();
  EXPECT_EQ(ack.h.flags, flag::kAck);
  EXPECT_EQ(ack.h.seq.value, _iss + 1);
  EXPECT_EQ(ack.h.ack.value, kPeerIsn + 1);
}

TEST_F(Established, DataOutsideTheWindowIsAckedAndDropped) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  input({.flags = flag::kAck, .seq = kPeerIsn + 1 + 10'000'000, .ack = _iss + 1,
         .payload = "far away"});
  const auto ack = sent_one();
  EXPECT_EQ(ack.h.flags, flag::kAck);
  EXPECT_EQ(ack.h.ack.value, kPeerIsn + 1);
  EXPECT_EQ(c->rcv_nxt.value, kPeerIsn + 1);
  EXPECT_EQ(read_all(*_layer, *c, _now), "");
}

TEST_F(Established, OldDuplicateDataIsAckedAndDropped) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  input({.flags = flag::kAck | flag::kPsh, .seq = kPeerIsn + 1, .ack = _iss + 1, .payload = "abc"});
  input({.flags = flag::kAck | flag::kPsh, .seq = kPeerIsn + 4, .ack = _iss + 1, .payload = "def"});
  sent();
  EXPECT_EQ(read_all(*_layer, *c, _now), "abcdef");
  // "abc" again: entirely below RCV.NXT.
  input({.flags = flag::kAck | flag::kPsh, .seq = kPeerIsn + 1, .ack = _iss + 1, .payload = "abc"});
  const auto ack = sent_one();
  EXPECT_EQ(ack.h.ack.value, kPeerIsn + 7);
  EXPECT_EQ(read_all(*_layer, *c, _now), "");
}

TEST_F(Established, OverlappingRetransmissionDeliversOnlyNewBytes) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = _iss + 1, .payload = "abcd"});
  input({.flags = flag::kAck, .seq = kPeerIsn + 3, .ack = _iss + 1, .payload = "cdefgh"});
  EXPECT_EQ(read_all(*_layer, *c, _now), "abcdefgh");
  EXPECT_EQ(c->rcv_nxt.value, kPeerIsn + 9);
}

TEST_F(Established, AckOfUnsentDataIsAnsweredAndIgnored) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = _iss + 1000});
  const auto ack = sent_one();
  EXPECT_EQ(ack.h.seq.value, _iss + 1);
  EXPECT_EQ(c->snd_una.value, _iss + 1);
}

TEST_F(Established, AckFarBelowTheWindowGetsChallengeAck) {
  // RFC 5961 §5.2: acceptable only in [SND.UNA - MAX.SND.WND, SND.NXT].
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = _iss - 200'000, .payload = "blind"});
  const auto ack = sent_one();
  EXPECT_EQ(ack.h.flags, flag::kAck);
  EXPECT_EQ(ack.h.ack.value, kPeerIsn + 1);
  EXPECT_EQ(read_all(*_layer, *c, _now), "") << "data of a segment with a bad ACK is dropped";
  EXPECT_EQ(_layer->counters().challenge_acks.get(), 1U);
}

TEST_F(Established, PawsDropsAnOldTimestamp) {
  wire::tcp_options o;
  o.timestamps = wire::tcp_timestamps{5000, 0};
  o.mss = 1460;
  tcb* c = established_passive(o);
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(c->ts_ok);
  wire::tcp_options fresh;
  fresh.timestamps = wire::tcp_timestamps{6000, 0};
  input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = _iss + 1, .payload = "new",
         .options = fresh});
  EXPECT_EQ(read_all(*_layer, *c, _now), "new");
  sent();
  wire::tcp_options old;
  old.timestamps = wire::tcp_timestamps{4000, 0};
  input({.flags = flag::kAck, .seq = kPeerIsn + 4, .ack = _iss + 1, .payload = "old",
         .options = old});
  EXPECT_EQ(read_all(*_layer, *c, _now), "");
  EXPECT_EQ(_layer->counters().paws_rejected.get(), 1U);
  EXPECT_EQ(sent_one().h.ack.value, kPeerIsn + 4);
}

TEST_F(Established, SegmentWithoutTimestampOnATimestampedConnectionIsDropped) {
  // RFC 7323 §3.2: a non-RST segment without TSopt is silently dropped.
  wire::tcp_options o;
  o.timestamps = wire::tcp_timestamps{5000, 0};
  tcb* c = established_passive(o);
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(c->ts_ok);
  input({.flags = flag::kAck | flag::kPsh, .seq = kPeerIsn + 1, .ack = _iss + 1, .payload = "bare"});
  EXPECT_EQ(read_all(*_layer, *c, _now), "");
  EXPECT_TRUE(sent().empty()) << "silently";
  EXPECT_EQ(_layer->counters().timestamp_missing.get(), 1U);
  EXPECT_EQ(c->rcv_nxt.value, kPeerIsn + 1);
  // Nor a SYN, which RFC 5961 §4 answers with a challenge ACK.
  input({.flags = flag::kSyn, .seq = kPeerIsn + 1});
  const auto challenge = sent_one();
  EXPECT_EQ(challenge.h.flags, flag::kAck);
  EXPECT_EQ(challenge.h.ack.value, kPeerIsn + 1);
  // A RST needs none (it SHOULD have one, but may not).
  input({.flags = flag::kRst, .seq = kPeerIsn + 1});
  EXPECT_EQ(c->state, tcp_state::closed);
}

TEST_F(Established, FinBeforeTheDataItFollowsWaitsInReassembly) {
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

TEST_F(Established, AbortSendsRstFromSndNxt) {
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
TEST_F(Established, ReleaseWithUnreadDataSendsRstFromSndNxt) {
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

}  // namespace
}  // namespace kbt::tcp::test
