// Micro-benchmarks of the per-ACK and per-connection TCP arithmetic:
// congestion avoidance on_ack (NewReno, CUBIC), an RTT sample, an ISN.
#include <benchmark/benchmark.h>

#include <cstdint>

#include "tcp/congestion.hh"
#include "tcp/isn.hh"
#include "tcp/rtt_estimator.hh"

namespace {

using kbt::tcp::cc_algorithm;
using kbt::tcp::congestion_control;
using kbt::tcp::recovery_kind;

constexpr std::uint32_t kSmss = 1460;
constexpr std::uint64_t kRttNs = 10'000'000;  // 10 ms

// A connection in congestion avoidance: lost once at ~1.4 MB, recovered.
congestion_control in_avoidance(cc_algorithm algo) {
  congestion_control cc(algo, kSmss, 0);
  while (cc.cwnd() < 1'000 * kSmss) cc.on_ack(2 * kSmss, 0, kRttNs);
  cc.on_enter_recovery(cc.cwnd(), 0, recovery_kind::sack);
  cc.on_exit_recovery(cc.cwnd());
  return cc;
}

// One ACK of one SMSS, ACK-clocked: the time advances by RTT / cwnd-in-
// segments per ACK (fixed at the starting window, so the loop itself does
// no division), so CUBIC walks its curve as on a real path. Restarted from
// the post-loss state every 2^16 ACKs (about 90 RTTs) so the window stays
// realistic.
void on_ack_avoidance(benchmark::State& state, cc_algorithm algo) {
  const congestion_control start = in_avoidance(algo);
  const std::uint64_t step = kRttNs * kSmss / start.cwnd();
  congestion_control cc = start;
  std::uint64_t now = 0;
  std::uint32_t n = 0;
  for (auto _ : state) {
    cc.on_ack(kSmss, now, kRttNs);
    now += step;
    if ((++n & 0xffff) == 0) {
      cc = start;
      now = 0;
    }
    benchmark::DoNotOptimize(cc);
  }
}

void BM_CcOnAckNewReno(benchmark::State& state) { on_ack_avoidance(state, cc_algorithm::newreno); }
void BM_CcOnAckCubic(benchmark::State& state) { on_ack_avoidance(state, cc_algorithm::cubic); }
BENCHMARK(BM_CcOnAckNewReno);
BENCHMARK(BM_CcOnAckCubic);

// The loss path (once per congestion event): CUBIC's cube root sits here.
void BM_CcLossAndEpochCubic(benchmark::State& state) {
  const congestion_control start = in_avoidance(cc_algorithm::cubic);
  congestion_control cc = start;
  std::uint64_t now = 0;
  for (auto _ : state) {
    cc = start;
    cc.on_enter_recovery(cc.cwnd(), now, recovery_kind::sack);
    cc.on_exit_recovery(cc.cwnd());
    cc.on_ack(kSmss, now, kRttNs);  // starts the epoch: cbrt
    now += 1000;
    benchmark::DoNotOptimize(cc);
  }
}
BENCHMARK(BM_CcLossAndEpochCubic);

void BM_RttSample(benchmark::State& state) {
  kbt::tcp::rtt_estimator est;
  std::uint64_t sample = kRttNs;
  for (auto _ : state) {
    est.on_sample(sample);
    sample = kRttNs + (sample * 7 + 13) % 1'000'000;  // jitter within 1 ms
    benchmark::DoNotOptimize(est);
  }
}
BENCHMARK(BM_RttSample);

void BM_IsnGenerate(benchmark::State& state) {
  const kbt::tcp::isn_generator gen(kbt::tcp::siphash_key{1, 2, 3, 4, 5, 6, 7, 8});
  const auto local = kbt::wire::ipv4_addr::from_octets(198, 18, 0, 1);
  const auto remote = kbt::wire::ipv4_addr::from_octets(198, 18, 0, 2);
  std::uint16_t port = 1024;
  std::uint64_t now = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(gen.generate(local, 80, remote, port, now));
    ++port;
    now += 100;
  }
}
BENCHMARK(BM_IsnGenerate);

}  // namespace
