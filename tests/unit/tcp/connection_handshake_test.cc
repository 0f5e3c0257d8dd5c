// tcp::connection's side of the handshake by itself: a segment in SYN_SENT
// (RFC 9293 §3.10.7.3) and what it leaves for the owner (syn_sent_outcome),
// and the one way into ESTABLISHED.
#include "connection_fixture.hh"

namespace kbt::tcp::test {
namespace {

class ConnectionSynSent : public Connection {
 protected:
  ConnectionSynSent() {
    // connect() sent SYN <SEQ=999>: SND.UNA 999, SND.NXT 1000.
    _c.state = tcp_state::syn_sent;
    _c.opened = open_kind::active;
    _c.snd_una = seq32{999};
    _c.irs = seq32{};
    _c.rcv_nxt = _c.rcv_adv = seq32{};
    _c.snd_wnd = _c.max_snd_wnd = 0;
  }
  // The peer's SYN (with `flags`) at ISN 6999, acknowledging `ack`.
  static wire::tcp_repr peer(std::uint8_t flags, std::uint32_t ack = 1000) {
    wire::tcp_repr seg;
    seg.seq = seq32{6999};
    seg.ack = seq32{ack};
    seg.flags = flags;
    seg.window = 29200;
    seg.options.mss = 1400;
    return seg;
  }
};

// Fourth: a SYN-ACK of our SYN: ESTABLISHED, the application told, and
// <SEQ=SND.NXT><ACK=RCV.NXT> owed at once; the SYN's window and MSS taken.
TEST_F(ConnectionSynSent, ASynAckOfOurSynIsEstablished) {
  EXPECT_EQ(conn().receive_syn_sent(peer(flag::kSyn | flag::kAck), kNow), syn_sent_outcome::go_on);
  EXPECT_EQ(_c.state, tcp_state::established);
  EXPECT_EQ(_c.snd_una, seq32{1000});
  EXPECT_EQ(_c.irs, seq32{6999});
  EXPECT_EQ(_c.rcv_nxt, seq32{7000});
  EXPECT_EQ(_c.snd_wnd, 29200U) << "a SYN's window is never scaled";
  EXPECT_EQ(_c.snd_mss, 1400U);
  EXPECT_TRUE(_c.ack_now);
  EXPECT_EQ(events(), event::kConnected);
}

// A close queued in SYN_SENT (RFC 9293 §3.10.4) takes effect on entering
// ESTABLISHED: FIN_WAIT_1.
TEST_F(ConnectionSynSent, ACloseQueuedInSynSentIsFinWait1OnceEstablished) {
  _c.fin_queued = true;
  _c.fin_seq = seq32{1000};
  conn().receive_syn_sent(peer(flag::kSyn | flag::kAck), kNow);
  EXPECT_EQ(_c.state, tcp_state::fin_wait_1);
}

// First: an ACK outside (ISS, SND.NXT] asks the owner for a RST, unless
// the segment is a RST itself.
TEST_F(ConnectionSynSent, AnAckOfSomethingNeverSentAsksForARst) {
  EXPECT_EQ(conn().receive_syn_sent(peer(flag::kSyn | flag::kAck, 1001), kNow),
            syn_sent_outcome::bad_ack);
  EXPECT_EQ(conn().receive_syn_sent(peer(flag::kAck, 999), kNow), syn_sent_outcome::bad_ack);
  EXPECT_EQ(conn().receive_syn_sent(peer(flag::kRst | flag::kAck, 5), kNow),
            syn_sent_outcome::go_on);
  EXPECT_EQ(_c.state, tcp_state::syn_sent);
  EXPECT_TRUE(sent().empty());
}

// Second, as RFC 5961 §3.2 narrows it: a RST counts only with an
// acceptable ACK; then the connection was refused.
TEST_F(ConnectionSynSent, ARstCountsOnlyWithAnAckOfOurSyn) {
  EXPECT_EQ(conn().receive_syn_sent(peer(flag::kRst), kNow), syn_sent_outcome::go_on);
  EXPECT_EQ(_counters.rst_in.get(), 0U);
  EXPECT_EQ(conn().receive_syn_sent(peer(flag::kRst | flag::kAck), kNow),
            syn_sent_outcome::refused);
  EXPECT_EQ(_counters.rst_in.get(), 1U);
  EXPECT_EQ(_c.state, tcp_state::syn_sent) << "the owner closes it";
}

// Simultaneous open (RFC 9293 §3.5 figure 8): a SYN alone is SYN_RCVD and
// a SYN-ACK <SEQ=ISS><ACK=RCV.NXT>.
TEST_F(ConnectionSynSent, ASynAloneIsASimultaneousOpen) {
  EXPECT_EQ(conn().receive_syn_sent(peer(flag::kSyn), kNow), syn_sent_outcome::go_on);
  EXPECT_EQ(_c.state, tcp_state::syn_rcvd);
  auto s = sent();
  ASSERT_EQ(s.size(), 1U);
  EXPECT_EQ(s[0].flags, flag::kSyn | flag::kAck);
  EXPECT_EQ(s[0].seq, 999U);
  EXPECT_EQ(s[0].ack, 7000U);
  EXPECT_EQ(events(), 0) << "not connected yet";
}

// Fifth: neither SYN nor RST: dropped.
TEST_F(ConnectionSynSent, ASegmentWithNeitherSynNorRstIsIgnored) {
  EXPECT_EQ(conn().receive_syn_sent(peer(flag::kAck), kNow), syn_sent_outcome::go_on);
  EXPECT_EQ(_c.state, tcp_state::syn_sent);
  EXPECT_TRUE(sent().empty());
}

}  // namespace
}  // namespace kbt::tcp::test
