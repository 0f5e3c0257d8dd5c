// RST and SYN on a synchronized connection: RFC 9293 §3.10.7.4 as RFC 5961
// narrows it (exact RST resets, in-window RST and any SYN get a challenge
// ACK), and unacceptable segments (old duplicates, out of window).
#include <vector>

#include "tcp/challenge_budget.hh"
#include "tcp_fixture.hh"

namespace kbt::tcp::test {
namespace {

using RstSyn = TcpFixture;

TEST_F(RstSyn, ExactRstResetsTheConnection) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  input({.flags = flag::kRst, .seq = kPeerIsn + 1});
  EXPECT_EQ(c->state, tcp_state::closed);
  EXPECT_NE(events_for(c) & event::kClosed, 0);
  EXPECT_EQ(c->reason, close_reason::reset);
  EXPECT_TRUE(sent().empty());  // RST is never answered
}

TEST_F(RstSyn, InWindowRstGetsChallengeAck) {
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

TEST_F(RstSyn, OutOfWindowRstIsDropped) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  input({.flags = flag::kRst, .seq = kPeerIsn + 10'000'000});
  EXPECT_EQ(c->state, tcp_state::established);
  EXPECT_TRUE(sent().empty());
}

TEST_F(RstSyn, SynOnEstablishedGetsChallengeAck) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  input({.flags = flag::kSyn, .seq = kPeerIsn + 5});
  EXPECT_EQ(c->state, tcp_state::established);
  const auto ack = sent_one();
  EXPECT_EQ(ack.h.flags, flag::kAck);
  EXPECT_EQ(ack.h.seq.value, _iss + 1);
  EXPECT_EQ(ack.h.ack.value, kPeerIsn + 1);
}

TEST_F(RstSyn, ChallengeAcksAreRateLimited) {
  // RFC 5961 §7: per core, each second's budget, drawn from [limit/2,
  // limit*3/2) (challenge_budget.hh). Each connection has a limit of its
  // own as well (ack_throttle_test.cc), so the SYNs come from ten of them.
  tcp_config cfg;
  cfg.challenge_ack_limit = 3;
  make_layer(cfg);
  std::vector<tcb*> conns;
  for (std::uint16_t i = 0; i < 10; ++i) {
    conns.push_back(established_passive({}, static_cast<std::uint16_t>(kPeerPort + i)));
    ASSERT_NE(conns.back(), nullptr);
  }
  // The same keys draw the same budgets: this second's is known.
  challenge_budget budget(_layer->config().isn_key, _layer->config().cookie_key, 0, 3);
  ASSERT_TRUE(budget.take(_now));
  ASSERT_LT(budget.drawn(), 10U);
  for (tcb* c : conns) input({.flags = flag::kSyn, .seq = kPeerIsn + 5, .src_port = c->tuple.remote_port});
  EXPECT_EQ(sent().size(), budget.drawn());
  EXPECT_EQ(_layer->counters().challenge_acks_suppressed.get(), 10U - budget.drawn());
  advance_ms(1000);  // a new second, a new budget
  ASSERT_TRUE(budget.take(_now));
  const std::uint64_t suppressed = _layer->counters().challenge_acks_suppressed.get();
  for (tcb* c : conns) input({.flags = flag::kSyn, .seq = kPeerIsn + 5, .src_port = c->tuple.remote_port});
  EXPECT_EQ(sent().size(), budget.drawn());
  EXPECT_EQ(_layer->counters().challenge_acks_suppressed.get() - suppressed, 10U - budget.drawn());
}

TEST_F(RstSyn, DataOutsideTheWindowIsAckedAndDropped) {
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

TEST_F(RstSyn, OldDuplicateDataIsAckedAndDropped) {
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

TEST_F(RstSyn, OverlappingRetransmissionDeliversOnlyNewBytes) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = _iss + 1, .payload = "abcd"});
  input({.flags = flag::kAck, .seq = kPeerIsn + 3, .ack = _iss + 1, .payload = "cdefgh"});
  EXPECT_EQ(read_all(*_layer, *c, _now), "abcdefgh");
  EXPECT_EQ(c->rcv_nxt.value, kPeerIsn + 9);
}

TEST_F(RstSyn, AckOfUnsentDataIsAnsweredAndIgnored) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = _iss + 1000});
  const auto ack = sent_one();
  EXPECT_EQ(ack.h.seq.value, _iss + 1);
  EXPECT_EQ(c->snd_una.value, _iss + 1);
}

TEST_F(RstSyn, PawsDropsAnOldTimestamp) {
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

TEST_F(RstSyn, SegmentWithoutTimestampOnATimestampedConnectionIsDropped) {
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

}  // namespace
}  // namespace kbt::tcp::test
