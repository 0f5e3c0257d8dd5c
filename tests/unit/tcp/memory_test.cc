// The mbufs a core's connections hold (mbuf_budget.hh, memory.cc): each
// connection's share of the core's send and receive memory, the senders
// told kWritable when it has room again, small segments that share an
// mbuf, data an application gives back, and the orphan behind a shut
// window that would hold its mbufs for ever.
#include <gtest/gtest.h>

#include <string>

#include "tcp/mbuf_budget.hh"
#include "tcp_fixture.hh"

namespace kbt::tcp::test {
namespace {

std::span<const std::byte> bytes_of(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

TEST(MbufBudget, BelowHalfTheLimitEachConnectionGrowsToItsMaximum) {
  mbuf_budget b(100, 30, 4);
  EXPECT_EQ(b.allowance(0), 30U);
  b.update(0, 30);
  EXPECT_EQ(b.allowance(30), 0U) << "its own maximum";
  EXPECT_EQ(b.allowance(0), 30U) << "another connection: still below half";
  EXPECT_EQ(b.holders(), 1U);
}

TEST(MbufBudget, UnderPressureEachConnectionKeepsToItsShare) {
  mbuf_budget b(100, 80, 4);
  b.update(0, 60);  // one connection took 60: past half of 100
  ASSERT_TRUE(b.pressed());
  EXPECT_EQ(b.allowance(60), 20U) << "alone, its share is the whole limit; its maximum is 80";
  EXPECT_EQ(b.allowance(0), 50U) << "a newcomer makes two holders: a share of 50";
  b.update(0, 20);
  EXPECT_EQ(b.allowance(60), 0U) << "past its share of 50";
  EXPECT_EQ(b.allowance(20), 30U) << "the newcomer grows to its share, the limit not yet reached";
}

TEST(MbufBudget, AtTheLimitOnlyTheGuaranteedMinimumAndNeverPastAnEighthOver) {
  mbuf_budget b(64, 64, 4);
  b.update(0, 64);
  EXPECT_EQ(b.allowance(64), 0U);
  EXPECT_EQ(b.allowance(0), 4U) << "a new connection can always start";
  EXPECT_EQ(b.allowance(3), 1U);
  b.update(0, 4);
  b.update(0, 4);
  // 72 used: the hard bound is 64 + 8; no guarantee reaches past it.
  EXPECT_EQ(b.allowance(0), 0U);
  b.update(64, 0);
  EXPECT_EQ(b.used(), 8U);
  EXPECT_EQ(b.holders(), 2U);
}

using Memory = TcpFixture;

TEST_F(Memory, LimitsDefaultToTheBuffersAndThePool) {
  const tcp_config& t = _layer->config().tcp;
  EXPECT_EQ(t.snd_mbufs, t.snd_buffer / 1024);
  EXPECT_EQ(t.rcv_mbufs, t.rcv_buffer / 512);
  EXPECT_EQ(t.core_snd_mbufs, kbt::test::mbuf_pool()->size / 2);
  EXPECT_EQ(t.core_rcv_mbufs, kbt::test::mbuf_pool()->size / 4);
}

TEST_F(Memory, SmallWritesShareMbufsAndTheGaugeFollowsThem) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  _layer->set_nodelay(*c, true);
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(_layer->send_copy(*c, bytes_of(std::string(201, 'r')), _now), 201U);
  }
  // 10,050 bytes: five or six mbufs, not fifty, although segments are in flight.
  EXPECT_LE(c->snd.segments(), 6U);
  EXPECT_EQ(_layer->counters().snd_mbufs.get(), c->snd.segments());
  std::uint32_t acked = 0;
  for (const auto& s : sent()) acked += static_cast<std::uint32_t>(s.payload.size());
  ASSERT_EQ(acked, 50U * 201U);
  input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = _iss + 1 + acked});
  EXPECT_EQ(c->snd.segments(), 0U);
  EXPECT_EQ(_layer->counters().snd_mbufs.get(), 0U);
}

