#include "eal_start.hh"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>

#include <cstdio>
#include <string>
#include <vector>

namespace kbt::support {

rte_mempool* start_eal_with_pool(const char* program, unsigned memory_mb, const char* pool_name,
                                 unsigned mbufs) noexcept {
  std::vector<std::string> args = {program,    "--no-huge", "-m",
                                   std::to_string(memory_mb), "--no-shconf", "--no-pci",
                                   "-l",       "0",         "--log-level=lib.*:warning",
                                   "--no-telemetry"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  if (rte_eal_init(static_cast<int>(argv.size()), argv.data()) < 0) {
    std::fprintf(stderr, "%s: rte_eal_init failed: %s\n", program, rte_strerror(rte_errno));
    return nullptr;
  }
  rte_mempool* pool = rte_pktmbuf_pool_create(pool_name, mbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                              SOCKET_ID_ANY);
  if (pool == nullptr) {
    std::fprintf(stderr, "%s: mbuf pool: %s\n", program, rte_strerror(rte_errno));
  }
  return pool;
}

void stop_eal(rte_mempool* pool) noexcept {
  rte_mempool_free(pool);
  rte_eal_cleanup();
}

}  // namespace kbt::support
