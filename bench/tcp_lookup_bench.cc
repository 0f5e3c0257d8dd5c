// The connection table's lookup (rte_hash keyed by the 4-tuple, created as
// tcp_layer creates it: RW_CONCURRENCY_LF, jhash over the 12-byte key), per
// packet: one lookup per segment, against one bulk lookup per burst of 32 as
// tcp_layer::input_burst does. Keys are spread over the table so the cache
// sees what a busy server's table gives it.
#include <benchmark/benchmark.h>
#include <rte_hash.h>
#include <rte_jhash.h>

#include <array>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "eal_env.hh"
#include "tcp/tuple.hh"

namespace {

using namespace kbt;

std::uint32_t tuple_hash(const void* key, std::uint32_t, std::uint32_t seed) {
  std::uint32_t w[3];
  std::memcpy(w, key, sizeof w);
  return rte_jhash_3words(w[0], w[1], w[2], seed);
}

struct table {
  rte_hash* h = nullptr;
  std::vector<tcp::four_tuple> keys;
  explicit table(std::uint32_t n) {
    static int id = 0;
    const std::string name = "bench_lookup_" + std::to_string(++id);
    rte_hash_parameters p{};
    p.name = name.c_str();
    p.entries = n + n / 8;
    p.key_len = sizeof(tcp::four_tuple);
    p.hash_func = tuple_hash;
    p.socket_id = SOCKET_ID_ANY;
    p.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF;
    h = rte_hash_create(&p);
    std::mt19937 rng(42);
    for (std::uint32_t i = 0; i < n; ++i) {
      tcp::four_tuple t{wire::ipv4_addr::from_octets(198, 18, 0, 2),
                        wire::ipv4_addr{0xc6130000U + (i >> 14)},
                        80, static_cast<std::uint16_t>(1024 + (i & 0x3fff))};
      keys.push_back(t);
      rte_hash_add_key_data(h, &keys.back(), reinterpret_cast<void*>(std::uintptr_t{i} + 1));
    }
    std::shuffle(keys.begin(), keys.end(), rng);
  }
  ~table() { rte_hash_free(h); }
};

void BM_TableLookupOneByOne(benchmark::State& state) {
  table t(static_cast<std::uint32_t>(state.range(0)));
  if (t.h == nullptr) return state.SkipWithError("rte_hash_create failed");
  std::size_t i = 0;
  std::uintptr_t sum = 0;
  for (auto _ : state) {
    for (int k = 0; k < 32; ++k) {
      void* data = nullptr;
      rte_hash_lookup_data(t.h, &t.keys[i], &data);
      sum += reinterpret_cast<std::uintptr_t>(data);
      if (++i == t.keys.size()) i = 0;
    }
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations() * 32);  // per packet
}
BENCHMARK(BM_TableLookupOneByOne)->Arg(1024)->Arg(65536)->Arg(1 << 20);

void BM_TableLookupBulk32(benchmark::State& state) {
  table t(static_cast<std::uint32_t>(state.range(0)));
  if (t.h == nullptr) return state.SkipWithError("rte_hash_create failed");
  std::size_t i = 0;
  std::array<const void*, 32> ptrs;
  std::array<void*, 32> data;
  std::uintptr_t sum = 0;
  for (auto _ : state) {
    for (int k = 0; k < 32; ++k) {
      ptrs[k] = &t.keys[i];
      if (++i == t.keys.size()) i = 0;
    }
    std::uint64_t hits = 0;
    rte_hash_lookup_bulk_data(t.h, ptrs.data(), 32, &hits, data.data());
    sum += hits + reinterpret_cast<std::uintptr_t>(data[0]);
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations() * 32);  // per packet
}
BENCHMARK(BM_TableLookupBulk32)->Arg(1024)->Arg(65536)->Arg(1 << 20);

}  // namespace
