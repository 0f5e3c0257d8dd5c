// The room the owner's transmit queue leaves (tcp_layer::set_tx_room): a
// connection's segments beyond it wait with the connection and go, in order,
// in a later iteration (run_deferred), and nothing is lost on the way: not a
// delayed ACK, not the RST of an abort. First SYNs of active opens are paced
// per iteration.
#include <string>

#include "tcp_fixture.hh"

namespace kbt::tcp::test {
namespace {

std::span<const std::byte> bytes_of(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

using TxRoom = TcpFixture;

// Each "next iteration" below is what the engine does: room again
// (set_tx_room), then the timers, which run what waited (advance).
TEST_F(TxRoom, ADelayedAckThatFindsNoRoomIsSentInALaterIteration) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = _iss + 1, .payload = "one segment"});
  EXPECT_TRUE(sent().empty()) << "the ACK is delayed";
  _layer->set_tx_room(0);
  advance_ms(40);  // the delayed ACK's time: no room
  EXPECT_TRUE(sent().empty());
  EXPECT_GT(_layer->counters().tx_deferred.get(), 0U);
  _layer->set_tx_room(100);
  advance_ms(1);
  const auto ack = sent_one();
  EXPECT_TRUE(ack.has(flag::kAck));
  EXPECT_EQ(ack.h.ack.value, kPeerIsn + 1 + 11) << "the ACK owed, not forgotten";
}

TEST_F(TxRoom, DataBeyondTheRoomWaitsAndGoesInOrder) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  _layer->set_nodelay(*c, true);
  _layer->set_tx_room(2);
  const std::string data(10 * 1000, 'd');
  ASSERT_EQ(_layer->send_copy(*c, bytes_of(data), _now), data.size());
  auto first = sent();
  ASSERT_EQ(first.size(), 2U) << "no more than the room";
  std::uint32_t next = first[1].h.seq.value + static_cast<std::uint32_t>(first[1].payload.size());
  std::size_t bytes = first[0].payload.size() + first[1].payload.size();
  EXPECT_EQ(c->snd_nxt.value, next) << "the rest is not counted as sent";
  for (int i = 0; i < 10 && bytes < data.size(); ++i) {
    _layer->set_tx_room(3);
    advance_ms(1);
    for (const auto& s : sent()) {
      EXPECT_EQ(s.h.seq.value, next) << "in order, nothing skipped";
      next += static_cast<std::uint32_t>(s.payload.size());
      bytes += s.payload.size();
    }
  }
  EXPECT_EQ(bytes, data.size());
  EXPECT_EQ(_layer->counters().retransmits.get(), 0U);
  EXPECT_TRUE(_layer->tx_idle());
}

TEST_F(TxRoom, FirstSynsOfActiveOpensArePacedPerIteration) {
  _max_conns = 200;
  tcp_config cfg;
  cfg.max_time_wait = 1024;
  make_layer(cfg);
  _layer->set_tx_room(1000);
  for (std::uint16_t i = 0; i < 100; ++i) {
    ASSERT_NE(_layer->connect(kPeerIp, kServerPort, _now, static_cast<std::uint16_t>(20000 + i)),
              nullptr);
  }
  EXPECT_EQ(sent().size(), tcp_layer::kSynsPerIteration);
  _layer->set_tx_room(1000);
  advance_ms(1);
  EXPECT_EQ(sent().size(), 100U - tcp_layer::kSynsPerIteration);
  EXPECT_EQ(_layer->counters().syn_retransmits.get(), 0U);
}

TEST_F(TxRoom, TheRstOfAnAbortWaitsForRoomAndItsTcbWithIt) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  const std::uint32_t snd_nxt = c->snd_nxt.value;
  _layer->set_tx_room(0);
  _layer->abort(*c, _now);
  _layer->release(*c, _now);
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(_layer->connections(), 1U) << "kept until its RST has gone";
  EXPECT_EQ(_layer->find(kPassiveTuple), nullptr) << "but off the table at once";
  _layer->set_tx_room(10);
  advance_ms(1);
  const auto rst = sent_one();
  EXPECT_TRUE(rst.has(flag::kRst));
  EXPECT_EQ(rst.h.seq.value, snd_nxt);
  EXPECT_EQ(_layer->connections(), 0U);
}

// An owner that takes only part of a batch (an unresolved neighbour): the
// rest waits in the layer, in order, and nothing more is made meanwhile.
struct partial_sink {
  std::size_t take = 0;
  std::vector<out_packet> got;
};

std::size_t take_some(void* ctx, std::span<const out_packet> pkts) noexcept {
  auto* s = static_cast<partial_sink*>(ctx);
  const std::size_t n = std::min(s->take, pkts.size());
  s->got.insert(s->got.end(), pkts.begin(), pkts.begin() + static_cast<std::ptrdiff_t>(n));
  s->take -= n;
  return n;
}

TEST(TxRoomOwner, PacketsTheOwnerCannotTakeWaitInOrder) {
  const unsigned before = kbt::test::available_mbufs();
  {
    partial_sink sink;
    tcp_layer_config lc;
    lc.tcp.max_time_wait = 1024;
    lc.local_ip = kStackIp;
    lc.max_conns = 16;
    lc.pool = kbt::test::mbuf_pool();
    lc.start = base::instant_from_ns(1'000'000'000);
    tcp_layer l(lc, &take_some, &sink);
    l.set_tx_room(100);
    for (std::uint16_t i = 0; i < 5; ++i) {
      ASSERT_NE(l.connect(kPeerIp, kServerPort, lc.start, static_cast<std::uint16_t>(30000 + i)),
                nullptr);
    }
    sink.take = 2;
    l.flush();
    EXPECT_EQ(sink.got.size(), 2U);
    EXPECT_FALSE(l.tx_idle()) << "three wait in the layer";
    sink.take = 100;
    l.set_tx_room(100);
    l.flush();
    ASSERT_EQ(sink.got.size(), 5U);
    for (std::size_t i = 0; i < sink.got.size(); ++i) {
      const auto* b = rte_pktmbuf_mtod(sink.got[i].m, const std::byte*);
      const auto seg = wire::parse_tcp({b + 20, rte_pktmbuf_data_len(sink.got[i].m) - 20U},
                                       kStackIp, kPeerIp, false);
      ASSERT_TRUE(seg);
      EXPECT_EQ(seg->src_port, 30000 + i) << "in the order they were made";
      rte_pktmbuf_free(sink.got[i].m);
    }
  }
  EXPECT_EQ(kbt::test::available_mbufs(), before);
}

}  // namespace
}  // namespace kbt::tcp::test
