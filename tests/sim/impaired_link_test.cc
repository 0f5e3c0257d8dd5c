// The impaired link on its own: each impairment in isolation, its
// statistics over many seeds, its accounting, and that every mbuf it was
// given goes back to the pool. Frames carry a sequence number at byte 14 so
// delivery order and identity can be checked.
#include "impaired_link.hh"

#include <gtest/gtest.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <vector>

#include "sim_env.hh"

namespace kbt::sim {
namespace {

constexpr std::size_t kSeqOffset = 14;
constexpr std::size_t kFrameLen = 64;
constexpr std::uint64_t kFrames = 100'000;

// A frame of `len` bytes: an Ethernet header (IPv4 type), the sequence
// number, then bytes that depend on both, so any change shows.
rte_mbuf* make_frame(std::uint32_t seq, std::size_t len = kFrameLen) {
  rte_mbuf* m = rte_pktmbuf_alloc(shared_pool());
  if (m == nullptr) return nullptr;
  auto* p = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, static_cast<std::uint16_t>(len)));
  if (p == nullptr) {
    rte_pktmbuf_free(m);
    return nullptr;
  }
  for (std::size_t i = 0; i < len; ++i) p[i] = static_cast<std::uint8_t>(seq * 31 + i * 7);
  p[12] = 0x08;
  p[13] = 0x00;
  std::memcpy(p + kSeqOffset, &seq, sizeof(seq));
  return m;
}

std::uint32_t seq_of(const rte_mbuf* m) {
  std::uint32_t seq = 0;
  std::memcpy(&seq, rte_pktmbuf_mtod_offset(m, const std::uint8_t*, kSeqOffset), sizeof(seq));
  return seq;
}

// The link's accounting identity (impaired_link.hh, link_counters).
void expect_balanced(const impaired_link& link) {
  const link_counters& c = link.counters();
  EXPECT_EQ(c.sent + c.duplicated, c.delivered + c.lost + c.queue_dropped + c.mtu_dropped +
                                       c.capacity_dropped + link.in_flight())
      << c.format();
}

// Sends `n` frames one per `gap_ns` from t = 0 and delivers as time passes;
// returns the sequence numbers in delivery order (frames are freed).
std::vector<std::uint32_t> pump(impaired_link& link, std::uint64_t n, std::uint64_t gap_ns) {
  std::vector<std::uint32_t> order;
  order.reserve(n + n / 8);
  std::array<rte_mbuf*, 64> out;
  auto drain = [&](std::uint64_t now) {
    for (std::size_t k; (k = link.deliver_due(now, out)) != 0;) {
      for (std::size_t i = 0; i < k; ++i) order.push_back(seq_of(out[i]));
      rte_pktmbuf_free_bulk(out.data(), static_cast<unsigned>(k));
    }
  };
  std::uint64_t now = 0;
  for (std::uint64_t i = 0; i < n; ++i, now += gap_ns) {
    drain(now);
    link.send(make_frame(static_cast<std::uint32_t>(i)), now);
  }
  while (link.in_flight() != 0) drain(link.next_arrival_ns());
  return order;
}

// Six standard deviations of a binomial fraction: a correct link fails this
// for about one seed in 10^9.
double tolerance(double p, std::uint64_t n) {
  return 6.0 * std::sqrt(p * (1.0 - p) / static_cast<double>(n)) + 1e-9;
}

class ImpairedLinkTest : public testing::Test {
 protected:
  void SetUp() override { _before = rte_mempool_avail_count(shared_pool()); }
  void TearDown() override {
    EXPECT_EQ(rte_mempool_avail_count(shared_pool()), _before) << "mbufs leaked";
  }
  unsigned _before = 0;
};

TEST_F(ImpairedLinkTest, LossFractionMatchesProbability) {
  // 100k frames per seed is the costly part of the suite: 20 seeds per
  // loss rate bound the run time; --seeds below 20 lowers it further.
  for (double p : {0.01, 0.05, 0.3}) {
    for_each_seed(seeds_to_run(20), [p](std::uint64_t seed) {
      link_config c;
      c.loss = p;
      impaired_link link(c, seed);
      const auto order = pump(link, kFrames, 1000);
      const double fraction = static_cast<double>(order.size()) / kFrames;
      EXPECT_NEAR(fraction, 1.0 - p, tolerance(p, kFrames)) << "p=" << p;
      EXPECT_EQ(link.counters().lost + order.size(), kFrames);
      expect_balanced(link);
    });
  }
}

