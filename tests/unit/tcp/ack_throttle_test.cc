// ACKs in answer to segments that should not have come, and their limits
// (RFC 5961 §7): challenge ACKs (RFC 5961 §3.2, §4.2, §5.2) go through the
// connection's limit and then the core's budget, drawn anew each second
// (challenge_budget.hh, CVE-2016-5696); the ACKs for out-of-window,
// PAWS-rejected (RFC 7323 §5.3) and beyond-SND.NXT (RFC 5961 §5.2)
// segments through the connection's limit, one per invalid_ack_interval.
// What a live peer needs answered at once is not limited: a retransmission
// after our ACK was lost, zero-window probes, in-window data.
#include <algorithm>
#include <set>
#include <vector>

#include "tcp/challenge_budget.hh"
#include "tcp_fixture.hh"

namespace kbt::tcp::test {
namespace {

constexpr std::uint16_t kPortA = 41000;
constexpr std::uint16_t kPortB = 41001;

class AckThrottle : public TcpFixture {
 protected:
  // How many of the segments in `v` went to the peer's `port`.
  std::size_t sent_to(const std::vector<seg_out>& v, std::uint16_t port) {
    return static_cast<std::size_t>(
        std::count_if(v.begin(), v.end(), [port](const seg_out& s) { return s.h.dst_port == port; }));
  }
  // RFC 5961 §3.2: a RST in the window but not at RCV.NXT.
  void in_window_rst(const tcb& c) {
    input({.flags = flag::kRst, .seq = c.rcv_nxt.value + 100, .src_port = c.tuple.remote_port});
  }
  // RFC 9293 §3.10.7.4 first: data far beyond the window.
  void out_of_window_data(const tcb& c, const wire::tcp_options& o = {}) {
    input({.flags = flag::kAck, .seq = c.rcv_nxt.value + 10'000'000, .ack = c.snd_nxt.value,
           .payload = "guess", .options = o, .src_port = c.tuple.remote_port});
  }
  const tcp_counters& counters() const { return _layer->counters(); }
};

using ChallengeAck = AckThrottle;
using InvalidAck = AckThrottle;

TEST_F(ChallengeAck, PerConnectionLimitLeavesOtherConnectionsTheirs) {
  tcb* a = established_passive({}, kPortA);
  tcb* b = established_passive({}, kPortB);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  // More than even the largest budget (1.5 x 1000) in one second, at A.
  for (int i = 0; i < 2000; ++i) in_window_rst(*a);
  auto out = sent();
  EXPECT_EQ(sent_to(out, kPortA), 1U) << "one challenge ACK per interval for A";
  EXPECT_EQ(out.size(), 1U);
  EXPECT_EQ(counters().challenge_acks.get(), 1U);
  EXPECT_EQ(counters().challenge_acks_conn_limited.get(), 1999U);
  EXPECT_EQ(counters().challenge_acks_suppressed.get(), 0U) << "the core's budget is untouched";
  // B, in the same millisecond, still gets its own.
  in_window_rst(*b);
  out = sent();
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].h.dst_port, kPortB);
  EXPECT_EQ(out[0].h.flags, flag::kAck);
  EXPECT_EQ(out[0].h.ack.value, b->rcv_nxt.value);
  EXPECT_EQ(counters().challenge_acks.get(), 2U);
  EXPECT_EQ(a->state, tcp_state::established);
  EXPECT_EQ(b->state, tcp_state::established);
  // A's next one once the interval has passed, not before.
  advance_ms(499);
  in_window_rst(*a);
  EXPECT_TRUE(sent().empty());
  advance_ms(1);
  in_window_rst(*a);
  EXPECT_EQ(sent_to(sent(), kPortA), 1U);
  EXPECT_EQ(counters().challenge_acks.get(), 3U);
  EXPECT_EQ(counters().challenge_acks_conn_limited.get(), 2000U);
}

TEST_F(ChallengeAck, SynsOnAnEstablishedTupleAreAnsweredOncePerInterval) {
  // RFC 5961 §4.2: a SYN "irrespective of the sequence number" gets a
  // challenge ACK: in the window and out of it, the same limits.
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  for (int i = 0; i < 50; ++i) {
    input({.flags = flag::kSyn, .seq = kPeerIsn + 5});
    input({.flags = flag::kSyn, .seq = kPeerIsn + 0x40000000});
  }
  const auto ack = sent_one();
  EXPECT_EQ(ack.h.flags, flag::kAck);
  EXPECT_EQ(ack.h.ack.value, kPeerIsn + 1);
  EXPECT_EQ(counters().challenge_acks.get(), 1U);
  EXPECT_EQ(counters().challenge_acks_conn_limited.get(), 99U);
  EXPECT_EQ(counters().out_of_window.get(), 50U);
  EXPECT_EQ(c->state, tcp_state::established);
  advance_ms(500);
  input({.flags = flag::kSyn, .seq = kPeerIsn + 0x40000000});
  EXPECT_EQ(sent_one().h.ack.value, kPeerIsn + 1);
  EXPECT_EQ(counters().challenge_acks.get(), 2U);
}

