// Two core::engines through impaired links: A (198.18.0.1) pings B
// (198.18.0.2). A has no ping API, so the test builds echo requests and
// hands them to A's IPv4 output (engine::send_ipv4), which must first
// resolve B with ARP across the same lossy link. B answers; A, which only
// answers requests, drops each reply as icmp_unsupported, and that count is
// how the test sees replies arrive. The links' observer counts what each
// side was actually handed, so the engines' counters can be checked
// against it exactly, over many seeds.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "core/counters.hh"
#include "core/engine.hh"
#include "sim_env.hh"
#include "sim_hosts.hh"
#include "sim_world.hh"
#include "wire/ether.hh"
#include "wire/icmp.hh"
#include "wire/ipv4.hh"
#include "wire/mbuf_bytes.hh"

namespace kbt::sim {
namespace {

constexpr std::uint16_t kEchoId = 0x4b42;
constexpr char kPayload[] = "kbt-sim-ping-data";  // 16 bytes + NUL, NUL not sent
constexpr std::size_t kPayloadLen = sizeof(kPayload) - 1;
constexpr int kPings = 100;
constexpr std::uint64_t kPingGapNs = 200'000;
constexpr std::uint64_t kSecond = 1'000'000'000;

// The ICMP type of an Ethernet/IPv4/ICMP frame, or -1 for anything else.
int icmp_type(const rte_mbuf* m) {
  const auto bytes = wire::mbuf_bytes(m);
  const auto eth = wire::parse_ether(bytes);
  if (!eth || eth->ether_type != wire::kEthertypeIpv4) return -1;
  const auto ip = wire::parse_ipv4_header(bytes.subspan(eth->header_len()), false);
  if (!ip || ip->protocol != wire::kIpProtoIcmp) return -1;
  const auto icmp =
      wire::parse_icmp(bytes.subspan(eth->header_len() + ip->header_len, ip->payload_len()), false);
  return icmp ? icmp->type : -1;
}

// An echo request from A to B, starting at its IPv4 header, as
// engine::send_ipv4 wants it (the engine prepends the Ethernet header).
rte_mbuf* make_echo_request(rte_mempool* pool, std::uint16_t seq) {
  constexpr std::size_t kIcmpLen = wire::kIcmpHeaderLen + kPayloadLen;
  constexpr std::size_t kLen = wire::kIpv4MinHeaderLen + kIcmpLen;
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  if (m == nullptr) return nullptr;
  auto* p = reinterpret_cast<std::byte*>(rte_pktmbuf_append(m, kLen));
  const std::span<std::byte> packet(p, kLen);
  wire::ipv4_repr ip;
  ip.src = kIpA;
  ip.dst = kIpB;
  ip.protocol = wire::kIpProtoIcmp;
  ip.id = seq;
  ip.total_length = static_cast<std::uint16_t>(kLen);
  const std::size_t l3 = *wire::emit_ipv4_header(ip, wire::tx_checksum::full, packet);
  wire::icmp_repr icmp;
  icmp.type = wire::kIcmpEchoRequest;
  icmp.echo_id = kEchoId;
  icmp.echo_seq = seq;
  icmp.data = std::as_bytes(std::span<const char>(kPayload, kPayloadLen));
  (void)wire::emit_icmp(icmp, packet.subspan(l3));
  return m;
}

struct ping_options {
  link_config a_to_b;
  link_config b_to_a;
  // Impairments of A -> B once ARP has resolved (e.g. to add corruption,
  // which ARP, having no checksum, would not survive).
  std::optional<link_config> a_to_b_after_arp;
};

// Everything a run produces, for the checks and for comparing two runs.
struct ping_outcome {
  bool resolved = false;
  bool quiescent = false;
  std::uint64_t requests_sent = 0;  // given to A's send_ipv4
  std::uint64_t requests_to_b = 0;  // echo requests the link handed to B
  std::uint64_t replies_to_a = 0;   // echo replies the link handed to A
  link_counters a_to_b, b_to_a;
  link_counters a_to_b_at_arp;      // when ARP had resolved
  core::counters_snapshot a, b;
  core::counters_snapshot b_at_arp;
  std::uint64_t rx_ring_full = 0;
  std::uint64_t end_ns = 0;
  std::uint64_t steps = 0;
  unsigned mbufs_in_use = 0;  // after the engines are gone

