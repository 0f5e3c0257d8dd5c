#pragma once
// Time for one core's loop, in nanoseconds since the clock was made. The
// engine reads it once per iteration and hands `now` to everything below
// it; TCP code never reads a clock itself, so the simulator can give it a
// virtual one instead.
#include <rte_cycles.h>
#include <time.h>

#include <chrono>
#include <cstdint>

namespace kbt::base {

// A length of time in ns. Unsigned, as the loop's arithmetic has always
// been: `now - stamp` of a stamp taken at or before now is exact, and one
// taken "later" (a stamp of 0 read as "never") wraps to a huge age rather
// than a negative one, which every comparison below treats as "long ago".
using nanos = std::chrono::duration<std::uint64_t, std::nano>;

// The clock of one core's loop: its readings start at 0 when the loop's
// clock is made (tsc_clock) or at the simulator's start. It is not a wall
// clock, and readings from two cores' clocks are not comparable.
struct loop_clock {
  using rep = std::uint64_t;
  using period = std::nano;
  using duration = nanos;
  using time_point = std::chrono::time_point<loop_clock, nanos>;
  static constexpr bool is_steady = true;
};

// A reading of the loop's clock: what TCP, the timer wheel and the
// engine take as `now`, and what they keep as stamps.
using instant = loop_clock::time_point;

// The edges to plain counts (command-line values, the simulator's clock, logs).
constexpr instant instant_from_ns(std::uint64_t ns) noexcept { return instant{nanos{ns}}; }
constexpr std::uint64_t ns_since_start(instant t) noexcept { return t.time_since_epoch().count(); }

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

  instant now() const noexcept {
    const auto cycles = static_cast<uint128_t>(rte_rdtsc() - _start);
    return instant_from_ns(static_cast<std::uint64_t>((cycles * _mult) >> 32));
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
