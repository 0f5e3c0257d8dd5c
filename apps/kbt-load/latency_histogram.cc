#include "latency_histogram.hh"

#include <algorithm>
#include <cmath>

namespace kbt::load {

static_assert(latency_histogram::index_of(latency_histogram::kMaxTrackable) ==
              latency_histogram::kBuckets - 1);
static_assert(latency_histogram::highest_in(latency_histogram::kBuckets - 1) ==
              latency_histogram::kMaxTrackable);

void latency_histogram::merge(const latency_histogram& o) noexcept {
  for (std::size_t i = 0; i < kBuckets; ++i) _counts[i] += o._counts[i];
  _count += o._count;
  _sum += o._sum;
  _max = std::max(_max, o._max);
  _min = std::min(_min, o._min);
}

std::uint64_t latency_histogram::value_at_percentile(double percentile) const noexcept {
  if (_count == 0) return 0;
  const double p = std::clamp(percentile, 0.0, 100.0);
  // The rank of the value wanted, 1-based: at least one value, at most all.
  auto rank = static_cast<std::uint64_t>(std::ceil(p / 100.0 * static_cast<double>(_count)));
  rank = std::clamp<std::uint64_t>(rank, 1, _count);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += _counts[i];
    if (seen >= rank) return std::min(highest_in(i), max());
  }
  return max();
}

}  // namespace kbt::load