  std::string describe() const {
    return "A: " + a.format() + "\nB: " + b.format() + "\nlink A->B: " + a_to_b.format() +
           "\nlink B->A: " + b_to_a.format();
  }
  bool operator==(const ping_outcome& o) const {
    return resolved == o.resolved && quiescent == o.quiescent &&
           requests_sent == o.requests_sent && requests_to_b == o.requests_to_b &&
           replies_to_a == o.replies_to_a && a_to_b == o.a_to_b && b_to_a == o.b_to_a &&
           describe() == o.describe() && end_ns == o.end_ns && steps == o.steps;
  }
};

core::counters_snapshot snapshot(const core::core_counters& c) {
  core::counters_snapshot s;
  s.add(c);
  return s;
}

struct endpoint {
  core::core_counters counters;
  std::unique_ptr<core::engine> engine;

  endpoint(sim_world& w, side s, wire::mac_addr mac, wire::ipv4_addr ip) {
    engine = std::make_unique<core::engine>(w.endpoint_config(s, mac, ip), counters);
    w.set_poll(s, [e = engine.get()](std::uint64_t now) { e->poll(base::instant_from_ns(now)); });
  }
};

ping_outcome run_ping(std::uint64_t seed, const ping_options& opt) {
  world_config wc;
  wc.seed = seed;
  wc.a_to_b = opt.a_to_b;
  wc.b_to_a = opt.b_to_a;
  sim_world w(wc);
  ping_outcome out;
  w.set_observer([&out](side to, const rte_mbuf* m) {
    const int type = icmp_type(m);
    if (to == side::b && type == wire::kIcmpEchoRequest) ++out.requests_to_b;
    if (to == side::a && type == wire::kIcmpEchoReply) ++out.replies_to_a;
  });
  {
    endpoint a(w, side::a, kMacA, kIpA);
    endpoint b(w, side::b, kMacB, kIpB);
    std::uint16_t seq = 0;
    auto ping = [&] {
      rte_mbuf* m = make_echo_request(w.pool(side::a), seq++);
      if (m == nullptr) return;
      a.engine->send_ipv4(m, kIpB, w.now());
      a.engine->flush();
      ++out.requests_sent;
    };

    // ARP across the lossy link. The cache gives up after 3 unanswered
    // requests (about 3 s); a new packet starts a new resolution.
    auto resolved = [&] { return a.engine->neighbours().lookup(kIpB, w.now_ns()) != nullptr; };
    for (int attempt = 0; attempt < 8 && !resolved(); ++attempt) {
      ping();
      w.run_until(resolved, 4 * kSecond, 1'000'000);
    }
    out.resolved = resolved();
    if (opt.a_to_b_after_arp) w.link_from(side::a).reconfigure(*opt.a_to_b_after_arp);
    // Let the ARP exchange settle so later counts are pings only.
    w.run_for(10'000'000, 1'000'000);
    out.a_to_b_at_arp = w.link_from(side::a).counters();
    out.b_at_arp = snapshot(b.counters);

    for (int i = 0; i < kPings && out.resolved; ++i) {
      ping();
      w.run_for(kPingGapNs, 1'000'000);
    }
    out.quiescent = w.run_until([&] { return w.quiescent(); }, kSecond, 1'000'000).done;
    out.a = snapshot(a.counters);
    out.b = snapshot(b.counters);
  }
  out.a_to_b = w.link_from(side::a).counters();
  out.b_to_a = w.link_from(side::b).counters();
  out.rx_ring_full = w.counters().rx_ring_full;
  out.end_ns = w.now_ns();
  out.steps = w.steps();
  out.mbufs_in_use = w.mbufs_in_use();
  return out;
}

link_config lossy_link() {
  link_config c;
  c.loss = 0.05;
  c.duplicate = 0.01;
  c.reorder = 0.05;
  c.reorder_delay_ns = 1'000'000;  // five pings overtake a held frame
  c.delay_ns = 50'000;
  c.jitter_ns = 10'000;
  return c;
}

std::uint64_t drops(const core::counters_snapshot& s, core::drop_reason r) {
  return s.drops[static_cast<std::size_t>(r)];
}

// sent + duplicated == delivered + lost once nothing is in flight.
void expect_balanced(const link_counters& c) {
  EXPECT_EQ(c.sent + c.duplicated, c.delivered + c.lost) << c.format();
  EXPECT_EQ(c.queue_dropped + c.mtu_dropped + c.capacity_dropped + c.no_mbuf, 0U) << c.format();
}

TEST(PingSimTest, EchoRepliesMatchWhatTheLinksDelivered) {
  for_each_seed(seeds_to_run(), [](std::uint64_t seed) {
    const ping_outcome o = run_ping(seed, {lossy_link(), lossy_link(), std::nullopt});
    SCOPED_TRACE(o.describe());
    ASSERT_TRUE(o.resolved) << "A never resolved B over ARP";
    ASSERT_TRUE(o.quiescent) << "frames still moving at the end";
    EXPECT_GE(o.requests_sent, static_cast<std::uint64_t>(kPings));
    // B answers every request it was handed, duplicates included ...
    EXPECT_EQ(o.b.icmp_echo_replies, o.requests_to_b);
    // ... and A saw (and dropped as unsupported) every reply handed to it.
    EXPECT_EQ(drops(o.a, core::drop_reason::icmp_unsupported), o.replies_to_a);
    // With both links lossy, fewer replies arrive than requests were answered.
    EXPECT_LE(o.replies_to_a, o.b.icmp_echo_replies + o.b_to_a.duplicated);
    EXPECT_GT(o.replies_to_a, 0U);
    // Nothing else was dropped anywhere.
    EXPECT_EQ(o.a.drops_total(), drops(o.a, core::drop_reason::icmp_unsupported));
    EXPECT_EQ(o.b.drops_total(), 0U);
    EXPECT_EQ(o.rx_ring_full, 0U);
    EXPECT_GE(o.a.arp_replies_in, 1U);
    expect_balanced(o.a_to_b);
    expect_balanced(o.b_to_a);
    EXPECT_EQ(o.mbufs_in_use, 0U) << "mbufs not returned to the pools";
  });
}

TEST(PingSimTest, WithoutImpairmentsEveryPingIsAnswered) {
  const ping_outcome o = run_ping(single_seed(1), {link_config{}, link_config{}, std::nullopt});
  ASSERT_TRUE(o.resolved);
  EXPECT_EQ(o.requests_sent, static_cast<std::uint64_t>(kPings) + 1);
  EXPECT_EQ(o.requests_to_b, o.requests_sent);
  EXPECT_EQ(o.replies_to_a, o.requests_sent);
  EXPECT_EQ(drops(o.a, core::drop_reason::icmp_unsupported), o.requests_sent);
  EXPECT_EQ(o.a.arp_requests_out, 1U);
  EXPECT_EQ(o.mbufs_in_use, 0U);
}

TEST(PingSimTest, CorruptedRequestsAreAllCaughtByB) {
  for_each_seed(seeds_to_run(50), [](std::uint64_t seed) {
    link_config corrupting = lossy_link();
    corrupting.corrupt = 0.2;
    const ping_outcome o = run_ping(seed, {lossy_link(), lossy_link(), corrupting});
    SCOPED_TRACE(o.describe());
    ASSERT_TRUE(o.resolved);
    ASSERT_TRUE(o.quiescent);
    const std::uint64_t corrupted = o.a_to_b.corrupted - o.a_to_b_at_arp.corrupted;
    const std::uint64_t handed = o.a_to_b.delivered - o.a_to_b_at_arp.delivered;
    EXPECT_GT(corrupted, 0U);
    // Every damaged frame is dropped by one of B's checks (which one
    // depends on the bit); every intact one is answered.
    EXPECT_EQ(o.b.drops_total() - o.b_at_arp.drops_total(), corrupted);
    EXPECT_EQ(o.b.icmp_echo_replies - o.b_at_arp.icmp_echo_replies, handed - corrupted);
    EXPECT_EQ(o.mbufs_in_use, 0U);
  });
}

TEST(PingSimTest, SameSeedReplaysIdentically) {
  for_each_seed(seeds_to_run(20), [](std::uint64_t seed) {
    link_config c = lossy_link();
    c.corrupt = 0.02;
    const ping_options opt{lossy_link(), lossy_link(), c};
    const ping_outcome first = run_ping(seed, opt);
    const ping_outcome second = run_ping(seed, opt);
    EXPECT_TRUE(first == second) << "first:\n" << first.describe() << "\nsecond:\n"
                                 << second.describe();
    const ping_outcome other = run_ping(seed + 100'000, opt);
    EXPECT_FALSE(first == other) << "the seed should change the run";
  });
}

}  // namespace
}  // namespace kbt::sim