TEST_F(ChallengeAck, GlobalBudgetIsRandomisedPerSecond) {
  // The core's budget alone: without the per-connection limit one
  // connection can spend it. Each second, more challenges than the largest
  // budget; what is answered is that second's budget.
  tcp_config cfg;
  cfg.max_time_wait = 1024;
  cfg.challenge_ack_limit = 20;
  cfg.invalid_ack_interval = base::nanos{0};
  make_layer(cfg);
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  constexpr int kSeconds = 60;
  constexpr int kPerSecond = 40;
  std::set<std::size_t> budgets;
  std::size_t answered = 0;
  for (int s = 0; s < kSeconds; ++s) {
    for (int i = 0; i < kPerSecond; ++i) in_window_rst(*c);
    const std::size_t n = sent().size();
    EXPECT_GE(n, 10U) << "second " << s << ": at least limit/2";
    EXPECT_LT(n, 30U) << "second " << s << ": below limit*3/2";
    budgets.insert(n);
    answered += n;
    advance_ms(1000);
  }
  EXPECT_GE(budgets.size(), 8U) << "the budget varies from second to second";
  EXPECT_LT(*budgets.begin(), 15U) << "and reaches the lower half of its range";
  EXPECT_GE(*budgets.rbegin(), 25U) << "and the upper";
  EXPECT_EQ(counters().challenge_acks.get(), answered);
  EXPECT_EQ(counters().challenge_acks_suppressed.get(), kSeconds * kPerSecond - answered);
  EXPECT_EQ(counters().challenge_acks_conn_limited.get(), 0U);
}

TEST(ChallengeBudget, TheSameKeysDrawTheSameBudgetsOtherKeysOthers) {
  // Deterministic under the simulator's fixed keys; a secret of its own
  // per key pair and per core otherwise.
  const siphash_key k1{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  const siphash_key k2 = kCookieKey;
  challenge_budget a(k1, k2, 0, 1000);
  challenge_budget same(k1, k2, 0, 1000);
  challenge_budget other_key(k2, k1, 0, 1000);
  challenge_budget other_core(k1, k2, 1, 1000);
  int differs_key = 0;
  int differs_core = 0;
  for (std::uint64_t s = 0; s < 100; ++s) {
    const base::instant now = base::instant_from_ns(s * kSec + 123);
    EXPECT_TRUE(a.take(now));
    EXPECT_TRUE(same.take(now));
    EXPECT_TRUE(other_key.take(now));
    EXPECT_TRUE(other_core.take(now));
    EXPECT_EQ(a.drawn(), same.drawn());
    EXPECT_GE(a.drawn(), 500U);
    EXPECT_LT(a.drawn(), 1500U);
    differs_key += a.drawn() != other_key.drawn();
    differs_core += a.drawn() != other_core.drawn();
  }
  EXPECT_GT(differs_key, 90);
  EXPECT_GT(differs_core, 90);
}

TEST(ChallengeBudget, ABudgetIsSpentWithinItsSecond) {
  const siphash_key k{7};
  challenge_budget b(k, k, 0, 3);  // [2, 5)
  std::uint32_t taken = 0;
  for (int i = 0; i < 10; ++i) taken += b.take(base::instant_from_ns(5 * kSec + 1)) ? 1 : 0;
  EXPECT_EQ(taken, b.drawn());
  EXPECT_GE(taken, 2U);
  EXPECT_LE(taken, 4U);
  EXPECT_FALSE(b.take(base::instant_from_ns(6 * kSec - 1))) << "the same second";
  EXPECT_TRUE(b.take(base::instant_from_ns(6 * kSec))) << "a new second, a new budget";
  challenge_budget none(k, k, 0, 0);
  EXPECT_FALSE(none.take(base::instant_from_ns(kSec))) << "limit 0: no challenge ACKs";
}

TEST_F(InvalidAck, OutOfWindowDataIsAnsweredOncePerInterval) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  for (int i = 0; i < 100; ++i) out_of_window_data(*c);
  const auto ack = sent_one();
  EXPECT_EQ(ack.h.flags, flag::kAck);
  EXPECT_EQ(ack.h.seq.value, _iss + 1);
  EXPECT_EQ(ack.h.ack.value, kPeerIsn + 1);
  EXPECT_EQ(counters().out_of_window.get(), 100U);
  EXPECT_EQ(counters().invalid_acks_suppressed.get(), 99U);
  advance_ms(499);
  out_of_window_data(*c);
  EXPECT_TRUE(sent().empty()) << "499 ms: still inside the interval";
  advance_ms(1);
  out_of_window_data(*c);
  EXPECT_EQ(sent_one().h.ack.value, kPeerIsn + 1);
  EXPECT_EQ(counters().invalid_acks_suppressed.get(), 100U);
  EXPECT_EQ(c->rcv_nxt.value, kPeerIsn + 1);
  EXPECT_EQ(read_all(*_layer, *c, _now), "");
  // In-window data is answered as ever, limit or not.
  out_of_window_data(*c);
  input({.flags = flag::kAck | flag::kPsh, .seq = kPeerIsn + 1, .ack = _iss + 1, .payload = "ab"});
  input({.flags = flag::kAck | flag::kPsh, .seq = kPeerIsn + 3, .ack = _iss + 1, .payload = "cd"});
  const auto in_window = sent_one();  // the second segment's ACK (RFC 5681 §4.2)
  EXPECT_EQ(in_window.h.ack.value, kPeerIsn + 5);
  EXPECT_EQ(read_all(*_layer, *c, _now), "abcd");
}

