#include <rte_errno.h>
// Starts the EAL once for the whole unit-test binary: no hugepages, no PCI
// scan, no shared config, so tests run unprivileged-safe and in parallel with
// other DPDK processes, and get real rte_mbufs from a small pool.
#include <gtest/gtest.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <cstdio>

namespace kbt::test {
void set_mbuf_pool(rte_mempool* pool) noexcept;
}

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);

  char arg0[] = "kbt-unit";
  char a1[] = "--no-huge";
  char a2[] = "-m";
  char a3[] = "256";
  char a4[] = "--no-shconf";
  char a5[] = "--no-pci";
  char a6[] = "-l";
  char a7[] = "0";
  char a8[] = "--log-level=lib.*:warning";
  char a9[] = "--no-telemetry";
  char* eal_argv[] = {arg0, a1, a2, a3, a4, a5, a6, a7, a8, a9};
  if (rte_eal_init(static_cast<int>(std::size(eal_argv)), eal_argv) < 0) {
    std::fprintf(stderr, "kbt-unit: rte_eal_init failed: %s\n", rte_strerror(rte_errno));
    return 1;
  }
  rte_mempool* pool = rte_pktmbuf_pool_create("kbt_test_pool", 8191, 256, 0,
                                              RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  if (pool == nullptr) {
    std::fprintf(stderr, "kbt-unit: mbuf pool: %s\n", rte_strerror(rte_errno));
    return 1;
  }
  kbt::test::set_mbuf_pool(pool);

  const int rc = RUN_ALL_TESTS();
  rte_mempool_free(pool);
  rte_eal_cleanup();
  return rc;
}
