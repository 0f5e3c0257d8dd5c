// Keepalive (RFC 1122 §4.2.3.6): off by default; when on, probes after the
// idle time, <SEQ=SND.NXT-1> with no data, and gives up after the probe
// count without an answer.
#include "tcp_fixture.hh"

namespace kbt::tcp::test {
namespace {

using Keepalive = TcpFixture;
constexpr std::uint64_t kMin = 60'000;  // ms

TEST_F(Keepalive, OffByDefault) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  for (int i = 0; i < 180; ++i) advance_ms(kMin);  // three hours idle
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(c->state, tcp_state::established);
}

TEST_F(Keepalive, ProbesAfterIdleAndAnAnswerKeepsTheConnection) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  _layer->set_keepalive(*c, true, _now);
  advance_ms(7200'000 - 1);
  EXPECT_TRUE(sent().empty());
  advance_ms(1);
  const auto probe = sent_one();
  EXPECT_EQ(probe.h.flags, flag::kAck);
  EXPECT_EQ(probe.h.seq.value, _iss);  // SND.NXT - 1
  EXPECT_EQ(probe.payload.size(), 0U);
  // The peer answers: idle starts over, no more probes for two hours.
  input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = _iss + 1});
  advance_ms(75'000);
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(c->state, tcp_state::established);
}

TEST_F(Keepalive, UnansweredProbesTimeTheConnectionOut) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  _layer->set_keepalive(*c, true, _now);
  advance_ms(7200'000);
  int probes = static_cast<int>(sent().size());
  for (int i = 0; i < 20 && c->state != tcp_state::closed; ++i) {
    advance_ms(75'000);
    probes += static_cast<int>(sent().size());
  }
  EXPECT_EQ(probes, 9);  // tcp_config::keepalive_probes
  EXPECT_EQ(c->state, tcp_state::closed);
  EXPECT_NE(events_for(c) & event::kClosed, 0);
  EXPECT_EQ(c->reason, close_reason::timeout);
}

TEST_F(Keepalive, NoProbesWhileDataIsOutstanding) {
  // Found by the soak: data outstanding during a long RTO backoff, the
  // keepalive probed at SND.MAX - 1 (inside the peer's window: no answer)
  // and timed a live connection out. The retransmission timer owns that.
  tcp_config cfg;
  cfg.keepalive_idle = base::nanos{10'000'000'000};
  cfg.keepalive_interval = base::nanos{1'000'000'000};
  cfg.keepalive_probes = 2;
  make_layer(cfg);
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  _layer->set_keepalive(*c, true, _now);
  const std::string data = "unacked";
  _layer->send_copy(*c, std::as_bytes(std::span(data)), _now);
  sent();
  for (int i = 0; i < 30; ++i) {
    advance_ms(1000);
    for (const auto& s : sent()) EXPECT_NE(s.payload.size(), 0U) << "only retransmissions";
  }
  EXPECT_EQ(_layer->counters().keepalive_probes.get(), 0U);
  EXPECT_EQ(c->state, tcp_state::established);
}

}  // namespace
}  // namespace kbt::tcp::test
