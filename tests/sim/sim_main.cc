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

#include "eal_start.hh"
#include "sim_env.hh"
#include "sim_world.hh"

int main(int argc, char** argv) {
  const std::string error = kbt::sim::parse_seed_flags(argc, argv);
  if (!error.empty()) {
    std::fprintf(stderr, "kbt-sim: %s\n", error.c_str());
    return 2;
  }
  testing::InitGoogleTest(&argc, argv);

  rte_mempool* pool = kbt::support::start_eal_with_pool("kbt-sim", 512, "kbt_sim_pool", 16383);
  if (pool == nullptr) return 1;
  kbt::sim::set_shared_pool(pool);
  // Every world checks every checksum its endpoints emit (wire_check.hh):
  // a wrong one fails the test that sent it.
  kbt::sim::set_checksum_fault_hook([](const std::string& what) { ADD_FAILURE() << what; });
  if (kbt::sim::flags().only) {
    std::printf("kbt-sim: replaying seed %llu\n",
                static_cast<unsigned long long>(*kbt::sim::flags().only));
  }

  const int rc = RUN_ALL_TESTS();
  kbt::support::stop_eal(pool);
  return rc;
}
