// kbt-sim: the deterministic simulation tests. Starts the EAL once, as the
// unit tests do (no hugepages, no PCI scan, no shared config, one lcore), so
// the simulator uses real rte_mbufs and real ethdevs without privileges, and
// takes the seed flags off argv before GoogleTest parses the rest.
#include <gtest/gtest.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>

#include <cstdio>
#include <iterator>

#include "sim_env.hh"

int main(int argc, char** argv) {
  const std::string error = kbt::sim::parse_seed_flags(argc, argv);
  if (!error.empty()) {
    std::fprintf(stderr, "kbt-sim: %s\n", error.c_str());
    return 2;
  }
  testing::InitGoogleTest(&argc, argv);

  char arg0[] = "kbt-sim";
  char a1[] = "--no-huge";
  char a2[] = "-m";
  char a3[] = "512";
  char a4[] = "--no-shconf";
  char a5[] = "--no-pci";
  char a6[] = "-l";
  char a7[] = "0";
  char a8[] = "--log-level=lib.*:warning";
  char a9[] = "--no-telemetry";
  char* eal_argv[] = {arg0, a1, a2, a3, a4, a5, a6, a7, a8, a9};
  if (rte_eal_init(static_cast<int>(std::size(eal_argv)), eal_argv) < 0) {
    std::fprintf(stderr, "kbt-sim: rte_eal_init failed: %s\n", rte_strerror(rte_errno));
    return 1;
  }
  rte_mempool* pool = rte_pktmbuf_pool_create("kbt_sim_pool", 16383, 256, 0,
                                              RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  if (pool == nullptr) {
    std::fprintf(stderr, "kbt-sim: mbuf pool: %s\n", rte_strerror(rte_errno));
    return 1;
  }
  kbt::sim::set_shared_pool(pool);
  if (kbt::sim::flags().only) {
    std::printf("kbt-sim: replaying seed %llu\n",
                static_cast<unsigned long long>(*kbt::sim::flags().only));
  }

  const int rc = RUN_ALL_TESTS();
  rte_mempool_free(pool);
  rte_eal_cleanup();
  return rc;
}
