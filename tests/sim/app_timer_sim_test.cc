// Application timers on the core's own wheel (api::schedule_timer): the
// handler on B answers each request but closes only when a 50 ms timer set
// at the accept fires, in the simulated core's loop on the virtual clock.
#include <gtest/gtest.h>

#include <vector>

#include "api/app.hh"
#include "app_rig.hh"
#include "sim_env.hh"
#include "sim_hosts.hh"
#include "sim_world.hh"
#include "tcp_swarm.hh"

namespace kbt::sim {
namespace {

constexpr std::uint64_t kDelayMs = 50;

struct timed_conn {
  api::connection conn;
  std::uint64_t accepted_ns = 0;
  std::uint64_t fired_ns = 0;
  std::uint64_t closed_ns = 0;
};

struct closes_later {
  api::core_context* ctx = nullptr;  // set once the rig has placed it
  std::vector<timed_conn>* conns;    // reserved by the test

  void on_accept(api::connection c) {
    ASSERT_LT(conns->size(), conns->capacity());
    conns->push_back({c, base::ns_since_start(ctx->now)});
    c.set_user(&conns->back());
    EXPECT_NE(api::schedule_timer(*ctx, kDelayMs, &fire, &conns->back()), 0u);
  }
  void on_data(api::connection c, api::rx_data& d) {
    for (auto s : d) EXPECT_EQ(c.send_copy(s), s.size());
  }
  void on_closed(api::connection c, api::close_reason) {
    static_cast<timed_conn*>(c.user())->closed_ns = base::ns_since_start(ctx->now);
  }
  static void fire(api::core_context& ctx, void* arg) {
    auto* t = static_cast<timed_conn*>(arg);
    t->fired_ns = base::ns_since_start(ctx.now);
    t->conn.shutdown();  // the peer has closed its side long before
  }
};

TEST(AppTimers, ATimerOnTheCoreClosesEachConnectionAfterItsDelay) {
  for_each_seed(seeds_to_run(5), [](std::uint64_t seed) {
    constexpr std::size_t kConns = 6;
    std::vector<timed_conn> conns;
    conns.reserve(kConns);
    world_config wc = world_config::short_link(seed);
    sim_world w(wc);
    const unsigned base = w.mbufs_in_use();
    {
      tcp_swarm server(w, side::b, host_b(seed), nullptr, false);
      server.tcp().listen(80);
      app_rig<closes_later> rig(w, side::b, server, closes_later{nullptr, &conns});
      rig.handler().ctx = &rig.ctx();
      tcp_swarm peers(w, side::a, host_a(seed + 7));
      for (std::size_t i = 0; i < kConns; ++i) EXPECT_TRUE(peers.open(kIpB, 80, 300));
      EXPECT_TRUE(w.run_until([&] { return peers.finished() == kConns; }, 30 * kSec, 2'000'000).done);
      EXPECT_EQ(peers.succeeded(), kConns);
      w.run_for(1 * kSec, 1'000'000);
      const api::timer_counters& tc = rig.ctx().timers->counters();
      EXPECT_EQ(tc.scheduled.get(), kConns);
      EXPECT_EQ(tc.fired.get(), kConns);
      EXPECT_EQ(rig.ctx().timers->pending(), 0u);
    }
    ASSERT_EQ(conns.size(), kConns);
    for (const timed_conn& t : conns) {
      EXPECT_GE(t.fired_ns, t.accepted_ns + kDelayMs * 1'000'000) << "never early";
      EXPECT_LE(t.fired_ns, t.accepted_ns + (kDelayMs + 2) * 1'000'000) << "within a tick or two";
      EXPECT_GE(t.closed_ns, t.fired_ns) << "the close waited for the timer";
    }
    EXPECT_TRUE(w.run_until([&] { return w.quiescent(); }, 10 * kSec, 1'000'000).done);
    EXPECT_EQ(w.mbufs_in_use(), base);
  });
}

}  // namespace
}  // namespace kbt::sim
