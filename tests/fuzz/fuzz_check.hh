#pragma once
// What every fuzz target shares: an invariant check that stops the run with
// a message saying which rule broke (libFuzzer then saves the input), and
// the EAL, started once per process because it cannot be restarted.
#include <rte_mempool.h>

#include <cstdio>
#include <cstdlib>

// Not assert(): the check must hold in every build type, and the message
// must reach the crash log before abort() makes libFuzzer write the input.
#define FUZZ_CHECK(cond, ...)                                              \
  do {                                                                     \
    if (!(cond)) [[unlikely]] {                                            \
      std::fprintf(stderr, "\nINVARIANT BROKEN at %s:%d: %s\n  ", __FILE__, \
                   __LINE__, #cond);                                       \
      std::fprintf(stderr, __VA_ARGS__);                                   \
      std::fprintf(stderr, "\n");                                          \
      std::abort();                                                        \
    }                                                                      \
  } while (0)

namespace kbt::fuzz {

// Starts the EAL (no hugepages, no PCI) and makes the one mbuf pool, or
// exits: without them no input can run. Call from LLVMFuzzerInitialize.
void start_eal(const char* program);
rte_mempool* pool() noexcept;

}  // namespace kbt::fuzz