TEST_F(InvalidAck, AckBeyondSndNxtThrottled) {
  // RFC 5961 §5.2 / RFC 9293 §3.10.7.4 fifth: SEG.ACK > SND.NXT: an ACK
  // back and the segment dropped, one ACK per interval.
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  for (int i = 0; i < 100; ++i) {
    input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = _iss + 1000, .payload = "x"});
  }
  const auto ack = sent_one();
  EXPECT_EQ(ack.h.seq.value, _iss + 1);
  EXPECT_EQ(ack.h.ack.value, kPeerIsn + 1);
  EXPECT_EQ(counters().invalid_acks_suppressed.get(), 99U);
  EXPECT_EQ(c->snd_una.value, _iss + 1);
  EXPECT_EQ(read_all(*_layer, *c, _now), "") << "their data is dropped";
  advance_ms(500);
  input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = _iss + 1000});
  EXPECT_EQ(sent_one().h.ack.value, kPeerIsn + 1);
}

TEST_F(InvalidAck, PawsRejectThrottled) {
  wire::tcp_options o;
  o.timestamps = wire::tcp_timestamps{5000, 0};
  tcb* c = established_passive(o);
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(c->ts_ok);
  wire::tcp_options old;
  old.timestamps = wire::tcp_timestamps{4000, 0};
  for (int i = 0; i < 100; ++i) {
    input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = _iss + 1, .payload = "old",
           .options = old});
  }
  const auto ack = sent_one();
  EXPECT_EQ(ack.h.ack.value, kPeerIsn + 1);
  ASSERT_TRUE(ack.h.options.timestamps);
  EXPECT_EQ(ack.h.options.timestamps->tsecr, 5000U) << "TS.Recent unchanged";
  EXPECT_EQ(counters().paws_rejected.get(), 100U);
  EXPECT_EQ(counters().invalid_acks_suppressed.get(), 99U);
  EXPECT_EQ(read_all(*_layer, *c, _now), "");
  advance_ms(500);
  input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = _iss + 1, .payload = "old",
         .options = old});
  EXPECT_EQ(sent().size(), 1U);
}

