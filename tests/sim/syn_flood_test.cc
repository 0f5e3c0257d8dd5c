// A SYN flood from spoofed sources at one listener with cookies in
// automatic mode, while real clients connect, exchange data and close
// (RFC 4987 §3.6). The flood comes straight into the server's engine (it
// would come from many hosts); the real clients are a kbt engine across a
// clean simulated link.
#include <gtest/gtest.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "frame_view.hh"
#include "prng.hh"
#include "segment_factory.hh"
#include "sim_env.hh"
#include "sim_hosts.hh"
#include "sim_world.hh"
#include "tcp_swarm.hh"
#include "wire/ether.hh"

namespace kbt::sim {
namespace {

namespace flag = wire::tcp_flag;
constexpr std::uint16_t kPort = 80;

// A SYN as Linux sends one, from a spoofed source in 198.19.0.0/16 (off-link:
// the server answers through its gateway, which drops it).
rte_mbuf* spoofed_syn(rte_mempool* pool, prng& rng) {
  wire::tcp_options o;
  o.mss = 1460;
  o.window_scale = 7;
  o.sack_permitted = true;
  o.timestamps = wire::tcp_timestamps{static_cast<std::uint32_t>(rng.next()), 0};
  const auto src = wire::ipv4_addr::from_octets(198, 19, static_cast<std::uint8_t>(rng.next()),
                                                static_cast<std::uint8_t>(rng.next()));
  const auto ip = support::build_ipv4_tcp(
      {.src = src, .dst = kIpB, .src_port = static_cast<std::uint16_t>(1024 + rng.next() % 60000),
       .dst_port = kPort, .flags = flag::kSyn, .seq = static_cast<std::uint32_t>(rng.next()),
       .window = 64240, .options = o});
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  if (m == nullptr) return nullptr;
  auto* p = reinterpret_cast<std::byte*>(
      rte_pktmbuf_append(m, static_cast<std::uint16_t>(wire::kEtherHeaderLen + ip.size())));
  wire::ether_repr e;
  e.dst = kMacB;
  e.src = kMacA;
  e.ether_type = wire::kEthertypeIpv4;
  (void)wire::emit_ether(e, {p, wire::kEtherHeaderLen});
  std::memcpy(p + wire::kEtherHeaderLen, ip.data(), ip.size());
  return m;
}

std::uint64_t flood_size() {
  // --seeds scales the costly tests down under the sanitizers (meson.build).
  return flags().count >= 200 ? 1'000'000 : 100'000;
}

TEST(SynFlood, RealClientsSucceedUnderAMillionSpoofedSyns) {
  const std::uint64_t seed = single_seed(1);
  SCOPED_TRACE(replay_line(seed));
  const std::uint64_t kFlood = flood_size();
  constexpr std::size_t kClients = 1000;
  constexpr std::uint64_t kFloodNs = 10 * kSec;
  constexpr std::uint32_t kSynQueue = 128;

  world_config wc;
  wc.seed = seed;
  wc.pool_size = 16383;
  wc.ring_size = 4096;
  wc.a_to_b.delay_ns = 200'000;
  wc.b_to_a.delay_ns = 200'000;
  sim_world w(wc);
  const unsigned base = w.mbufs_in_use();
  {
    swarm_config server_cfg{.mac = kMacB, .ip = kIpB, .gateway = kIpA};
    server_cfg.tcp.syncookies = tcp::syncookies_mode::automatic;
    server_cfg.tcp.syn_queue_max = kSynQueue;
    server_cfg.tcp.msl = base::nanos{2 * kSec};
    server_cfg.max_conns = 2048;
    server_cfg.key_seed = seed;
    swarm_config client_cfg{.mac = kMacA, .ip = kIpA};
    client_cfg.tcp.msl = base::nanos{2 * kSec};
    client_cfg.key_seed = seed + 1;
    tcp_swarm server(w, side::b, server_cfg);
    tcp_swarm clients(w, side::a, client_cfg);
    server.serve(kPort);

    // Real SYNs as the server received them, counted on the wire.
    std::uint64_t real_syns = 0;
    w.set_observer([&](side receiver, const rte_mbuf* frame) {
      if (receiver != side::b) return;
      const auto t = tcp_of(frame);
      if (t && t->has(flag::kSyn) && !t->has(flag::kAck)) ++real_syns;
    });

    prng rng(seed * 7919 + 1);
    std::uint64_t injected = 0;
    std::uint64_t no_mbuf = 0;
    std::size_t opened = 0;
    std::uint32_t max_syn_queue = 0;
    std::size_t max_tcbs = 0;
    unsigned max_mbufs = 0;
    const std::uint64_t start = w.now_ns();
    ASSERT_NE(server.tcp().find_listener(kPort), nullptr);
    auto syn_queue = [&] { return server.tcp().syn_queue_length(kPort); };
    auto step_flood = [&] {
      const std::uint64_t elapsed = w.now_ns() - start;
      // The flood and the clients spread evenly over kFloodNs.
      const std::uint64_t due = std::min<std::uint64_t>(kFlood, kFlood * elapsed / kFloodNs);
      for (; injected < due; ++injected) {
        rte_mbuf* m = spoofed_syn(w.pool(side::b), rng);
        if (m == nullptr) {
          ++no_mbuf;
          continue;
        }
        server.engine().input(m, w.now());
      }
      server.engine().flush_all();
      const std::size_t clients_due = std::min<std::size_t>(kClients, kClients * elapsed / kFloodNs);
      for (; opened < clients_due; ++opened) {
        ASSERT_TRUE(clients.open(kIpB, kPort, 200)) << "connect " << opened;
      }
      max_syn_queue = std::max(max_syn_queue, syn_queue());
      max_tcbs = std::max(max_tcbs, server.tcp().connections());
      max_mbufs = std::max(max_mbufs, w.mbufs_in_use());
    };
    const auto r = w.run_until(
        [&] {
          step_flood();
          return injected == kFlood && opened == kClients && clients.finished() == kClients;
        },
        kFloodNs + 30 * kSec, 10'000'000);
    EXPECT_TRUE(r.done) << "injected " << injected << " opened " << opened << " finished "
                        << clients.finished();
    EXPECT_EQ(no_mbuf, 0U);

    const auto& sc = server.tcp().counters();
    std::printf(
        "syn flood: %lu spoofed SYNs + %zu clients in %.1f s virtual: clients ok %zu, cookies "
        "sent %lu, cookie connections %lu, invalid %lu, max SYN queue %u/%u, max TCBs %zu, max "
        "mbufs %u\n",
        static_cast<unsigned long>(injected), kClients,
        static_cast<double>(r.now_ns - start) / kSec, clients.succeeded(),
        static_cast<unsigned long>(sc.syncookies_sent.get()),
        static_cast<unsigned long>(sc.syncookies_valid.get()),
        static_cast<unsigned long>(sc.syncookies_invalid.get()), max_syn_queue, kSynQueue,
        max_tcbs, max_mbufs);

    // Every real client connected, got its exact echo and closed normally.
    EXPECT_EQ(clients.succeeded(), kClients);
    // The SYN queue held its bound; the pools stayed flat: spoofed SYNs past
    // the queue cost no TCB and no mbuf that outlives the SYN-ACK.
    EXPECT_LE(max_syn_queue, kSynQueue);
    EXPECT_LE(max_tcbs, kSynQueue + kClients);
    EXPECT_LT(max_mbufs, 4096U);
    // The counters add up: every SYN at the listener got an entry or a cookie.
    const std::uint64_t entries = sc.passive_opens.get() - sc.syncookies_valid.get();
    EXPECT_EQ(sc.syncookies_sent.get() + entries, injected + real_syns);
    EXPECT_GT(sc.syncookies_sent.get(), injected - kSynQueue - kClients);
    EXPECT_EQ(sc.syn_queue_overflow.get(), 0U);
    EXPECT_EQ(sc.syncookies_invalid.get(), 0U);
    EXPECT_EQ(sc.syncookies_self_check_failed.get(), 0U);
    // Clients that got a cookie became connections through it.
    EXPECT_GT(sc.syncookies_valid.get(), 0U);
    EXPECT_EQ(clients.tcp().counters().active_opens.get(), kClients);

    // Spoofed SYN_RCVD entries give up after their SYN-ACK retries.
    w.run_for(120 * kSec, 5'000'000);
    EXPECT_EQ(server.tcp().connections(), 0U);
    EXPECT_EQ(syn_queue(), 0U);
    EXPECT_EQ(server.served(), kClients);  // each closed on the server's side too
    w.set_observer(nullptr);
  }
  EXPECT_EQ(w.mbufs_in_use(), base);
}

}  // namespace
}  // namespace kbt::sim
