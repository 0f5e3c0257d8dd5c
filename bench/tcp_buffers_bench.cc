// Micro-benchmarks of the TCP payload structures, per segment of 1448 bytes
// (a 1500-byte MTU with timestamps): send buffer append + ACK and
// make_segment, reassembly inserts, SACK scoreboard updates. Payload bytes
// are never written or read: the structures never touch them either.
// BM_MbufAllocFree is the baseline that the mbuf-consuming benchmarks include.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include "eal_env.hh"
#include "tcp/reassembly.hh"
#include "tcp/sack_scoreboard.hh"
#include "tcp/send_buffer.hh"

namespace {

using kbt::tcp::reassembly;
using kbt::tcp::sack_scoreboard;
using kbt::tcp::send_buffer;
using kbt::wire::sack_block;
using kbt::wire::seq32;

constexpr std::uint32_t kSeg = 1448;

rte_mbuf* payload_mbuf(std::uint16_t len = kSeg) noexcept {
  rte_mbuf* m = rte_pktmbuf_alloc(kbt::bench::mbuf_pool());
  if (m != nullptr) rte_pktmbuf_append(m, len);
  return m;
}

// What every benchmark below that takes a fresh mbuf per segment pays for it.
void BM_MbufAllocFree(benchmark::State& state) {
  for (auto _ : state) {
    rte_mbuf* m = payload_mbuf();
    benchmark::DoNotOptimize(m);
    rte_pktmbuf_free(m);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MbufAllocFree);

// Steady state with a window of segments in flight: the application appends
// one segment and an ACK releases the oldest.
void BM_SendBufferAppendAck(benchmark::State& state) {
  const auto window = static_cast<std::uint32_t>(state.range(0));
  send_buffer sb(1U << 24, window + 1, seq32{0xfff00000U});
  for (std::uint32_t k = 0; k < window; ++k) sb.append(payload_mbuf());
  for (auto _ : state) {
    sb.append(payload_mbuf());
    benchmark::DoNotOptimize(sb.ack(sb.una() + kSeg));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SendBufferAppendAck)->Arg(1)->Arg(64)->Arg(1024);

// One 1448-byte segment: aligned with the held mbufs (one indirect piece) or
// straddling two of them (two pieces), walking forward as sending does.
void BM_SendBufferMakeSegment(benchmark::State& state) {
  const auto offset = static_cast<std::uint32_t>(state.range(0));
  constexpr std::uint32_t kHeld = 256;
  send_buffer sb(1U << 24, kHeld, seq32{0});
  for (std::uint32_t k = 0; k < kHeld; ++k) sb.append(payload_mbuf());
  std::uint32_t next = offset;
  for (auto _ : state) {
    rte_mbuf* seg = sb.make_segment(seq32{next}, kSeg, kbt::bench::mbuf_pool());
    benchmark::DoNotOptimize(seg);
    rte_pktmbuf_free(seg);
    next += kSeg;
    if (next + kSeg > kHeld * kSeg) next = offset;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SendBufferMakeSegment)->Arg(0)->Arg(700);

// Retransmissions at random held offsets: the binary-search path.
void BM_SendBufferMakeSegmentRandom(benchmark::State& state) {
  constexpr std::uint32_t kHeld = 1024;
  send_buffer sb(1U << 24, kHeld, seq32{0});
  for (std::uint32_t k = 0; k < kHeld; ++k) sb.append(payload_mbuf());
  std::mt19937 rng(7);
  std::vector<std::uint32_t> at(4096);
  for (auto& a : at) a = rng() % ((kHeld - 1) * kSeg);
  std::size_t i = 0;
  for (auto _ : state) {
    rte_mbuf* seg = sb.make_segment(seq32{at[i++ & 4095]}, kSeg, kbt::bench::mbuf_pool());
    benchmark::DoNotOptimize(seg);
    rte_pktmbuf_free(seg);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SendBufferMakeSegmentRandom);

// The common out-of-order case: after one loss, later segments keep arriving
// in order above the hole and extend the last run (O(1)). Batches of 64,
// then clear(), which frees them (its cost is included).
void BM_ReassemblyInsertAboveHole(benchmark::State& state) {
  reassembly q(1U << 24, 4096);
  const seq32 rcv_nxt{0xffff0000U};
  for (auto _ : state) {
    seq32 seq = rcv_nxt + kSeg;  // one segment missing
    for (int k = 0; k < 64; ++k, seq += kSeg) q.insert(rcv_nxt, seq, payload_mbuf(), kSeg, false);
    q.clear();
  }
  state.SetItemsProcessed(state.iterations() * 64);
}
BENCHMARK(BM_ReassemblyInsertAboveHole);

// The segment at RCV.NXT arriving while the queue is not empty (the path
// receive.cc takes when a hole fills): insert, pop, free the delivered chain.
void BM_ReassemblyInsertInOrderNext(benchmark::State& state) {
  reassembly q(1U << 24, 4096);
  seq32 rcv_nxt{0};
  std::uint32_t n = 0;
  for (auto _ : state) {
    if ((n++ & 255) == 0) {  // keep a far run queued so the queue is never empty
      q.clear();
      q.insert(rcv_nxt, rcv_nxt + (1U << 20), payload_mbuf(), kSeg, false);
    }
    q.insert(rcv_nxt, rcv_nxt, payload_mbuf(), kSeg, false);
    const auto p = q.pop(rcv_nxt);
    rcv_nxt += p.len;
    rte_pktmbuf_free(p.data);
  }
  q.clear();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ReassemblyInsertInOrderNext);

// 64 segments in a random order (fixed seed), then everything popped: runs
// are created, bridged and merged.
void BM_ReassemblyInsertOutOfOrder(benchmark::State& state) {
  reassembly q(1U << 24, 4096);
  std::vector<std::uint32_t> order(64);
  std::iota(order.begin(), order.end(), 0U);
  std::shuffle(order.begin(), order.end(), std::mt19937(3));
  seq32 rcv_nxt{0xfff00000U};
  for (auto _ : state) {
    for (std::uint32_t k : order) {
      q.insert(rcv_nxt, rcv_nxt + k * kSeg, payload_mbuf(), kSeg, false);
      const auto p = q.pop(rcv_nxt);
      rcv_nxt += p.len;
      rte_pktmbuf_free(p.data);
    }
  }
  state.SetItemsProcessed(state.iterations() * 64);
}
BENCHMARK(BM_ReassemblyInsertOutOfOrder);

// One ACK with 3 SACK blocks (timestamps on), the first of them grown by one
// segment, over a flight of 256 segments with three holes.
void BM_ScoreboardUpdate3Blocks(benchmark::State& state) {
  sack_scoreboard sb;
  const seq32 una{0xfffff000U};
  const seq32 max = una + 256 * kSeg;
  std::uint32_t top = 40;
  for (auto _ : state) {
    const std::array<sack_block, 3> blocks = {
        sack_block{una + 30 * kSeg, una + top * kSeg},
        sack_block{una + 20 * kSeg, una + 25 * kSeg},
        sack_block{una + 10 * kSeg, una + 15 * kSeg},
    };
    benchmark::DoNotOptimize(sb.update(una, max, blocks));
    if (++top == 256) {
      top = 40;
      sb.reset();
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ScoreboardUpdate3Blocks);

// What the sender does per ACK in recovery after the update: SetPipe, NextSeg.
void BM_ScoreboardPipeNextSeg(benchmark::State& state) {
  sack_scoreboard sb;
  const seq32 una{0};
  const seq32 max = una + 256 * kSeg;
  std::vector<sack_block> blocks;
  for (std::uint32_t k = 0; k < 8; ++k) {
    blocks.push_back({una + (10 + 20 * k) * kSeg, una + (15 + 20 * k) * kSeg});
  }
  sb.update(una, max, blocks);
  for (auto _ : state) {
    benchmark::DoNotOptimize(sb.pipe(una, max, una + kSeg, kSeg));
    benchmark::DoNotOptimize(sb.next_seg(una, max, una + kSeg, kSeg, 0));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ScoreboardPipeNextSeg);

}  // namespace
