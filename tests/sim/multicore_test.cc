// Two cores on one port. The port is emulated in the test: either a NIC
// with RSS (each frame goes to the core rss_table names, with the hash in
// the mbuf, as a NIC delivers it) or a port without it (each frame goes to
// a random core, as a multi-queue TAP spreads by its own hash), when the
// cores steer frames to the owner through the steering fabric.
#include <gtest/gtest.h>
#include <rte_ethdev.h>

#include <array>
#include <cstdio>
#include <memory>

#include "core/steering.hh"
#include "base/rss_table.hh"
#include "prng.hh"
#include "sim_env.hh"
#include "sim_hosts.hh"
#include "sim_world.hh"
#include "tcp_swarm.hh"
#include "wire/ether.hh"
#include "wire/ipv4.hh"
#include "wire/endian.hh"
#include "wire/mbuf_bytes.hh"

namespace kbt::sim {
namespace {

constexpr std::uint16_t kCores = 2;

enum class delivery { rss, random };

// B: two cores, each a tcp_swarm on the same port, and the port's dispatch.
class two_core_host {
 public:
  two_core_host(sim_world& w, delivery d, bool server, std::uint64_t seed)
      : _world(w), _delivery(d), _rss(kCores), _steering(kCores), _rng(seed) {
    for (std::uint16_t core = 0; core < kCores; ++core) {
      swarm_config c{.mac = kMacB, .ip = kIpB};
      c.tcp.msl = base::nanos{2 * kSec};
      c.key_seed = seed + core;
      c.rss = &_rss;
      c.core = core;
      _cores[core] = std::make_unique<tcp_swarm>(w, side::b, c, &_steering, false);
      if (server) _cores[core]->serve(80);
    }
    w.set_poll(side::b, [this](std::uint64_t now) { poll(now); });
  }
  ~two_core_host() { _world.set_poll(side::b, nullptr); }

  tcp_swarm& core(std::uint16_t i) { return *_cores[i]; }
  const base::rss_table& rss() const { return _rss; }
  std::uint64_t steered() const {
    return _cores[0]->counters().steered_out.get() + _cores[1]->counters().steered_out.get();
  }

 private:
  void poll(std::uint64_t now) {
    std::array<rte_mbuf*, 32> rx;
    const std::uint16_t port = _world.port(side::b).port_id;
    for (int burst = 0; burst < 64; ++burst) {
      const std::uint16_t n = rte_eth_rx_burst(port, 0, rx.data(), rx.size());
      for (std::uint16_t i = 0; i < n; ++i) {
        _cores[target(rx[i])]->engine().input(rx[i], base::instant_from_ns(now));
      }
      if (n < rx.size()) break;
    }
    for (auto& c : _cores) c->poll(now);
  }

  std::uint16_t target(rte_mbuf* m) {
    if (_delivery == delivery::random) return static_cast<std::uint16_t>(_rng.below(kCores));
    // A NIC's RSS: TCP over IPv4 by its 4-tuple, the rest to queue 0.
    const auto frame = wire::mbuf_bytes(m);
    const auto eth = wire::parse_ether(frame);
    if (!eth || eth->ether_type != wire::kEthertypeIpv4) return 0;
    const auto ip = wire::parse_ipv4_header(frame.subspan(eth->header_len()), false);
    if (!ip || ip->protocol != wire::kIpProtoTcp || ip->payload_len() < 4) return 0;
    const std::byte* l4 = frame.data() + eth->header_len() + ip->header_len;
    const auto h = _rss.hash(ip->src, ip->dst, wire::load_be<std::uint16_t>(l4),
                             wire::load_be<std::uint16_t>(l4 + 2));
    m->hash.rss = h;
    m->ol_flags |= RTE_MBUF_F_RX_RSS_HASH;
    return _rss.queue_of_hash(h);
  }

