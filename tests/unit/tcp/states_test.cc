// The eleven states of RFC 9293 §3.3.2, each reached by its builder
// (tests/support/tcp_states.hh) from both ends where both make sense, and
// for each one behaviour of RFC 9293 §3.10.7 in that state, checked against
// the captured segments with exact sequence and acknowledgment numbers.
// Suites are named by state, as smoltcp groups its tests.
#include <string>

#include "tcp_fixture.hh"

namespace kbt::tcp::test {
namespace {

using support::rig_conn;
using support::side;

class Closed : public TcpFixture {};
class Listen : public TcpFixture {};
class SynSent : public TcpFixture {};
class SynRcvd : public TcpFixture {};
class Established : public TcpFixture {};
class FinWait1 : public TcpFixture {};
class FinWait2 : public TcpFixture {};
class CloseWait : public TcpFixture {};
class Closing : public TcpFixture {};
class LastAck : public TcpFixture {};
class TimeWait : public TcpFixture {};

const std::string kHello = "hello";
std::span<const std::byte> bytes_of(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

// --- each builder reaches its state (the builder checks every segment on
// the way; these check the state from outside once more).

TEST_F(Closed, BuilderReachesItPassive) {
  const rig_conn k = support::closed(rig(), side::passive);
  EXPECT_EQ(_layer->state_of(k.tuple), tcp_state::closed);
  ASSERT_NE(k.c, nullptr);
  EXPECT_EQ(k.c->state, tcp_state::closed);
  _layer->release(*k.c, _now);
}
TEST_F(Closed, BuilderReachesItActive) {
  const rig_conn k = support::closed(rig(), side::active);
  EXPECT_EQ(_layer->state_of(k.tuple), tcp_state::closed);
  ASSERT_NE(k.c, nullptr);
  EXPECT_EQ(k.c->state, tcp_state::closed);
  _layer->release(*k.c, _now);
}
TEST_F(Listen, BuilderReachesIt) {
  const rig_conn k = support::listen_state(rig());
  EXPECT_NE(_layer->find_listener(kServerPort), nullptr);
  EXPECT_EQ(_layer->connections(), 0U);
  EXPECT_EQ(_layer->state_of(k.tuple), tcp_state::closed) << "no connection until a SYN";
}
TEST_F(SynSent, BuilderReachesIt) {
  EXPECT_EQ(_layer->state_of(support::syn_sent(rig()).tuple), tcp_state::syn_sent);
}
TEST_F(SynRcvd, BuilderReachesItPassive) {
  EXPECT_EQ(_layer->state_of(support::syn_rcvd(rig(), side::passive).tuple), tcp_state::syn_rcvd);
}
TEST_F(SynRcvd, BuilderReachesItActive) {
  EXPECT_EQ(_layer->state_of(support::syn_rcvd(rig(), side::active).tuple), tcp_state::syn_rcvd);
}
TEST_F(Established, BuilderReachesItPassive) {
  EXPECT_EQ(_layer->state_of(support::established(rig(), side::passive).tuple),
            tcp_state::established);
}
TEST_F(Established, BuilderReachesItActive) {
  EXPECT_EQ(_layer->state_of(support::established(rig(), side::active).tuple),
            tcp_state::established);
}
TEST_F(FinWait1, BuilderReachesItPassive) {
  EXPECT_EQ(_layer->state_of(support::fin_wait_1(rig(), side::passive).tuple),
            tcp_state::fin_wait_1);
}
TEST_F(FinWait1, BuilderReachesItActive) {
  EXPECT_EQ(_layer->state_of(support::fin_wait_1(rig(), side::active).tuple),
            tcp_state::fin_wait_1);
}
TEST_F(FinWait2, BuilderReachesItPassive) {
  EXPECT_EQ(_layer->state_of(support::fin_wait_2(rig(), side::passive).tuple),
            tcp_state::fin_wait_2);
}
TEST_F(FinWait2, BuilderReachesItActive) {
  EXPECT_EQ(_layer->state_of(support::fin_wait_2(rig(), side::active).tuple),
            tcp_state::fin_wait_2);
}
TEST_F(CloseWait, BuilderReachesItPassive) {
  EXPECT_EQ(_layer->state_of(support::close_wait(rig(), side::passive).tuple),
            tcp_state::close_wait);
}
TEST_F(CloseWait, BuilderReachesItActive) {
  EXPECT_EQ(_layer->state_of(support::close_wait(rig(), side::active).tuple),
            tcp_state::close_wait);
}
TEST_F(Closing, BuilderReachesItPassive) {
  EXPECT_EQ(_layer->state_of(support::closing(rig(), side::passive).tuple), tcp_state::closing);
}
TEST_F(Closing, BuilderReachesItActive) {
  EXPECT_EQ(_layer->state_of(support::closing(rig(), side::active).tuple), tcp_state::closing);
}
TEST_F(LastAck, BuilderReachesItPassive) {
  EXPECT_EQ(_layer->state_of(support::last_ack(rig(), side::passive).tuple), tcp_state::last_ack);
}
TEST_F(LastAck, BuilderReachesItActive) {
  EXPECT_EQ(_layer->state_of(support::last_ack(rig(), side::active).tuple), tcp_state::last_ack);
}
TEST_F(TimeWait, BuilderReachesItPassive) {
  EXPECT_EQ(_layer->state_of(support::time_wait(rig(), side::passive).tuple),
            tcp_state::time_wait);
}
TEST_F(TimeWait, BuilderReachesItActive) {
  EXPECT_EQ(_layer->state_of(support::time_wait(rig(), side::active).tuple),
            tcp_state::time_wait);
}

// --- one §3.10.7 behaviour per state

// §3.10.7.1: in CLOSED a segment with ACK gets <SEQ=SEG.ACK><CTL=RST>.
TEST_F(Closed, AckGetsRstWithSeqOfSegAck) {
  const rig_conn k = support::closed(rig(), side::active);
  rig().input(k.on(support::ack(k.peer_nxt, k.stack_nxt + 7)));
  const auto rst = sent_one();
  EXPECT_EQ(rst.h.flags, flag::kRst);
  EXPECT_EQ(rst.h.seq.value, k.stack_nxt + 7);
  EXPECT_EQ(rst.h.src_port, k.tuple.local_port);
  _layer->release(*k.c, _now);
}

// §3.10.7.2 second: LISTEN answers an ACK with <SEQ=SEG.ACK><CTL=RST>.
TEST_F(Listen, AckGetsRstWithSeqOfSegAck) {
  const rig_conn k = support::listen_state(rig());
  rig().input(k.on(support::ack(kPeerIsn, 123456)));
  const auto rst = sent_one();
  EXPECT_EQ(rst.h.flags, flag::kRst);
  EXPECT_EQ(rst.h.seq.value, 123456U);
  EXPECT_EQ(_layer->connections(), 0U);
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

// §3.10.7.4 fifth, SYN_RCVD: an ACK outside SND.UNA < SEG.ACK =< SND.NXT
// gets <SEQ=SEG.ACK><CTL=RST>.
TEST_F(SynRcvd, UnacceptableAckGetsRst) {
  const rig_conn k = support::syn_rcvd(rig(), side::active);
  rig().input(k.on(support::ack(k.peer_nxt, k.stack_nxt + 10)));
  const auto rst = sent_one();
  EXPECT_EQ(rst.h.flags, flag::kRst);
  EXPECT_EQ(rst.h.seq.value, k.stack_nxt + 10);
  EXPECT_EQ(_layer->state_of(k.tuple), tcp_state::syn_rcvd);
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

// §3.10.7.4 eighth, FIN_WAIT_1: a FIN that also acknowledges ours goes
// straight to TIME_WAIT, ACKed with <ACK=FIN+1>.
TEST_F(FinWait1, FinThatAcksOursEntersTimeWait) {
  const rig_conn k = support::fin_wait_1(rig(), side::passive);
  rig().input(k.on(support::fin(k.peer_nxt, k.stack_nxt)));
  const auto a = sent_one();
  EXPECT_EQ(a.h.flags, flag::kAck);
  EXPECT_EQ(a.h.seq.value, k.stack_nxt);
  EXPECT_EQ(a.h.ack.value, k.peer_nxt + 1);
  EXPECT_EQ(_layer->state_of(k.tuple), tcp_state::time_wait);
}

// §3.10.7.4 seventh, FIN_WAIT_2: the peer may still send; text is taken and
// acknowledged.
TEST_F(FinWait2, DataIsAcceptedAndAcked) {
  const rig_conn k = support::fin_wait_2(rig(), side::active);
  rig().input(k.on(support::data(k.peer_nxt, k.stack_nxt, bytes_of(kHello))));
  advance_ms(500);
  const auto a = sent_one();
  EXPECT_EQ(a.h.flags, flag::kAck);
  EXPECT_EQ(a.h.seq.value, k.stack_nxt);
  EXPECT_EQ(a.h.ack.value, k.peer_nxt + 5);
  EXPECT_EQ(read_all(*_layer, *k.c, _now), kHello);
  EXPECT_EQ(_layer->state_of(k.tuple), tcp_state::fin_wait_2);
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

// §3.10.7.4 fifth, CLOSING: the ACK of our FIN enters TIME_WAIT; nothing
// is sent.
TEST_F(Closing, AckOfFinEntersTimeWait) {
  const rig_conn k = support::closing(rig(), side::active);
  rig().input(k.on(support::ack(k.peer_nxt, k.stack_nxt)));
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(_layer->state_of(k.tuple), tcp_state::time_wait);
}

// §3.10.7.4 fifth, LAST_ACK: the ACK of our FIN closes; nothing is sent.
TEST_F(LastAck, AckOfFinCloses) {
  const rig_conn k = support::last_ack(rig(), side::passive);
  rig().input(k.on(support::ack(k.peer_nxt, k.stack_nxt)));
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(_layer->state_of(k.tuple), tcp_state::closed);
  EXPECT_EQ(k.c->state, tcp_state::closed);
  _layer->release(*k.c, _now);
}

// §3.10.7.4 eighth, TIME_WAIT: a retransmitted FIN is acknowledged again
// <SEQ=SND.NXT><ACK=RCV.NXT> and the state stays.
TEST_F(TimeWait, RetransmittedFinIsAckedAgain) {
  const rig_conn k = support::time_wait(rig(), side::passive);
  rig().input(k.on(support::fin(k.peer_nxt - 1, k.stack_nxt)));
  const auto a = sent_one();
  EXPECT_EQ(a.h.flags, flag::kAck);
  EXPECT_EQ(a.h.seq.value, k.stack_nxt);
  EXPECT_EQ(a.h.ack.value, k.peer_nxt);
  EXPECT_EQ(_layer->state_of(k.tuple), tcp_state::time_wait);
}

}  // namespace
}  // namespace kbt::tcp::test