TEST_F(Memory, SendRefusedByTheBudgetIsToldWritableWhenThereIsRoom) {
  tcp_config cfg;
  cfg.max_time_wait = 1024;
  cfg.snd_mbufs = 4;
  cfg.guaranteed_mbufs = 2;
  make_layer(cfg);
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  _layer->set_nodelay(*c, true);
  // Four mbufs of 2 KB: the fifth write finds no room, whatever the bytes.
  const std::string block(2048, 'x');
  std::uint32_t taken = 0;
  for (int i = 0; i < 5; ++i) taken += _layer->send_copy(*c, bytes_of(block), _now);
  EXPECT_EQ(taken, 4U * 2048U);
  EXPECT_GT(_layer->counters().snd_mem_refused.get(), 0U);
  rte_mbuf* m = rte_pktmbuf_alloc(kbt::test::mbuf_pool());
  ASSERT_NE(rte_pktmbuf_append(m, 10), nullptr);
  EXPECT_FALSE(_layer->send(*c, m, _now)) << "zero-copy too: refused whole";
  rte_pktmbuf_free(m);
  events_for(c);
  std::uint32_t acked = 0;
  for (const auto& s : sent()) acked += static_cast<std::uint32_t>(s.payload.size());
  ASSERT_GT(acked, 2048U);
  // The peer acknowledges what came: whole mbufs free, and kWritable.
  input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = _iss + 1 + acked});
  advance_ms(1);
  EXPECT_NE(events_for(c) & event::kWritable, 0);
  EXPECT_GT(_layer->send_copy(*c, bytes_of(block), _now), 0U);
}

TEST_F(Memory, ASenderRefusedByTheCoreBudgetIsWokenWhenAnotherFrees) {
  tcp_config cfg;
  cfg.max_time_wait = 1024;
  cfg.core_snd_mbufs = 4;  // the whole core: four mbufs, and none guaranteed over it
  cfg.guaranteed_mbufs = 0;
  make_layer(cfg);
  tcb* a = established_passive();
  ASSERT_NE(a, nullptr);
  const std::uint32_t a_iss = _iss;
  tcb* b = established_active();
  ASSERT_NE(b, nullptr);
  _layer->set_nodelay(*a, true);
  const std::string block(2048, 'x');
  for (int i = 0; i < 4; ++i) ASSERT_EQ(_layer->send_copy(*a, bytes_of(block), _now), 2048U);
  EXPECT_EQ(_layer->send_copy(*b, bytes_of("hello"), _now), 0U) << "a holds the core's budget";
  events_for(b);
  sent();
  advance_ms(1);
  EXPECT_EQ(events_for(b) & event::kWritable, 0) << "no room yet";
  // a's peer acknowledges everything: b is told it may write.
  input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = a_iss + 1 + 4 * 2048});
  advance_ms(1);
  EXPECT_NE(events_for(b) & event::kWritable, 0);
  EXPECT_EQ(_layer->send_copy(*b, bytes_of("hello"), _now), 5U);
}

TEST_F(Memory, TinyInOrderSegmentsShareOneMbufOnTheReceiveQueue) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  std::string want;
  for (std::uint32_t i = 0; i < 200; ++i) {
    const std::string one(1, static_cast<char>('a' + i % 26));
    input({.flags = flag::kAck, .seq = kPeerIsn + 1 + i, .ack = _iss + 1, .payload = one});
    want += one;
  }
  EXPECT_EQ(c->rx_bytes, 200U);
  EXPECT_LE(c->rx_mbufs, 2U) << "200 one-byte segments must not pin 200 mbufs";
  EXPECT_EQ(_layer->counters().rcv_mbufs.get(), c->rx_mbufs);
  EXPECT_EQ(read_all(*_layer, *c, _now), want);
  EXPECT_EQ(_layer->counters().rcv_mbufs.get(), 0U);
}

