// Resource exhaustion, drained on purpose: when the mbuf pool or the TCB
// pool of the server runs dry, the stack counts what it could not do, drops
// what it must, and once the resource is back every client completes byte
// for byte and every mbuf returns. (A full SYN queue is SynFlood's and the
// Listener unit tests' subject.)
#include <gtest/gtest.h>

#include <rte_mbuf.h>

#include <vector>

#include "sim_env.hh"
#include "sim_hosts.hh"
#include "sim_world.hh"
#include "tcp/counters.hh"
#include "tcp_swarm.hh"

namespace kbt::sim {
namespace {

// Takes every mbuf the pool has left; give_back() returns them.
class pool_drain {
 public:
  explicit pool_drain(rte_mempool* pool) {
    for (unsigned i = 0; i < 1'000'000; ++i) {  // bounded: no pool is that large here
      rte_mbuf* m = rte_pktmbuf_alloc(pool);
      if (m == nullptr) break;
      _held.push_back(m);
    }
  }
  ~pool_drain() { give_back(); }
  void give_back() {
    for (rte_mbuf* m : _held) rte_pktmbuf_free(m);
    _held.clear();
  }
  std::size_t held() const noexcept { return _held.size(); }

 private:
  std::vector<rte_mbuf*> _held;
};

world_config lossy_world(std::uint64_t seed) {
  world_config wc = world_config::short_link(seed);
  wc.a_to_b.loss = 0.01;
  wc.b_to_a.loss = 0.01;
  return wc;
}

TEST(Exhaustion, ServerMbufPoolDrainedCountsThenEveryClientCompletes) {
  for_each_seed(seeds_to_run(10), [](std::uint64_t seed) {
    sim_world w(lossy_world(seed));
    const unsigned base = w.mbufs_in_use();
    {
      tcp_swarm server(w, side::b, host_b(seed));
      server.serve(80);
      tcp_swarm clients(w, side::a, host_a(seed + 7));
      // Let ARP resolve both ways first, so what follows is TCP's.
      ASSERT_TRUE(clients.open(kIpB, 80, 3000));
      ASSERT_TRUE(w.run_until([&] { return clients.finished() == 1; }, 30 * kSec, 1'000'000).done);

      constexpr std::size_t kClients = 10;
      constexpr std::uint32_t kRequest = 20'000;
      pool_drain drain(w.pool(side::b));
      ASSERT_GT(drain.held(), 0U);
      for (std::size_t i = 0; i < kClients; ++i) ASSERT_TRUE(clients.open(kIpB, 80, kRequest));
      // Two seconds with nothing to send with: the SYNs arrive (they are
      // A's mbufs) but no SYN-ACK can be built; counted, nothing completes.
      w.run_for(2 * kSec, 2'000'000);
      const std::uint64_t no_mbuf = server.tcp().counters().no_mbuf.get() +
                                    server.counters().drops[static_cast<std::size_t>(core::drop_reason::no_mbuf)].get();
      EXPECT_GT(no_mbuf, 0U) << "the failures are counted";
      EXPECT_EQ(clients.finished(), 1U);

      drain.give_back();
      const auto r = w.run_until([&] { return clients.finished() == kClients + 1; }, 120 * kSec,
                                 20'000'000);
      ASSERT_TRUE(r.done) << "finished " << clients.finished();
      EXPECT_EQ(clients.succeeded(), kClients + 1) << "every byte echoed once the pool refilled";
      // The server's last LAST_ACKs end with the clients' final ACKs.
      EXPECT_TRUE(w.run_until([&] { return server.tcp().connections() == 0 && w.quiescent(); },
                              10 * kSec, 1'000'000).done);
    }
    EXPECT_TRUE(w.run_until([&] { return w.quiescent(); }, 10 * kSec, 1'000'000).done);
    EXPECT_EQ(w.mbufs_in_use(), base) << "every mbuf back";
  });
}

// 24 clients at a server with 8 TCBs: without cookies the SYNs beyond the
// pool are dropped and counted (no_tcb) and the clients' retransmitted SYNs
// get in as earlier connections close; with cookies (automatic) the server
// answers them all at once and the ACKs find TCBs as they free up.
void tcb_pool_run(tcp::syncookies_mode mode, std::uint64_t seed) {
  sim_world w(lossy_world(seed));
  const unsigned base = w.mbufs_in_use();
  {
    swarm_config sc = host_b(seed);
    sc.tcp.syncookies = mode;
    sc.max_conns = 8;
    tcp_swarm server(w, side::b, sc);
    server.serve(80);
    tcp_swarm clients(w, side::a, host_a(seed + 7));
    constexpr std::size_t kClients = 24;
    constexpr std::uint32_t kRequest = 5000;
    for (std::size_t i = 0; i < kClients; ++i) ASSERT_TRUE(clients.open(kIpB, 80, kRequest));
    const auto r = w.run_until([&] { return clients.finished() == kClients; }, 300 * kSec,
                               50'000'000);
    ASSERT_TRUE(r.done) << "finished " << clients.finished();
    EXPECT_EQ(clients.succeeded(), kClients);
    const auto& t = server.tcp().counters();
    if (mode == tcp::syncookies_mode::never) {
      EXPECT_GT(t.no_tcb.get(), 0U) << "SYNs beyond the pool are counted";
    } else {
      EXPECT_GT(t.syncookies_sent.get(), 0U) << "a full pool answers with cookies";
    }
    EXPECT_TRUE(w.run_until([&] { return server.tcp().connections() == 0 && w.quiescent(); },
                            10 * kSec, 1'000'000).done)
        << "the server's last LAST_ACKs end with the clients' final ACKs";
  }
  EXPECT_TRUE(w.run_until([&] { return w.quiescent(); }, 10 * kSec, 1'000'000).done);
  EXPECT_EQ(w.mbufs_in_use(), base);
}

TEST(Exhaustion, TcbPoolFullWithoutCookiesDropsSynsThenEveryClientGetsIn) {
  for_each_seed(seeds_to_run(10), [](std::uint64_t seed) { tcb_pool_run(tcp::syncookies_mode::never, seed); });
}

TEST(Exhaustion, TcbPoolFullWithCookiesAnswersThenEveryClientGetsIn) {
  for_each_seed(seeds_to_run(10),
                [](std::uint64_t seed) { tcb_pool_run(tcp::syncookies_mode::automatic, seed); });
}

}  // namespace
}  // namespace kbt::sim
