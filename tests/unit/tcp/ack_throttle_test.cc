// ACKs in answer to segments that should not have come, and their limits
// (RFC 5961 §7): challenge ACKs (RFC 5961 §3.2, §4.2, §5.2) go through the
// connection's limit, one per invalid_ack_interval_ns, and then the core's
// budget, drawn anew each second (challenge_budget.hh, CVE-2016-5696).
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
  const tcp_counters& counters() const { return _layer->counters(); }
};

using ChallengeAck = AckThrottle;

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

TEST_F(ChallengeAck, GlobalBudgetIsRandomisedPerSecond) {
  // The core's budget alone: without the per-connection limit one
  // connection can spend it. Each second, more challenges than the largest
  // budget; what is answered is that second's budget.
  tcp_config cfg;
  cfg.max_time_wait = 1024;
  cfg.challenge_ack_limit = 20;
  cfg.invalid_ack_interval_ns = 0;
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
    const std::uint64_t now = s * kSec + 123;
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
  for (int i = 0; i < 10; ++i) taken += b.take(5 * kSec + 1) ? 1 : 0;
  EXPECT_EQ(taken, b.drawn());
  EXPECT_GE(taken, 2U);
  EXPECT_LE(taken, 4U);
  EXPECT_FALSE(b.take(6 * kSec - 1)) << "the same second";
  EXPECT_TRUE(b.take(6 * kSec)) << "a new second, a new budget";
  challenge_budget none(k, k, 0, 0);
  EXPECT_FALSE(none.take(kSec)) << "limit 0: no challenge ACKs";
}

}  // namespace
}  // namespace kbt::tcp::test
