// LISTEN: a listener on the port, no connection for the tuple yet. RFC
// 9293 §3.10.7.2: a RST is ignored, there being nothing to reset; an ACK
// can acknowledge nothing we sent and gets <SEQ=SEG.ACK><CTL=RST>, which
// clears a half-open connection at the other end; a SYN opens SYN_RCVD;
// anything else is dropped. The SYN queue, the accept queue and SYN
// cookies behind a listener are listener_test.cc's.
#include "state_fixtures.hh"

namespace kbt::tcp::test {
namespace {

TEST_F(Listen, BuilderReachesIt) {
  const rig_conn k = support::listen_state(rig());
  EXPECT_NE(_layer->find_listener(kServerPort), nullptr);
  EXPECT_EQ(_layer->connections(), 0U);
  EXPECT_EQ(_layer->state_of(k.tuple), tcp_state::closed) << "no connection until a SYN";
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

TEST_F(Listen, AckWithoutConnectionGetsRstFromItsAck) {
  // RFC 9293 §3.10.7.2 second: any ACK is bad in LISTEN: <SEQ=SEG.ACK><CTL=RST>
  ASSERT_TRUE(_layer->listen(kServerPort));
  input({.flags = flag::kAck, .seq = 5000, .ack = 123456});
  const auto rst = sent_one();
  EXPECT_EQ(rst.h.flags, flag::kRst);
  EXPECT_EQ(rst.h.seq.value, 123456U);
}

// RFC 9293 §3.10.7.2: an ACK-bearing segment in LISTEN gets
// <SEQ=SEG.ACK><CTL=RST>; a SYN-ACK (someone else's flood's backscatter) must
// take no SYN-queue entry and draw no SYN-ACK (found by the fuzz targets).
TEST_F(Listen, SynAckToAListenerGetsRstWithSeqOfItsAck) {
  for (auto mode : {syncookies_mode::never, syncookies_mode::always}) {
    with(mode);
    input({.flags = flag::kSyn | flag::kAck, .seq = kPeerIsn, .ack = 777777, .src_port = 41000});
    const auto rst = sent_one();
    EXPECT_EQ(rst.h.flags, flag::kRst);
    EXPECT_EQ(rst.h.seq.value, 777777U);
    EXPECT_EQ(_layer->connections(), 0U);
    EXPECT_EQ(syn_queue(), 0U);
    EXPECT_EQ(_layer->counters().syncookies_sent.get(), 0U);
  }
}

TEST_F(Listen, SynFinToAListenerIsDropped) {
  with(syncookies_mode::never);
  input({.flags = flag::kSyn | flag::kFin, .seq = kPeerIsn, .src_port = 41000});
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(_layer->connections(), 0U);
}

}  // namespace
}  // namespace kbt::tcp::test