TEST_F(Memory, ReceiveBudgetSpentDropsTheDataAndAcksWhatItHas) {
  tcp_config cfg;
  cfg.max_time_wait = 1024;
  cfg.rcv_mbufs = 2;
  cfg.guaranteed_mbufs = 0;
  make_layer(cfg);
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  sent();
  // Two mbufs of full segments: the window offered is no more than they carry.
  EXPECT_LE(c->rcv_adv - c->rcv_nxt, 2U * 1460U);
  const std::uint32_t s = kPeerIsn + 1;
  // Two out-of-order segments take the connection's two mbufs; a third is dropped.
  input({.flags = flag::kAck, .seq = s + 100, .ack = _iss + 1, .payload = std::string(100, 'b')});
  input({.flags = flag::kAck, .seq = s + 300, .ack = _iss + 1, .payload = std::string(100, 'c')});
  const seq32 edge = c->rcv_adv;
  sent();
  input({.flags = flag::kAck, .seq = s + 500, .ack = _iss + 1, .payload = std::string(100, 'd')});
  EXPECT_EQ(_layer->counters().rcv_mem_dropped.get(), 1U);
  EXPECT_EQ(c->out_of_order.segments(), 2U);
  const auto ack = sent_one();
  EXPECT_EQ(ack.h.ack.value, s) << "the ACK says where the peer must start again";
  EXPECT_EQ(c->rcv_adv, edge) << "the edge told stays, and moves no further";
  // The segment that fills the hole is taken even so: the highest run goes
  // to make room (RFC 2018 §8 reneging), or the queue would wait for ever.
  input({.flags = flag::kAck, .seq = s, .ack = _iss + 1, .payload = std::string(100, 'a')});
  EXPECT_EQ(read_all(*_layer, *c, _now), std::string(100, 'a') + std::string(100, 'b'));
  EXPECT_TRUE(c->out_of_order.empty()) << "'c' was reneged";
  // Read, there is room again: what the peer sends again is taken.
  input({.flags = flag::kAck, .seq = s + 200, .ack = _iss + 1, .payload = std::string(100, 'x')});
  input({.flags = flag::kAck, .seq = s + 300, .ack = _iss + 1, .payload = std::string(100, 'c')});
  input({.flags = flag::kAck, .seq = s + 400, .ack = _iss + 1, .payload = std::string(100, 'y')});
  input({.flags = flag::kAck, .seq = s + 500, .ack = _iss + 1, .payload = std::string(100, 'd')});
  EXPECT_EQ(read_all(*_layer, *c, _now), std::string(100, 'x') + std::string(100, 'c') +
                                             std::string(100, 'y') + std::string(100, 'd'));
}

TEST_F(Memory, DataPutBackComesFirstInTheNextRead) {
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = _iss + 1, .payload = "first "});
  rte_mbuf* m = _layer->recv(*c, _now);
  ASSERT_NE(m, nullptr);
  input({.flags = flag::kAck, .seq = kPeerIsn + 7, .ack = _iss + 1, .payload = "second"});
  _layer->unrecv(*c, m);
  EXPECT_EQ(c->rx_bytes, 12U);
  EXPECT_EQ(_layer->counters().rcv_mbufs.get(), c->rx_mbufs);
  EXPECT_EQ(read_all(*_layer, *c, _now), "first second");
}

TEST_F(Memory, AnOrphanBehindAShutWindowIsResetAfterOrphanProbes) {
  tcp_config cfg;
  cfg.max_time_wait = 1024;
  cfg.orphan_probes = 3;
  make_layer(cfg);
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = _iss + 1, .window = 0});
  ASSERT_EQ(_layer->send_copy(*c, bytes_of("never taken"), _now), 11U);
  _layer->release(*c, _now);  // the application is done; its FIN waits behind the data
  sent();
  // The peer answers every probe and keeps its window shut.
  bool reset = false;
  for (int i = 0; i < 20 && !reset; ++i) {
    advance_ms(60'000);
    for (const auto& s : sent()) {
      if (s.has(flag::kRst)) {
        reset = true;
        EXPECT_EQ(s.h.seq.value, _iss + 1);
      } else {
        input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = _iss + 1, .window = 0});
      }
    }
  }
  EXPECT_TRUE(reset);
  EXPECT_EQ(_layer->counters().orphan_probe_timeouts.get(), 1U);
  EXPECT_EQ(_layer->connections(), 0U);
  EXPECT_EQ(_layer->counters().snd_mbufs.get(), 0U);
}

TEST_F(Memory, AHeldConnectionBehindAShutWindowIsProbedForEver) {
  tcp_config cfg;
  cfg.max_time_wait = 1024;
  cfg.orphan_probes = 3;
  make_layer(cfg);
  tcb* c = established_passive();
  ASSERT_NE(c, nullptr);
  input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = _iss + 1, .window = 0});
  ASSERT_EQ(_layer->send_copy(*c, bytes_of("waiting"), _now), 7U);
  for (int i = 0; i < 20; ++i) {
    advance_ms(60'000);
    for (std::size_t k = sent().size(); k > 0; --k) {
      input({.flags = flag::kAck, .seq = kPeerIsn + 1, .ack = _iss + 1, .window = 0});
    }
  }
  EXPECT_EQ(c->state, tcp_state::established) << "RFC 1122 §4.2.2.17: the application still holds it";
  EXPECT_EQ(_layer->counters().orphan_probe_timeouts.get(), 0U);
}

}  // namespace
}  // namespace kbt::tcp::test
