// Active opens at scale: source ports come from the core's pool, go back
// only once TIME_WAIT is over (or at CLOSED when the peer closed first), a
// dry pool makes connect() fail and count it, and taking over a TIME_WAIT
// tuple happens only when configured, counted.
#include "tcp_fixture.hh"

#include <set>
#include <utility>
#include <vector>

namespace kbt::tcp::test {
namespace {

class Connect : public TcpFixture {
 protected:
  static constexpr std::uint16_t kFirst = 50000;
  static constexpr std::uint16_t kPorts = 10;

  void with(bool reuse_time_wait) {
    tcp_config cfg;
    cfg.max_time_wait = 1024;
    cfg.reuse_time_wait = reuse_time_wait;
    _port_first = kFirst;
    _port_last = kFirst + kPorts - 1;
    make_layer(cfg);
  }

  // connect(), handshake, then the peer's FIN after ours (we end in
  // TIME_WAIT) or before it (we end CLOSED). Returns the local port.
  std::uint16_t open_and_close(bool we_close_first) {
    tcb* c = _layer->connect(kPeerIp, kServerPort, _now);
    EXPECT_NE(c, nullptr);
    if (c == nullptr) return 0;
    const std::uint16_t port = c->tuple.local_port;
    const std::uint32_t iss = sent_one().h.seq.value;
    const seg_in base{.src_port = kServerPort, .dst_port = port};
    auto seg = [&](std::uint8_t flags, std::uint32_t seq, std::uint32_t ack) {
      seg_in s = base;
      s.flags = flags;
      s.seq = seq;
      s.ack = ack;
      input(s);
    };
    seg(flag::kSyn | flag::kAck, kPeerIsn, iss + 1);
    sent();
    if (we_close_first) {
      _layer->shutdown(*c, _now);
      sent();
      seg(flag::kFin | flag::kAck, kPeerIsn + 1, iss + 2);
    } else {
      seg(flag::kFin | flag::kAck, kPeerIsn + 1, iss + 1);
      sent();
      _layer->shutdown(*c, _now);
      sent();
      seg(flag::kAck, kPeerIsn + 2, iss + 2);
    }
    sent();
    _layer->release(*c, _now);
    return port;
  }
};

TEST_F(Connect, PortsStayTakenThroughTimeWaitThenTheDryPoolFailsAndCounts) {
  with(false);
  for (int i = 0; i < kPorts; ++i) {
    const std::uint16_t p = open_and_close(true);
    EXPECT_GE(p, kFirst);
    EXPECT_LT(p, kFirst + kPorts);
  }
  EXPECT_EQ(_layer->time_wait().size(), kPorts);
  EXPECT_EQ(_layer->connect(kPeerIp, kServerPort, _now), nullptr);
  EXPECT_EQ(_layer->counters().ports_exhausted.get(), 1U);
  EXPECT_EQ(_layer->counters().time_wait_recycled.get(), 0U);
  // 2MSL later every record is gone and every port is back.
  advance_ms(60'000);
  EXPECT_EQ(_layer->time_wait().size(), 0U);
  EXPECT_EQ(_layer->ports().available(), kPorts);
  EXPECT_NE(open_and_close(true), 0);
}

TEST_F(Connect, ReuseOfTimeWaitTuplesTakesTheOldestAndIsCounted) {
  with(true);
  const std::uint16_t first = open_and_close(true);
  for (int i = 1; i < kPorts; ++i) open_and_close(true);
  tcb* c = _layer->connect(kPeerIp, kServerPort, _now);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->tuple.local_port, first) << "the oldest record gave up its port";
  EXPECT_EQ(_layer->counters().time_wait_recycled.get(), 1U);
  EXPECT_EQ(_layer->time_wait().size(), kPorts - 1U);
  sent();
}

// Also the regression test for the table's key slots: with
// RW_CONCURRENCY_LF rte_hash keeps a deleted key's slot until it is freed,
// and the 19th connection on a 16-TCB layer found the table full.
TEST_F(Connect, PassiveCloserGivesItsPortBackAtClosed) {
  with(false);
  for (int i = 0; i < 10 * kPorts; ++i) {
    ASSERT_NE(open_and_close(false), 0) << "connection " << i << ", no_tcb "
                                        << _layer->counters().no_tcb.get();
  }
  EXPECT_EQ(_layer->time_wait().size(), 0U);
  EXPECT_EQ(_layer->ports().available(), kPorts);
}

// A handshake that needed its SYN again (a peer's TIME_WAIT answered the
// first with an ACK, or it was lost) says so after it completes, so that an
// application (kbt-load's syn_retransmitted) can count the second it cost.
TEST_F(Connect, SynRetransmissionsAreKeptOnTheConnection) {
  with(false);
  tcb* c = _layer->connect(kPeerIp, kServerPort, _now);
  ASSERT_NE(c, nullptr);
  const std::uint32_t iss = sent_one().h.seq.value;
  EXPECT_EQ(c->syn_retransmits, 0U);
  advance_ms(1'000);  // RFC 6298 §2.1: the first RTO is 1 s
  EXPECT_EQ(sent_one().h.flags, flag::kSyn);
  advance_ms(2'000);  // backed off (§5.5)
  EXPECT_EQ(sent_one().h.flags, flag::kSyn);
  input({.flags = flag::kSyn | flag::kAck, .seq = kPeerIsn, .ack = iss + 1,
         .src_port = kServerPort, .dst_port = c->tuple.local_port});
  EXPECT_EQ(c->state, tcp_state::established);
  EXPECT_EQ(c->syn_retransmits, 2U) << "kept once established";
  sent();
  // The next connection on this TCB starts again from 0.
  _layer->abort(*c, _now);
  _layer->release(*c, _now);
  sent();
  tcb* d = _layer->connect(kPeerIp, kServerPort, _now);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->syn_retransmits, 0U);
  sent();
}

// --source-ips: each address brings the whole port range, connect() takes
// the addresses in turn, and a connection's port goes back to its address.
TEST_F(Connect, SourceAddressesTakenInTurnEachWithTheWholePortRange) {
  constexpr std::uint32_t kSources = 3;
  _sources = {wire::ipv4_addr::from_octets(198, 18, 0, 10), kSources};
  _max_conns = kSources * kPorts + 8;
  with(false);
  std::vector<tcb*> conns;
  std::set<std::pair<std::uint32_t, std::uint16_t>> tuples;
  for (std::uint32_t i = 0; i < kSources * kPorts; ++i) {
    tcb* c = _layer->connect(kPeerIp, kServerPort, _now);
    ASSERT_NE(c, nullptr) << "connection " << i;
    EXPECT_EQ(c->tuple.local_ip, _sources.at(i % kSources)) << "round robin, connection " << i;
    EXPECT_GE(c->tuple.local_port, kFirst);
    EXPECT_LT(c->tuple.local_port, kFirst + kPorts);
    EXPECT_TRUE(tuples.insert({c->tuple.local_ip.value, c->tuple.local_port}).second);
    conns.push_back(c);
  }
  EXPECT_EQ(sent().size(), kSources * kPorts);  // the SYNs, from their own addresses
  // Three times what one address allows, to one server ip:port; then dry.
  EXPECT_EQ(_layer->connect(kPeerIp, kServerPort, _now), nullptr);
  EXPECT_EQ(_layer->counters().ports_exhausted.get(), 1U);
  // A connection of the second address ends: its port is that address's again.
  tcb* second = conns[1];
  const std::uint16_t port = second->tuple.local_port;
  _layer->abort(*second, _now);
  _layer->release(*second, _now);
  sent();
  EXPECT_EQ(_layer->ports().available(0), 0U);
  EXPECT_EQ(_layer->ports().available(1), 1U);
  EXPECT_EQ(_layer->ports().available(2), 0U);
  EXPECT_EQ(_layer->ports().ignored_give_backs(), 0U);
  tcb* again = _layer->connect(kPeerIp, kServerPort, _now);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->tuple.local_ip, _sources.at(1));
  EXPECT_EQ(again->tuple.local_port, port);
  sent();
}

}  // namespace
}  // namespace kbt::tcp::test