TEST_F(ImpairedLinkTest, DuplicatesAreCountedAndDeliveredTwice) {
  for_each_seed(seeds_to_run(), [](std::uint64_t seed) {
    constexpr double kP = 0.05;
    constexpr std::uint64_t kN = 10'000;
    link_config c;
    c.duplicate = kP;
    c.delay_ns = 5000;
    impaired_link link(c, seed);
    const auto order = pump(link, kN, 1000);
    const auto dup = link.counters().duplicated;
    EXPECT_NEAR(static_cast<double>(dup) / kN, kP, tolerance(kP, kN));
    ASSERT_EQ(order.size(), kN + dup);
    std::vector<unsigned> seen(kN);
    for (auto s : order) ++seen[s];
    std::uint64_t twice = 0;
    for (auto k : seen) {
      EXPECT_TRUE(k == 1 || k == 2);
      twice += k == 2;
    }
    EXPECT_EQ(twice, dup);
    expect_balanced(link);
  });
}

TEST_F(ImpairedLinkTest, DuplicateIsADeepCopy) {
  link_config c;
  c.duplicate = 1.0;
  impaired_link link(c, single_seed(7));
  link.send(make_frame(42), 0);
  std::array<rte_mbuf*, 4> out;
  ASSERT_EQ(link.deliver_due(0, out), 2U);
  EXPECT_NE(out[0], out[1]);
  EXPECT_NE(rte_pktmbuf_mtod(out[0], void*), rte_pktmbuf_mtod(out[1], void*));
  EXPECT_EQ(out[0]->pool, out[1]->pool);
  EXPECT_EQ(rte_mbuf_refcnt_read(out[0]), 1);
  EXPECT_EQ(rte_mbuf_refcnt_read(out[1]), 1);
  // Rewriting one in place, as a receiver does, leaves the other intact.
  rte_pktmbuf_mtod_offset(out[0], std::uint8_t*, 20)[0] ^= 0xff;
  EXPECT_EQ(seq_of(out[1]), 42U);
  EXPECT_NE(std::memcmp(rte_pktmbuf_mtod(out[0], void*), rte_pktmbuf_mtod(out[1], void*),
                        kFrameLen),
            0);
  rte_pktmbuf_free_bulk(out.data(), 2);
}

TEST_F(ImpairedLinkTest, ReorderedFramesAreOvertaken) {
  for_each_seed(seeds_to_run(), [](std::uint64_t seed) {
    constexpr double kP = 0.05;
    constexpr std::uint64_t kN = 10'000;
    link_config c;
    c.reorder = kP;
    c.delay_ns = 10'000;
    c.reorder_delay_ns = 50'000;  // 50 later frames overtake
    impaired_link link(c, seed);
    const auto order = pump(link, kN, 1000);
    const auto held = link.counters().reordered;
    EXPECT_NEAR(static_cast<double>(held) / kN, kP, tolerance(kP, kN));
    ASSERT_EQ(order.size(), kN);
    // A permutation: every frame exactly once.
    std::vector<bool> seen(kN);
    for (auto s : order) {
      EXPECT_FALSE(seen[s]);
      seen[s] = true;
    }
    // A held frame arrives after some later-sent one, unless it was among
    // the very last sent (nothing left to overtake it); no other frame is late.
    std::uint64_t late = 0;
    std::uint32_t max_seen = 0;
    for (auto s : order) {
      if (s < max_seen) ++late;
      max_seen = std::max(max_seen, s);
    }
    EXPECT_LE(late, held);
    EXPECT_GE(late + 5, held);
    expect_balanced(link);
  });
}

