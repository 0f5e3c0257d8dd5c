#pragma once
// The simulator's only source of randomness. A failing seed must replay
// bit for bit on any machine and any standard library, so everything here is
// derived from the raw 64-bit output of std::mt19937_64 (whose sequence the
// standard fixes) with integer arithmetic or exactly-rounded double
// operations. The <random> distributions are not used: their algorithms are
// left to each library and differ between libstdc++ and libc++.
#include <cstdint>
#include <random>

namespace kbt::sim {

// SplitMix64 (Steele, Lea, Flood 2014): turns one seed into well-spread
// sub-seeds, so the two links of a world never share a stream even for
// neighbouring seeds like 1 and 2.
constexpr std::uint64_t splitmix64(std::uint64_t& state) noexcept {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// The n-th sub-seed of `seed` (n = 0, 1, ...).
constexpr std::uint64_t sub_seed(std::uint64_t seed, std::uint64_t n) noexcept {
  std::uint64_t state = seed ^ (0xd1b54a32d192ed03ULL * (n + 1));
  return splitmix64(state);
}

class prng {
 public:
  explicit prng(std::uint64_t seed) : _engine(seed) {}

  std::uint64_t next() noexcept { return _engine(); }

  // Uniform in [0, 1) with 53 random bits: exact in a double.
  double uniform01() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  // True with probability p; p <= 0 never, p >= 1 always. Draws nothing
  // when p <= 0, so a disabled impairment does not shift the stream.
  bool chance(double p) noexcept { return p > 0.0 && uniform01() < p; }

  // Uniform in [0, n), n > 0, without modulo bias (rejects the short tail).
  std::uint64_t below(std::uint64_t n) noexcept {
    const std::uint64_t threshold = (0 - n) % n;
    for (;;) {
      const std::uint64_t r = next();
      if (r >= threshold) return r % n;
    }
  }

 private:
  std::mt19937_64 _engine;
};

}  // namespace kbt::sim
