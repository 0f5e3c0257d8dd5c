#include "eal_env.hh"

#include "eal_start.hh"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>

#include <cstdio>
#include <cstdlib>
#include <iterator>

namespace kbt::bench {
namespace {

rte_mempool* start() noexcept {
  rte_mempool* pool = support::start_eal_with_pool("kbt-bench", 256, "kbt_bench_pool", 16383);
  if (pool == nullptr) std::abort();
  return pool;
}

}  // namespace

rte_mempool* mbuf_pool() noexcept {
  static rte_mempool* const pool = start();
  return pool;
}

}  // namespace kbt::bench
