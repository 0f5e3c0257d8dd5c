// The core's budget for challenge ACKs (RFC 5961 §7), which SYNs on many
// connections share. What a RST or a SYN does to one connection, and
// unacceptable segments, are RFC 9293 §3.10.7.4 in a state: states/.
#include <vector>

#include "tcp/challenge_budget.hh"
#include "tcp_fixture.hh"

namespace kbt::tcp::test {
namespace {

using RstSyn = TcpFixture;

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

}  // namespace
}  // namespace kbt::tcp::test
