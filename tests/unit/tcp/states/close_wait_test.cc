// CLOSE_WAIT: the peer's FIN taken and acknowledged, our half still open.
// RFC 9293 §3.10.7.4: ACKs are processed as in ESTABLISHED, since our
// data still goes out (§3.10.2: SEND is allowed); text after the peer's
// FIN cannot be valid and is ignored, and its FIN again (our ACK lost) is
// answered with an ACK and changes nothing.
#include "state_fixtures.hh"

namespace kbt::tcp::test {
namespace {

TEST_F(CloseWait, BuilderReachesItPassive) {
  EXPECT_EQ(_layer->state_of(support::close_wait(rig(), side::passive).tuple),
            tcp_state::close_wait);
}

TEST_F(CloseWait, BuilderReachesItActive) {
  EXPECT_EQ(_layer->state_of(support::close_wait(rig(), side::active).tuple),
            tcp_state::close_wait);
}

// §3.10.4 SEND in CLOSE_WAIT: the half-closed side may still send.
TEST_F(CloseWait, SendStillGoesOut) {
  const rig_conn k = support::close_wait(rig(), side::passive);
  EXPECT_EQ(_layer->send_copy(*k.c, bytes_of(kHello), _now), 5U);
  const auto d = sent_one();
  EXPECT_TRUE(d.has(flag::kAck));
  EXPECT_EQ(d.h.seq.value, k.stack_nxt);
  EXPECT_EQ(d.h.ack.value, k.peer_nxt);
  EXPECT_EQ(text(d), kHello);
  EXPECT_EQ(_layer->state_of(k.tuple), tcp_state::close_wait);
}

TEST_F(CloseWait, CloseWaitIsToldWritableAndKeepsSendingAfterAcks) {
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

}  // namespace
}  // namespace kbt::tcp::test
