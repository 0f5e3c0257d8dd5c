// The driver with bare endpoints that call the ethdev API themselves: frames
// cross each link with its delay, the clock jumps to the next arrival, and
// the run loop stays inside both of its budgets.
#include "sim_world.hh"

#include <gtest/gtest.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <array>
#include <cstring>
#include <vector>

#include "sim_env.hh"

namespace kbt::sim {
namespace {

rte_mbuf* frame_from(rte_mempool* pool, std::uint8_t tag) {
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  if (m == nullptr) return nullptr;
  auto* p = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, 60));
  std::memset(p, tag, 60);
  return m;
}

// Receives everything on `port` and records (time, first byte).
struct recorder {
  std::uint16_t port = 0;
  std::vector<std::pair<std::uint64_t, std::uint8_t>> got;

  void poll(std::uint64_t now) {
    std::array<rte_mbuf*, 32> rx;
    const std::uint16_t n = rte_eth_rx_burst(port, 0, rx.data(), rx.size());
    for (std::uint16_t i = 0; i < n; ++i) {
      got.emplace_back(now, *rte_pktmbuf_mtod(rx[i], std::uint8_t*));
      rte_pktmbuf_free(rx[i]);
    }
  }
};

TEST(SimWorldTest, FramesCrossEachLinkWithItsDelay) {
  world_config wc;
  wc.seed = single_seed(5);
  wc.a_to_b.delay_ns = 250'000;
  wc.b_to_a.delay_ns = 40'000;
  wc.granularity_ns = 10'000'000;  // coarse: the clock must jump to arrivals
  sim_world w(wc);
  recorder ra{w.port(side::a).port_id, {}};
  recorder rb{w.port(side::b).port_id, {}};
  bool sent = false;
  w.set_poll(side::a, [&](std::uint64_t now) {
    ra.poll(now);
    if (!sent) {
      rte_mbuf* m = frame_from(w.pool(side::a), 0xa1);
      ASSERT_EQ(rte_eth_tx_burst(w.port(side::a).port_id, 0, &m, 1), 1);
      sent = true;
    }
  });
  w.set_poll(side::b, [&](std::uint64_t now) {
    const std::size_t before = rb.got.size();
    rb.poll(now);
    for (std::size_t i = before; i < rb.got.size(); ++i) {  // answer each frame
      rte_mbuf* m = frame_from(w.pool(side::b), 0xb2);
      ASSERT_EQ(rte_eth_tx_burst(w.port(side::b).port_id, 0, &m, 1), 1);
    }
  });
  const std::uint64_t t0 = w.now_ns();
  const auto r = w.run_until([&] { return !ra.got.empty(); }, 1'000'000'000, 100);
  ASSERT_TRUE(r.done);
  ASSERT_EQ(rb.got.size(), 1U);
  EXPECT_EQ(rb.got[0], std::make_pair(t0 + 250'000, std::uint8_t{0xa1}));
  ASSERT_EQ(ra.got.size(), 1U);
  EXPECT_EQ(ra.got[0], std::make_pair(t0 + 290'000, std::uint8_t{0xb2}));
  EXPECT_LE(r.steps, 4U) << "the clock should jump straight to each arrival";
  EXPECT_TRUE(w.quiescent());
  EXPECT_EQ(w.mbufs_in_use(), 0U);
}

TEST(SimWorldTest, RunUntilStopsAtItsBudgets) {
  world_config wc;
  wc.seed = single_seed(5);
  wc.granularity_ns = 100'000;
  sim_world w(wc);
  const std::uint64_t t0 = w.now_ns();
  auto r = w.run_until([] { return false; }, 1'000'000, 1'000'000);
  EXPECT_FALSE(r.done);
  EXPECT_EQ(r.now_ns, t0 + 1'000'000);
  EXPECT_EQ(r.steps, 11U);  // t0, t0 + 0.1 ms, ..., t0 + 1 ms
  r = w.run_until([] { return false; }, 1'000'000'000, 7);
  EXPECT_FALSE(r.done);
  EXPECT_EQ(r.steps, 7U);
  EXPECT_EQ(w.now_ns(), t0 + 1'700'000);
  int calls = 0;
  r = w.run_until([&] { return ++calls == 3; }, 1'000'000'000, 100);
  EXPECT_TRUE(r.done);
  EXPECT_EQ(r.steps, 2U);
}

TEST(SimWorldTest, EndpointAndLinkSeedsDiffer) {
  world_config wc;
  wc.seed = single_seed(9);
  sim_world w(wc);
  EXPECT_NE(w.endpoint_seed(side::a), w.endpoint_seed(side::b));
  EXPECT_NE(w.endpoint_seed(side::a), sub_seed(wc.seed, 0));
}

}  // namespace
}  // namespace kbt::sim
