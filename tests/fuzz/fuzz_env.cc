#include "fuzz_check.hh"

#include <cstdio>
#include <cstdlib>

#include "eal_start.hh"

namespace kbt::fuzz {
namespace {
rte_mempool* g_pool = nullptr;
}

void start_eal(const char* program) {
  if (g_pool != nullptr) return;
  // 8191 mbufs: a script holds at most a few hundred at once (receive and
  // send buffers, the out queue); the rest is headroom for a leak to show
  // as a count mismatch rather than as an allocation failure first.
  g_pool = support::start_eal_with_pool(program, 128, "kbt_fuzz_pool", 8191);
  if (g_pool == nullptr) {
    std::fprintf(stderr, "%s: cannot start the EAL; see above\n", program);
    std::exit(1);
  }
}

rte_mempool* pool() noexcept { return g_pool; }

}  // namespace kbt::fuzz
