#pragma once
// Time for one core's loop, in nanoseconds since the clock was made. The
// engine reads it once per iteration and hands `now_ns` to everything below
// it; TCP code never reads a clock itself, so the simulator can give it a
// virtual one instead.
#include <rte_cycles.h>
#include <time.h>

#include <cstdint>

namespace kbt::base {

// -Wpedantic rejects __int128 in a type name unless marked as an extension.
__extension__ using uint128_t = unsigned __int128;

class tsc_clock {
 public:
  tsc_clock() noexcept : _start(rte_rdtsc()) {
    const std::uint64_t hz = rte_get_tsc_hz();
    // ns = cycles * 2^32 / (hz / 1e9 * 2^32): a multiply and a shift instead
    // of a division per read.
    _mult = static_cast<std::uint64_t>((static_cast<uint128_t>(1'000'000'000ULL) << 32) /
                                       (hz == 0 ? 1 : hz));
  }

  std::uint64_t now_ns() const noexcept {
    const auto cycles = static_cast<uint128_t>(rte_rdtsc() - _start);
    return static_cast<std::uint64_t>((cycles * _mult) >> 32);
  }

 private:
  std::uint64_t _start;
  std::uint64_t _mult;
};

// CLOCK_MONOTONIC in ns: time since boot, the same in every process. Read
// once per core at start-up (tcp_layer::set_clock_origin) so that ISNs and
// TSvals go on growing from one process to the next (RFC 6528 §3, RFC 7323
// §5.4), never on the packet path.
inline std::uint64_t monotonic_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

inline constexpr std::uint64_t kNsPerMs = 1'000'000;
inline constexpr std::uint64_t kNsPerSec = 1'000'000'000;

}  // namespace kbt::base
