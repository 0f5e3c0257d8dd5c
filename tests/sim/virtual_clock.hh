#pragma once
// The simulator's time: a number the driver moves forward, never a read of
// the TSC or the wall clock. Everything in a simulated run takes `now_ns`
// from here, which is what makes a seed replay exactly.
#include <cstdint>

namespace kbt::sim {

class virtual_clock {
 public:
  explicit constexpr virtual_clock(std::uint64_t start_ns = 0) noexcept : _now_ns(start_ns) {}

  constexpr std::uint64_t now_ns() const noexcept { return _now_ns; }

  // Time never runs backwards: an earlier `t` leaves the clock where it is.
  constexpr void advance_to(std::uint64_t t) noexcept {
    if (t > _now_ns) _now_ns = t;
  }
  constexpr void advance_by(std::uint64_t d) noexcept { _now_ns += d; }

 private:
  std::uint64_t _now_ns;
};

}  // namespace kbt::sim
