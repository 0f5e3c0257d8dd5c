// Starts the EAL once for the whole unit-test binary: no hugepages, no PCI
// scan, no shared config, so tests run unprivileged-safe and in parallel with
// other DPDK processes, and get real rte_mbufs from a small pool.
#include <gtest/gtest.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <cstdio>

#include "eal_start.hh"

namespace kbt::test {
void set_mbuf_pool(rte_mempool* pool) noexcept;
}

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);

  rte_mempool* pool = kbt::support::start_eal_with_pool("kbt-unit", 256, "kbt_test_pool", 8191);
  if (pool == nullptr) return 1;
  kbt::test::set_mbuf_pool(pool);

  const int rc = RUN_ALL_TESTS();
  kbt::support::stop_eal(pool);
  return rc;
}
