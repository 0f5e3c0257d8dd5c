#include "eal_start.hh"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>

#include <unistd.h>

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace kbt::support {

rte_mempool* start_eal_with_pool(const char* program, unsigned memory_mb, const char* pool_name,
                                 unsigned mbufs) noexcept {
  // A file prefix of this process's own: test binaries run side by side.
  std::string_view base = program;
  if (const auto slash = base.rfind('/'); slash != std::string_view::npos) {
    base.remove_prefix(slash + 1);
  }
  const std::string prefix = std::string(base) + "-" + std::to_string(::getpid());
  std::vector<std::string> args = {program,    "--no-huge", "-m",
                                   std::to_string(memory_mb), "--no-shconf", "--no-pci",
                                   "-l",       "0",         "--log-level=lib.*:warning",
                                   "--no-telemetry", "--file-prefix=" + prefix};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  if (rte_eal_init(static_cast<int>(argv.size()), argv.data()) < 0) {
    std::fprintf(stderr, "%s: rte_eal_init failed: %s\n", program, rte_strerror(rte_errno));
    return nullptr;
  }
  // With --no-shconf and no telemetry the EAL keeps nothing in its runtime
  // directory (no config file, no IPC socket), yet it makes one: remove it
  // now, so that no run leaves one behind, also one that never reaches
  // stop_eal (a fuzzer exits from libFuzzer). rmdir leaves a non-empty one.
  ::rmdir(rte_eal_get_runtime_dir());
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
