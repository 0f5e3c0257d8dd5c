// The TIME-WAIT table at a million records: the lookup every segment that
// misses the connection table pays (a miss is the common case: a SYN or a
// stray segment for a tuple that is not in TIME_WAIT), a hit (a retransmitted
// FIN, a reusing SYN), and the steady state of a busy server where each new
// TIME_WAIT record is matched by one expiring.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "tcp/config.hh"
#include "tcp/time_wait_table.hh"

namespace {

using kbt::base::instant_from_ns;
using kbt::base::nanos;
using kbt::tcp::four_tuple;
using kbt::tcp::time_wait_record;
using kbt::tcp::time_wait_table;
using kbt::wire::ipv4_addr;

constexpr std::uint32_t kMillion = 1'000'000;
constexpr std::uint32_t kSeed = 0x2545f491U;

four_tuple tuple_n(std::uint32_t k) {
  return four_tuple{.local_ip = ipv4_addr::from_octets(198, 18, 0, 1),
                    .remote_ip = ipv4_addr{0x0a000000U + (k >> 14)},
                    .local_port = 80,
                    .remote_port = static_cast<std::uint16_t>(1024 + (k & 0x3fffU))};
}

time_wait_record record_n(std::uint32_t k) {
  time_wait_record r;
  r.tuple = tuple_n(k);
  return r;
}

// A full table of a million records, built once for the find benchmarks;
// lookups go in a shuffled order so each touches a cold record, as traffic
// from a million peers would.
struct million_table {
  time_wait_table table{kMillion, nanos{60 * kbt::tcp::kSec}, kSeed};
  std::vector<four_tuple> hits;
  std::vector<four_tuple> misses;

  million_table() {
    for (std::uint32_t k = 0; k < kMillion; ++k) table.insert(record_n(k), instant_from_ns(0));
    std::vector<std::uint32_t> order(kMillion);
    for (std::uint32_t k = 0; k < kMillion; ++k) order[k] = k;
    std::shuffle(order.begin(), order.end(), std::mt19937(1));
    hits.reserve(kMillion);
    misses.reserve(kMillion);
    for (const std::uint32_t k : order) {
      hits.push_back(tuple_n(k));
      misses.push_back(tuple_n(kMillion + k));
    }
  }
};

million_table& shared_table() {
  static million_table t;
  return t;
}

void BM_TimeWaitFindHit(benchmark::State& state) {
  million_table& m = shared_table();
  std::size_t i = 0;
  for (auto _ : state) {
    time_wait_record* r = m.table.find(m.hits[i]);
    if (r == nullptr) state.SkipWithError("a present tuple was not found");
    benchmark::DoNotOptimize(r);
    if (++i == m.hits.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["records"] = static_cast<double>(m.table.size());
}
BENCHMARK(BM_TimeWaitFindHit);

void BM_TimeWaitFindMiss(benchmark::State& state) {
  million_table& m = shared_table();
  std::size_t i = 0;
  for (auto _ : state) {
    time_wait_record* r = m.table.find(m.misses[i]);
    if (r != nullptr) state.SkipWithError("an absent tuple was found");
    benchmark::DoNotOptimize(r);
    if (++i == m.misses.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["records"] = static_cast<double>(m.table.size());
}
BENCHMARK(BM_TimeWaitFindMiss);

// Steady state at a full table of range(0) records: each step the clock
// moves 1 ns, the oldest record expires (lifetime = range(0) ns) and a new
// one takes its place. One item = one expire() of one record + one insert().
void BM_TimeWaitInsertExpire(benchmark::State& state) {
  const auto n = static_cast<std::uint32_t>(state.range(0));
  time_wait_table t(n, nanos{n}, kSeed);
  for (std::uint32_t k = 0; k < n; ++k) t.insert(record_n(k), instant_from_ns(k));
  kbt::base::instant now = instant_from_ns(n);
  std::uint32_t next = n;
  std::size_t expired = 0;
  for (auto _ : state) {
    expired += t.expire(now, 8, [](const time_wait_record& r) { benchmark::DoNotOptimize(&r); });
    benchmark::DoNotOptimize(t.insert(record_n(next++), now));
    ++now;
  }
  if (expired != static_cast<std::size_t>(state.iterations())) {
    state.SkipWithError("expiry fell behind");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TimeWaitInsertExpire)->Arg(1 << 16)->Arg(kMillion);

}  // namespace