TEST_F(ImpairedLinkTest, FifoWithoutReorderOrJitter) {
  for_each_seed(seeds_to_run(), [](std::uint64_t seed) {
    link_config c;
    c.loss = 0.1;
    c.duplicate = 0.1;
    c.delay_ns = 30'000;
    c.bandwidth_bps = 100'000'000;
    impaired_link link(c, seed);
    const auto order = pump(link, 2000, 3000);
    for (std::size_t i = 1; i < order.size(); ++i) {
      ASSERT_LE(order[i - 1], order[i]) << "at " << i;
    }
    EXPECT_EQ(link.counters().reordered, 0U);
    expect_balanced(link);
  });
}

TEST_F(ImpairedLinkTest, JitterStaysWithinItsBound) {
  for (jitter_shape shape : {jitter_shape::uniform, jitter_shape::normal}) {
    for_each_seed(seeds_to_run(20), [shape](std::uint64_t seed) {
      link_config c;
      c.delay_ns = 100'000;
      c.jitter_ns = 20'000;
      c.jitter = shape;
      impaired_link link(c, seed);
      std::uint64_t lo = kNever, hi = 0;
      double sum = 0, sum2 = 0;
      constexpr int kN = 5000;
      for (int i = 0; i < kN; ++i) {
        link.send(make_frame(static_cast<std::uint32_t>(i)), 0);
        const std::uint64_t t = link.next_arrival_ns();
        std::array<rte_mbuf*, 1> out;
        ASSERT_EQ(link.deliver_due(t, out), 1U);
        rte_pktmbuf_free(out[0]);
        lo = std::min(lo, t);
        hi = std::max(hi, t);
        const double d = static_cast<double>(t) - 100'000.0;
        sum += d;
        sum2 += d * d;
      }
      EXPECT_GE(lo, 80'000U);
      EXPECT_LE(hi, 120'000U);
      EXPECT_LT(lo, 90'000U) << "jitter should spread arrivals";
      EXPECT_GT(hi, 110'000U);
      const double mean = sum / kN;
      const double sd = std::sqrt(sum2 / kN - mean * mean);
      EXPECT_NEAR(mean, 0.0, 1000.0);
      // Uniform on [-J, J]: J/sqrt(3); normal: J/3 (slightly less, cut at 3 sd).
      const double want = shape == jitter_shape::uniform ? 20'000 / std::sqrt(3.0) : 20'000 / 3.0;
      EXPECT_NEAR(sd, want, want * 0.05);
    });
  }
}

TEST_F(ImpairedLinkTest, BandwidthSerialisesFrames) {
  // 1,000 frames of 1,500 bytes are 12 Mbit: exactly 1 s at 12 Mbit/s.
  link_config c;
  c.bandwidth_bps = 12'000'000;
  c.delay_ns = 0;
  c.queue_frames = 1000;
  impaired_link link(c, single_seed(1));
  for (std::uint32_t i = 0; i < 1000; ++i) link.send(make_frame(i, 1500), 0);
  EXPECT_EQ(link.counters().queue_dropped, 0U);
  std::array<rte_mbuf*, 1> out;
  std::uint32_t n = 0;
  while (link.in_flight() != 0) {
    const std::uint64_t t = link.next_arrival_ns();
    // Frame i finishes serialising at (i + 1) ms.
    EXPECT_EQ(t, (n + 1) * 1'000'000ULL);
    ASSERT_EQ(link.deliver_due(t, out), 1U);
    EXPECT_EQ(seq_of(out[0]), n);
    rte_pktmbuf_free(out[0]);
    ++n;
  }
  EXPECT_EQ(n, 1000U);
}

TEST_F(ImpairedLinkTest, FullQueueTailDrops) {
  link_config c;
  c.bandwidth_bps = 12'000'000;  // 1 ms per 1,500-byte frame
  c.queue_frames = 10;
  impaired_link link(c, single_seed(1));
  for (std::uint32_t i = 0; i < 25; ++i) link.send(make_frame(i, 1500), 0);
  EXPECT_EQ(link.counters().queue_dropped, 15U);
  EXPECT_EQ(link.in_flight(), 10U);
  // After 3 ms three frames have left the queue: room for three more.
  for (std::uint32_t i = 0; i < 5; ++i) link.send(make_frame(100 + i, 1500), 3'000'000);
  EXPECT_EQ(link.counters().queue_dropped, 17U);

  // A byte limit: 4,000 bytes hold two 1,500-byte frames.
  link_config b = c;
  b.queue_bytes = 4000;
  impaired_link bytes(b, single_seed(1));
  for (std::uint32_t i = 0; i < 5; ++i) bytes.send(make_frame(i, 1500), 0);
  EXPECT_EQ(bytes.counters().queue_dropped, 3U);
  expect_balanced(link);
  expect_balanced(bytes);
}

TEST_F(ImpairedLinkTest, CorruptionFlipsExactlyOneBitPastTheEthernetHeader) {
  for_each_seed(seeds_to_run(20), [](std::uint64_t seed) {
    link_config c;
    c.corrupt = 1.0;
    impaired_link link(c, seed);
    std::array<rte_mbuf*, 1> out;
    for (std::uint32_t i = 0; i < 500; ++i) {
      link.send(make_frame(i), 0);
      ASSERT_EQ(link.deliver_due(0, out), 1U);
      rte_mbuf* want = make_frame(i);
      const auto* a = rte_pktmbuf_mtod(out[0], const std::uint8_t*);
      const auto* b = rte_pktmbuf_mtod(want, const std::uint8_t*);
      int bits = 0;
      std::size_t where = 0;
      for (std::size_t k = 0; k < kFrameLen; ++k) {
        const int d = std::popcount(static_cast<unsigned>(a[k] ^ b[k]));
        if (d != 0) where = k;
        bits += d;
      }
      EXPECT_EQ(bits, 1);
      EXPECT_GE(where, 14U);
      rte_pktmbuf_free(out[0]);
      rte_pktmbuf_free(want);
    }
    EXPECT_EQ(link.counters().corrupted, 500U);
  });
}

TEST_F(ImpairedLinkTest, FramesOverTheMtuAreDropped) {
  link_config c;
  c.mtu = 1500;
  impaired_link link(c, single_seed(1));
  link.send(make_frame(1, 1514), 0);  // 1,500 bytes of IP: fits
  link.send(make_frame(2, 1515), 0);
  rte_mbuf* tagged = make_frame(3, 1518);  // with an 802.1Q tag: fits
  rte_pktmbuf_mtod(tagged, std::uint8_t*)[12] = 0x81;
  rte_pktmbuf_mtod(tagged, std::uint8_t*)[13] = 0x00;
  link.send(tagged, 0);
  std::array<rte_mbuf*, 4> out;
  const std::size_t n = link.deliver_due(0, out);
  EXPECT_EQ(n, 2U);
  EXPECT_EQ(link.counters().mtu_dropped, 1U);
  rte_pktmbuf_free_bulk(out.data(), static_cast<unsigned>(n));
  expect_balanced(link);
}

TEST_F(ImpairedLinkTest, FramesInFlightAreFreedWithTheLink) {
  link_config c;
  c.delay_ns = 1'000'000;
  c.duplicate = 0.5;
  {
    impaired_link link(c, single_seed(3));
    for (std::uint32_t i = 0; i < 1000; ++i) link.send(make_frame(i), i);
    EXPECT_GT(link.in_flight(), 1000U);
  }
  // TearDown checks the pool.
}

TEST_F(ImpairedLinkTest, SameSeedSameRun) {
  for_each_seed(seeds_to_run(20), [](std::uint64_t seed) {
    link_config c;
    c.loss = 0.05;
    c.duplicate = 0.05;
    c.reorder = 0.05;
    c.corrupt = 0.05;
    c.delay_ns = 20'000;
    c.jitter_ns = 5000;
    c.jitter = jitter_shape::normal;
    c.bandwidth_bps = 1'000'000'000;
    impaired_link one(c, seed);
    impaired_link two(c, seed);
    const auto first = pump(one, 5000, 700);
    EXPECT_EQ(first, pump(two, 5000, 700));
    EXPECT_EQ(one.counters(), two.counters()) << one.counters().format();
    // And the seed matters: another one gives another run.
    impaired_link other(c, seed + 1000);
    EXPECT_NE(pump(other, 5000, 700), first);
  });
}

}  // namespace
}  // namespace kbt::sim