  sim_world& _world;
  delivery _delivery;
  base::rss_table _rss;
  core::steering_fabric _steering;
  prng _rng;
  std::array<std::unique_ptr<tcp_swarm>, kCores> _cores;
};

world_config clean_world(std::uint64_t seed) {
  world_config wc;
  wc.seed = seed;
  wc.pool_size = 8191;
  wc.a_to_b.delay_ns = 100'000;
  wc.b_to_a.delay_ns = 100'000;
  return wc;
}

swarm_config side_a(std::uint64_t seed) {
  swarm_config c{.mac = kMacA, .ip = kIpA};
  c.tcp.msl = base::nanos{2 * kSec};
  c.key_seed = seed + 100;
  return c;
}

void passive_opens_spread(delivery d) {
  constexpr std::size_t kClients = 200;
  for_each_seed(seeds_to_run(5), [&](std::uint64_t seed) {
    sim_world w(clean_world(seed));
    const unsigned base = w.mbufs_in_use();
    {
      two_core_host b(w, d, true, seed);
      tcp_swarm a(w, side::a, side_a(seed));
      for (std::size_t i = 0; i < kClients; ++i) ASSERT_TRUE(a.open(kIpB, 80, 300));
      const auto r = w.run_until([&] { return a.finished() == kClients; }, 60 * kSec, 2'000'000);
      ASSERT_TRUE(r.done) << "finished " << a.finished();
      EXPECT_EQ(a.succeeded(), kClients);
      w.run_for(5 * kSec, 1'000'000);
      const std::uint64_t s0 = b.core(0).served();
      const std::uint64_t s1 = b.core(1).served();
      std::printf("passive opens over 2 cores (%s): core0 %lu core1 %lu steered %lu\n",
                  d == delivery::rss ? "rss" : "software steering",
                  static_cast<unsigned long>(s0), static_cast<unsigned long>(s1),
                  static_cast<unsigned long>(b.steered()));
      EXPECT_EQ(s0 + s1, kClients);
      // Spread: neither core took much more than its share.
      EXPECT_GT(s0, kClients / 4);
      EXPECT_GT(s1, kClients / 4);
      for (std::uint16_t c = 0; c < kCores; ++c) {
        // A segment at a core that does not own its flow would meet no
        // connection there and be answered with a RST.
        EXPECT_EQ(b.core(c).tcp().counters().rst_out.get(), 0U) << "core " << c;
        EXPECT_EQ(b.core(c).tcp().counters().passive_opens.get(), c == 0 ? s0 : s1);
      }
      if (d == delivery::rss) {
        EXPECT_EQ(b.steered(), 0U);
      } else {
        EXPECT_GT(b.steered(), 0U);
      }
    }
    EXPECT_TRUE(w.run_until([&] { return w.quiescent(); }, 10 * kSec, 1'000'000).done);
    EXPECT_EQ(w.mbufs_in_use(), base);
  });
}

void active_opens_come_home(delivery d) {
  constexpr std::size_t kPerCore = 100;
  for_each_seed(seeds_to_run(5), [&](std::uint64_t seed) {
    sim_world w(clean_world(seed));
    const unsigned base = w.mbufs_in_use();
    {
      two_core_host b(w, d, false, seed);
      tcp_swarm a(w, side::a, side_a(seed));
      a.serve(80);
      for (std::uint16_t c = 0; c < kCores; ++c) {
        for (std::size_t i = 0; i < kPerCore; ++i) {
          const auto idx = b.core(c).open(kIpA, 80, 500);
          ASSERT_TRUE(idx) << "core " << c << " connect " << i;
        }
      }
      const auto r = w.run_until(
          [&] { return b.core(0).finished() == kPerCore && b.core(1).finished() == kPerCore; },
          60 * kSec, 2'000'000);
      ASSERT_TRUE(r.done) << "core0 " << b.core(0).finished() << " core1 " << b.core(1).finished();
      std::printf("active opens from 2 cores (%s): ok %zu + %zu, steered %lu\n",
                  d == delivery::rss ? "rss" : "software steering", b.core(0).succeeded(),
                  b.core(1).succeeded(), static_cast<unsigned long>(b.steered()));
      for (std::uint16_t c = 0; c < kCores; ++c) {
        EXPECT_EQ(b.core(c).succeeded(), kPerCore) << "core " << c;
        EXPECT_EQ(b.core(c).tcp().counters().rst_out.get(), 0U) << "core " << c;
        EXPECT_EQ(b.core(c).tcp().counters().active_opens.get(), kPerCore);
      }
      if (d == delivery::rss) {
        // The replies reached the opening core with no help.
        EXPECT_EQ(b.steered(), 0U);
      } else {
        EXPECT_GT(b.steered(), 0U);
      }
      w.run_for(5 * kSec, 1'000'000);  // TIME_WAIT (2 x 2 s) runs out
      EXPECT_EQ(b.core(0).tcp().time_wait().size() + b.core(1).tcp().time_wait().size(), 0U);
    }
    EXPECT_TRUE(w.run_until([&] { return w.quiescent(); }, 10 * kSec, 1'000'000).done);
    EXPECT_EQ(w.mbufs_in_use(), base);
  });
}

TEST(TwoCores, PassiveOpensSpreadWithRss) { passive_opens_spread(delivery::rss); }
TEST(TwoCores, PassiveOpensSpreadWithSoftwareSteering) { passive_opens_spread(delivery::random); }
TEST(TwoCores, ActiveOpensRepliesReachTheOpeningCoreWithRss) { active_opens_come_home(delivery::rss); }
TEST(TwoCores, ActiveOpensRepliesReachTheOpeningCoreWithSoftwareSteering) {
  active_opens_come_home(delivery::random);
}

}  // namespace
}  // namespace kbt::sim
