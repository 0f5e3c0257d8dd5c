#pragma once
// One counter cell. The owning core is the only writer; the stats and
// telemetry threads read it at any time. An atomic used with relaxed loads
// and stores only, which on x86 compiles to plain moves: no locked
// instruction on the packet path, and no data race for the readers.
#include <atomic>
#include <cstdint>

namespace kbt::base {

class counter {
 public:
  // Single writer: a load and a store, not an atomic read-modify-write.
  void add(std::uint64_t n = 1) noexcept {
    _v.store(_v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  // For gauges (e.g. connections per state), same single-writer rule.
  void sub(std::uint64_t n = 1) noexcept {
    _v.store(_v.load(std::memory_order_relaxed) - n, std::memory_order_relaxed);
  }
  std::uint64_t get() const noexcept { return _v.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> _v{0};
};

}  // namespace kbt::base
