#pragma once
// The EAL as test, simulation and benchmark binaries start it: no hugepages,
// no PCI scan, no shared config, one lcore, quiet logs, and one mbuf pool.
#include <rte_mempool.h>

namespace kbt::support {

// Starts the EAL (`memory_mb` of it) and makes a pool of `mbufs` named
// `pool_name`. Returns nullptr after printing why on stderr.
rte_mempool* start_eal_with_pool(const char* program, unsigned memory_mb, const char* pool_name,
                                 unsigned mbufs) noexcept;

// Frees the pool and cleans the EAL up.
void stop_eal(rte_mempool* pool) noexcept;

}  // namespace kbt::support
