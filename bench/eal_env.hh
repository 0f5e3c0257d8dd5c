#pragma once
// The EAL and an mbuf pool for benchmarks that need real rte_mbufs. Started
// on first use, with the same flags as the unit tests (no hugepages, no PCI,
// no shared config), so benchmarks that do not need DPDK pay nothing and the
// binary keeps Google Benchmark's own main().
#include <rte_mbuf.h>

namespace kbt::bench {

// A pool of 16383 mbufs with the default data room. Aborts with a message if
// the EAL cannot start: a benchmark has no useful way to go on without it.
rte_mempool* mbuf_pool() noexcept;

}  // namespace kbt::bench