TEST_F(InvalidAck, RetransmissionAfterLostAckIsAnsweredAtOnce) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  input({.flags = flag::kAck | flag::kPsh, .seq = kPeerIsn + 1, .ack = _iss + 1, .payload = "abc"});
  advance_ms(40);  // the delayed ACK: Last.ACK.sent = RCV.NXT = ISN + 4
  EXPECT_EQ(sent_one().h.ack.value, kPeerIsn + 4);
  EXPECT_EQ(read_all(*_layer, *c, _now), "abc");
  // The limit is in force: one out-of-window segment has just been answered.
  out_of_window_data(*c);
  EXPECT_EQ(sent().size(), 1U);
  // That ACK was lost: the peer sends "abc" again, on its timer and again.
  // Its end reaches the last ACK we sent (Linux's rcv_wup rule): each one
  // is answered at once.
  for (int i = 0; i < 5; ++i) {
    input({.flags = flag::kAck | flag::kPsh, .seq = kPeerIsn + 1, .ack = _iss + 1,
           .payload = "abc"});
    const auto ack = sent_one();
    EXPECT_EQ(ack.h.ack.value, kPeerIsn + 4) << "retransmission " << i;
  }
  EXPECT_EQ(read_all(*_layer, *c, _now), "") << "not delivered twice";
  EXPECT_EQ(counters().invalid_acks_suppressed.get(), 0U);
  // With data ACKed after it, "abc" is no longer what our last ACK covers:
  // an old duplicate like any other, limited.
  input({.flags = flag::kAck | flag::kPsh, .seq = kPeerIsn + 4, .ack = _iss + 1, .payload = "def"});
  advance_ms(40);
  EXPECT_EQ(sent_one().h.ack.value, kPeerIsn + 7);
  input({.flags = flag::kAck | flag::kPsh, .seq = kPeerIsn + 1, .ack = _iss + 1, .payload = "abc"});
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(counters().invalid_acks_suppressed.get(), 1U);
  // A FIN sent again in CLOSE_WAIT (our ACK of it lost) is answered at once too.
  input({.flags = flag::kAck | flag::kFin, .seq = kPeerIsn + 7, .ack = _iss + 1});
  EXPECT_EQ(sent_one().h.ack.value, kPeerIsn + 8);
  ASSERT_EQ(c->state, tcp_state::close_wait);
  for (int i = 0; i < 3; ++i) {
    input({.flags = flag::kAck | flag::kFin, .seq = kPeerIsn + 7, .ack = _iss + 1});
    EXPECT_EQ(sent_one().h.ack.value, kPeerIsn + 8) << "FIN again " << i;
  }
}

TEST_F(InvalidAck, ZeroWindowProbesAreAnsweredAtOnce) {
  // RFC 9293 §3.8.6.1: a zero window's probes must be answered, or the
  // peer never learns that the window opened.
  tcp_config cfg;
  cfg.max_time_wait = 1024;
  cfg.rcv_buffer = 2920;  // two segments fill it; window scale 0
  make_layer(cfg);
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  const std::string full(1460, 'z');
  input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = _iss + 1, .payload = full});
  input({.flags = flag::kAck, .seq = kPeerIsn + 1461, .ack = _iss + 1, .payload = full});
  const auto closed = sent_one();
  ASSERT_EQ(closed.h.window, 0) << "the window is shut (the application reads nothing)";
  const std::uint32_t rcv_nxt = kPeerIsn + 2921;
  ASSERT_EQ(c->rcv_nxt.value, rcv_nxt);
  // Probes one below RCV.NXT with no data (Linux's and kbt's), quicker than
  // the limit would let through.
  for (int i = 0; i < 4; ++i) {
    input({.flags = flag::kAck, .seq = rcv_nxt - 1, .ack = _iss + 1});
    const auto ack = sent_one();
    EXPECT_EQ(ack.h.ack.value, rcv_nxt) << "probe " << i;
    EXPECT_EQ(ack.h.window, 0);
    advance_ms(200);
  }
  EXPECT_EQ(counters().invalid_acks_suppressed.get(), 0U);
  // Once the window is open again the same segment is a keepalive probe,
  // an old duplicate: answered within the limit.
  EXPECT_EQ(read_all(*_layer, *c, _now).size(), 2920U);
  sent();  // the window update
  input({.flags = flag::kAck, .seq = rcv_nxt - 1, .ack = _iss + 1});
  EXPECT_EQ(sent().size(), 1U);
  input({.flags = flag::kAck, .seq = rcv_nxt - 1, .ack = _iss + 1});
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(counters().invalid_acks_suppressed.get(), 1U);
}

TEST_F(InvalidAck, ANewConnectionOnTheTupleStartsWithoutALimit) {
  // reset_for_open(): the stamp belongs to one connection, not to the
  // TCB slot or the tuple.
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  out_of_window_data(*c);
  EXPECT_EQ(sent().size(), 1U);
  input({.flags = flag::kRst, .seq = kPeerIsn + 1});  // exact: reset
  ASSERT_EQ(c->state, tcp_state::closed);
  _layer->release(*c, _now);
  tcb* again = established_passive();
  ASSERT_NE(again, nullptr);
  out_of_window_data(*again);
  EXPECT_EQ(sent().size(), 1U) << "answered, though within 500 ms of the last one";
  EXPECT_EQ(counters().invalid_acks_suppressed.get(), 0U);
}

}  // namespace
}  // namespace kbt::tcp::test
