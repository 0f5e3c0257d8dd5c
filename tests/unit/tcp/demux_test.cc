// tcp::demux (tcp/demux.hh) through tcp_layer::input_burst: every segment
// of a burst reaches what it would reach alone (a connection, TIME_WAIT, a
// listener, nobody), in order, including a connection that an earlier
// segment of the same burst opened (the bulk answer gone stale), and a
// burst longer than one bulk lookup.
#include <vector>

#include "tcp_fixture.hh"

namespace kbt::tcp::test {
namespace {

class Demux : public TcpFixture {
 protected:
  // `s` as the engine hands it over: parsed, in a fresh mbuf.
  tcp_rx rx(support::segment_spec s) {
    if (s.src.value == 0) s.src = kPeerIp;
    if (s.dst.value == 0) s.dst = kStackIp;
    bool ok = false;
    const support::prepared_segment p = support::prepare(s, &ok);
    EXPECT_TRUE(ok);
    return tcp_rx{support::to_mbuf(p, rig().pool()), p.ip, p.tcp, p.ip.header_len};
  }
  static support::segment_spec spec(std::uint16_t src_port, std::uint16_t dst_port,
                                    std::uint8_t flags, std::uint32_t seq, std::uint32_t ack) {
    support::segment_spec s;
    s.src_port = src_port;
    s.dst_port = dst_port;
    s.flags = flags;
    s.seq = seq;
    s.ack = ack;
    return s;
  }
  void burst(std::vector<tcp_rx> b) {
    _layer->input_burst(b, _now);
    poll();
  }
};

// The SYN opens a SYN_RCVD connection after the bulk lookup ran: the ACK
// behind it in the same burst must find it (looked up again, counted) and
// complete the handshake.
TEST_F(Demux, ASegmentFindsTheConnectionAnEarlierOneOfItsBurstOpened) {
  _layer->listen(kServerPort);
  const auto before = _layer->counters().bulk_lookup_fallbacks.get();
  std::vector<tcp_rx> b;
  b.push_back(rx(spec(kPeerPort, kServerPort, flag::kSyn, kPeerIsn, 0)));
  burst(std::move(b));
  const seg_out synack = sent_one();
  ASSERT_TRUE(synack.has(flag::kSyn) && synack.has(flag::kAck));
  const std::uint32_t iss = synack.h.seq.value;

  // Now a second peer's SYN and, behind it, the first peer's final ACK.
  b.clear();
  b.push_back(rx(spec(kPeerPort + 1, kServerPort, flag::kSyn, kPeerIsn, 0)));
  b.push_back(rx(spec(kPeerPort, kServerPort, flag::kAck, kPeerIsn + 1, iss + 1)));
  burst(std::move(b));
  EXPECT_EQ(_layer->state_of(kPassiveTuple), tcp_state::established);
  EXPECT_EQ(_layer->state_of({kStackIp, kPeerIp, kServerPort, kPeerPort + 1}),
            tcp_state::syn_rcvd);
  EXPECT_EQ(_layer->counters().bulk_lookup_fallbacks.get(), before + 1);
}

// One burst, four destinations: a connection, a listener, TIME_WAIT and
// nobody; each answered as alone, in the burst's order.
TEST_F(Demux, EachSegmentOfABurstReachesItsOwnDestination) {
  const support::rig_conn tw = support::time_wait(rig(), support::side::passive);
  const support::rig_conn est = support::established(rig(), support::side::passive, {},
                                                      kPeerPort + 1);
  sent();
  std::vector<tcp_rx> b;
  // To the established connection: 5 bytes of data (ACKed: delayed, so no segment yet).
  support::segment_spec data = est.on(spec(0, 0, flag::kAck | flag::kPsh, est.peer_nxt, est.stack_nxt));
  const std::string hello = "hello";
  data.payload = std::as_bytes(std::span(hello.data(), hello.size()));
  b.push_back(rx(data));
  // To the listener: a new SYN.
  b.push_back(rx(spec(kPeerPort + 2, kServerPort, flag::kSyn, kPeerIsn, 0)));
  // To TIME_WAIT: the peer's FIN again (its ACK was lost): ACKed again.
  b.push_back(rx(tw.on(spec(0, 0, flag::kFin | flag::kAck, tw.peer_nxt - 1, tw.stack_nxt))));
  // To nobody: an ACK to a closed port: RST <SEQ=SEG.ACK>.
  b.push_back(rx(spec(kPeerPort + 3, 81, flag::kAck, 5000, 7777)));
  burst(std::move(b));

  EXPECT_EQ(rig().layer().find(est.tuple)->rx_bytes, 5U);
  const std::vector<seg_out> out = sent();
  ASSERT_EQ(out.size(), 3U);
  EXPECT_TRUE(out[0].has(flag::kSyn) && out[0].has(flag::kAck));
  EXPECT_EQ(out[0].h.dst_port, kPeerPort + 2);
  EXPECT_EQ(out[1].h.dst_port, tw.tuple.remote_port);
  EXPECT_EQ(out[1].h.flags, flag::kAck);
  EXPECT_EQ(out[1].h.ack.value, tw.peer_nxt);
  EXPECT_TRUE(out[2].has(flag::kRst));
  EXPECT_EQ(out[2].h.seq.value, 7777U);
}

// More segments than one bulk lookup takes (demux::kMaxBurst): the rest go
// one by one, and none is lost.
TEST_F(Demux, ABurstLongerThanOneBulkLookupIsDeliveredWhole) {
  _max_conns = 64;
  make_layer(tcp_config{});
  _layer->listen(kServerPort);
  std::vector<tcp_rx> b;
  const std::size_t n = demux::kMaxBurst + 8;
  for (std::size_t i = 0; i < n; ++i) {
    b.push_back(rx(spec(static_cast<std::uint16_t>(kPeerPort + i), kServerPort, flag::kSyn,
                        kPeerIsn, 0)));
  }
  burst(std::move(b));
  EXPECT_EQ(sent().size(), n) << "a SYN-ACK for each";
  EXPECT_EQ(_layer->connections(), n);
}

}  // namespace
}  // namespace kbt::tcp::test
