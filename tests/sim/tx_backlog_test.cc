// Segments the port's tx queue refuses (issue 14.4): the rings here hold 64
// frames, so a connection burst or a full window fills them at once. What
// they refuse waits in the engine's backlog, or with its connection, and
// goes in a later iteration: nothing is dropped (drop.tx_ring_full), no
// RTO expires and no SYN is sent twice on a lossless link.
#include <gtest/gtest.h>

#include "core/counters.hh"
#include "sim_env.hh"
#include "sim_hosts.hh"
#include "sim_world.hh"
#include "tcp/counters.hh"
#include "tcp_peer.hh"
#include "tcp_swarm.hh"

namespace kbt::sim {
namespace {

constexpr auto kTxRingFull = static_cast<std::size_t>(core::drop_reason::tx_ring_full);

world_config small_rings(std::uint64_t seed) {
  world_config wc = world_config::short_link(seed);
  wc.ring_size = 64;
  wc.pool_size = 16383;
  return wc;
}

TEST(TxBacklog, ThousandsOfConnectionsOpenedAtOnceAllConnectWithoutASynTwice) {
  for_each_seed(seeds_to_run(5), [](std::uint64_t seed) {
    sim_world w(small_rings(seed));
    const unsigned base = w.mbufs_in_use();
    {
      swarm_config sc = host_b(seed);
      sc.max_conns = 4096;
      tcp_swarm server(w, side::b, sc);
      server.serve(80);
      swarm_config cc = host_a(seed + 7);
      cc.max_conns = 4096;
      tcp_swarm clients(w, side::a, cc);
      constexpr std::size_t kClients = 3000;
      for (std::size_t i = 0; i < kClients; ++i) ASSERT_TRUE(clients.open(kIpB, 80, 500));
      const auto r = w.run_until([&] { return clients.finished() == kClients; }, 60 * kSec,
                                 50'000'000);
      ASSERT_TRUE(r.done) << "finished " << clients.finished();
      EXPECT_EQ(clients.succeeded(), kClients);
      for (tcp_swarm* s : {&server, &clients}) {
        EXPECT_EQ(s->counters().drops[kTxRingFull].get(), 0U);
        EXPECT_EQ(s->tcp().counters().syn_retransmits.get(), 0U);
        EXPECT_EQ(s->tcp().counters().rto_expiries.get(), 0U);
      }
      EXPECT_GT(clients.counters().tx_refused.get() + server.counters().tx_refused.get(), 0U)
          << "the rings never refused anything: the test tests nothing";
      EXPECT_TRUE(w.run_until([&] { return server.tcp().connections() == 0 && w.quiescent(); },
                              30 * kSec, 10'000'000).done);
    }
    EXPECT_TRUE(w.run_until([&] { return w.quiescent(); }, 30 * kSec, 10'000'000).done);
    EXPECT_EQ(w.mbufs_in_use(), base);
  });
}

TEST(TxBacklog, AFullWindowThroughASmallRingArrivesWithoutAnRto) {
  for_each_seed(seeds_to_run(5), [](std::uint64_t seed) {
    sim_world w(small_rings(seed));
    tcp::tcp_config t;
    t.msl = base::nanos{2 * kSec};
    t.rcv_buffer = 1 << 20;
    t.snd_buffer = 1 << 20;
    {
      tcp_peer a(w, side::a, kMacA, kIpA, t);
      tcp_peer b(w, side::b, kMacB, kIpB, t);
      b.listen(80);
      constexpr std::uint64_t kBytes = 8 << 20;
      a.set_plan({.send_bytes = kBytes, .expect_bytes = kBytes, .tx_seed = seed,
                  .rx_seed = seed + 1});
      b.set_plan({.send_bytes = kBytes, .expect_bytes = kBytes, .tx_seed = seed + 1,
                  .rx_seed = seed, .wait_for_peer_fin = true});
      a.connect(kIpB, 80);
      const auto r = w.run_until([&] { return a.done() && b.done(); }, 120 * kSec, 50'000'000);
      ASSERT_TRUE(r.done) << "A got " << a.received() << ", B got " << b.received();
      EXPECT_EQ(a.error(), "");
      EXPECT_EQ(b.error(), "");
      for (tcp_peer* p : {&a, &b}) {
        EXPECT_EQ(p->counters().drops[kTxRingFull].get(), 0U);
        EXPECT_EQ(p->tcp().counters().rto_expiries.get(), 0U);
        EXPECT_EQ(p->tcp().counters().retransmits.get(), 0U);
      }
      EXPECT_GT(a.counters().tx_refused.get(), 0U) << "the ring never refused anything";
    }
  });
}

}  // namespace
}  // namespace kbt::sim
