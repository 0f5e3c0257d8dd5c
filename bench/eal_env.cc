#include "eal_env.hh"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>

#include <cstdio>
#include <cstdlib>
#include <iterator>

namespace kbt::bench {
namespace {

rte_mempool* start() noexcept {
  char arg0[] = "kbt-bench";
  char a1[] = "--no-huge";
  char a2[] = "-m";
  char a3[] = "256";
  char a4[] = "--no-shconf";
  char a5[] = "--no-pci";
  char a6[] = "-l";
  char a7[] = "0";
  char a8[] = "--log-level=lib.*:warning";
  char a9[] = "--no-telemetry";
  char* argv[] = {arg0, a1, a2, a3, a4, a5, a6, a7, a8, a9};
  if (rte_eal_init(static_cast<int>(std::size(argv)), argv) < 0) {
    std::fprintf(stderr, "kbt-bench: rte_eal_init failed: %s\n", rte_strerror(rte_errno));
    std::abort();
  }
  rte_mempool* pool = rte_pktmbuf_pool_create("kbt_bench_pool", 16383, 256, 0,
                                              RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  if (pool == nullptr) {
    std::fprintf(stderr, "kbt-bench: mbuf pool: %s\n", rte_strerror(rte_errno));
    std::abort();
  }
  return pool;
}

}  // namespace

rte_mempool* mbuf_pool() noexcept {
  static rte_mempool* const pool = start();
  return pool;
}

}  // namespace kbt::bench
