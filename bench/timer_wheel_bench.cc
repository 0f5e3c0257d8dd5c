// Micro-benchmarks of the per-core timer wheel: the operations TCP does per
// segment (arm, cancel, re-arm) and per loop iteration (advance).
#include "base/timer_wheel.hh"

#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <random>
#include <vector>

namespace {

using kbt::base::instant;
using kbt::base::nanos;
using kbt::base::timer_node;
using kbt::base::timer_wheel;

constexpr nanos kUs{1'000};
constexpr nanos kMs{1'000'000};
constexpr nanos kDay = 24 * 3600 * 1'000 * kMs;

void count_fire(timer_node&, instant, void* ctx) noexcept {
  ++*static_cast<std::uint64_t*>(ctx);
}

struct bench_node : timer_node {
  bench_node() noexcept : timer_node(&count_fire) {}
};

// Far-future timers that never fire during a run, to give the wheel a
// realistic population (keepalives) without changing what is measured.
void arm_background(timer_wheel& wheel, bench_node* nodes, std::size_t n, instant now) {
  std::mt19937_64 rng(1);
  for (std::size_t i = 0; i < n; ++i) {
    wheel.arm(nodes[i], now + 30 * kDay + nanos{rng() % kDay.count()});
  }
}

// One RTO armed on send and cancelled by the ACK.
void BM_ArmCancel(benchmark::State& state) {
  const auto background = static_cast<std::size_t>(state.range(0));
  std::uint64_t fired = 0;
  timer_wheel wheel({}, &fired);
  auto others = std::make_unique<bench_node[]>(background);
  arm_background(wheel, others.get(), background, instant{});
  bench_node node;
  instant now{};
  for (auto _ : state) {
    now += kUs;
    wheel.arm(node, now + 200 * kMs);
    wheel.cancel(node);
    benchmark::DoNotOptimize(node);
  }
  state.SetItemsProcessed(state.iterations());
  for (std::size_t i = 0; i < background; ++i) wheel.cancel(others[i]);
}
BENCHMARK(BM_ArmCancel)->Arg(0)->Arg(1 << 20);

// N timers spread over `spread` ms are armed, then the clock advances in
// steps of `step` ms (1: the engine's loop; spread: one simulator jump) until
// all have fired. Reported per timer: its arm, its share of the advances
// (cascades included) and its callback.
void BM_ArmExpire(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const nanos spread = static_cast<std::uint64_t>(state.range(1)) * kMs;
  const nanos step = static_cast<std::uint64_t>(state.range(2)) * kMs;
  std::uint64_t fired = 0;
  timer_wheel wheel({}, &fired);
  auto nodes = std::make_unique<bench_node[]>(n);
  std::vector<nanos> offsets(n);
  std::mt19937_64 rng(42);
  for (auto& o : offsets) o = nanos{1 + rng() % spread.count()};
  instant now{};
  for (auto _ : state) {
    for (std::size_t i = 0; i < n; ++i) wheel.arm(nodes[i], now + offsets[i]);
    const instant end = now + spread;
    while (now < end) {
      now += step;
      wheel.advance(now);
    }
  }
  if (fired != n * state.iterations()) state.SkipWithError("not every timer fired");
  state.SetItemsProcessed(static_cast<std::int64_t>(fired));
}
BENCHMARK(BM_ArmExpire)
    ->ArgNames({"n", "spread_ms", "step_ms"})
    ->Args({1'000, 1'000, 1})
    ->Args({1'000, 1'000, 1'000})
    ->Args({1 << 20, 60'000, 1})
    ->Args({1 << 20, 60'000, 60'000})
    ->Unit(benchmark::kMillisecond);

// Delayed ACK: every segment re-arms its connection's 40 ms timer. Segments
// arrive every 100 ns round-robin over `conns` connections; advance() runs
// once per tick. With one connection most re-arms land in the same tick (the
// early-out); with 64k every re-arm moves the node to another slot.
void BM_RearmDelayedAck(benchmark::State& state) {
  const auto conns = static_cast<std::size_t>(state.range(0));
  std::uint64_t fired = 0;
  timer_wheel wheel({}, &fired);
  auto nodes = std::make_unique<bench_node[]>(conns);
  instant now{};
  for (std::size_t i = 0; i < conns; ++i) wheel.arm(nodes[i], now + 40 * kMs);
  std::size_t next = 0;
  instant next_tick = instant{} + kMs;
  for (auto _ : state) {
    now += nanos{100};
    wheel.arm(nodes[next], now + 40 * kMs);
    if (++next == conns) next = 0;
    if (now >= next_tick) {
      wheel.advance(now);
      next_tick += kMs;
    }
  }
  if (fired != 0) state.SkipWithError("a delayed ACK fired");
  state.SetItemsProcessed(state.iterations());
  for (std::size_t i = 0; i < conns; ++i) wheel.cancel(nodes[i]);
}
BENCHMARK(BM_RearmDelayedAck)->Arg(1)->Arg(1 << 16);

// Re-arm that always moves: alternate between two ticks.
void BM_RearmMove(benchmark::State& state) {
  std::uint64_t fired = 0;
  timer_wheel wheel({}, &fired);
  bench_node node;
  std::uint64_t flip = 0;
  for (auto _ : state) {
    flip ^= 1;
    wheel.arm(node, instant{40 * kMs + flip * kMs});
  }
  state.SetItemsProcessed(state.iterations());
  wheel.cancel(node);
}
BENCHMARK(BM_RearmMove);

// The loop's advance() when nothing is due: by one whole tick (slow path,
// looks up the next event), over an empty wheel or 1M idle timers.
void BM_AdvanceOneTick(benchmark::State& state) {
  const auto background = static_cast<std::size_t>(state.range(0));
  std::uint64_t fired = 0;
  timer_wheel wheel({}, &fired);
  auto others = std::make_unique<bench_node[]>(background);
  arm_background(wheel, others.get(), background, instant{});
  instant now{};
  for (auto _ : state) {
    now += kMs;
    benchmark::DoNotOptimize(wheel.advance(now));
  }
  if (fired != 0) state.SkipWithError("a background timer fired");
  state.SetItemsProcessed(state.iterations());
  for (std::size_t i = 0; i < background; ++i) wheel.cancel(others[i]);
}
BENCHMARK(BM_AdvanceOneTick)->Arg(0)->Arg(1 << 20);

// The common case in a busy loop: now moved by less than a tick.
void BM_AdvanceWithinTick(benchmark::State& state) {
  std::uint64_t fired = 0;
  timer_wheel wheel({}, &fired);
  instant now{};
  for (auto _ : state) {
    now += nanos{100};
    benchmark::DoNotOptimize(wheel.advance(now));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AdvanceWithinTick);

}  // namespace
