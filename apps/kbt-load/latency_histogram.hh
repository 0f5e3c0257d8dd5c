#pragma once
// A log-linear latency histogram in the manner of HdrHistogram: values below
// 128 are counted exactly; above, each power of two is split into 128
// buckets, so a value is known to within 1/128 (< 0.8 %). The buckets are a
// fixed array (about 34 KiB): recording is a few shifts and an increment,
// never an allocation. Values are nanoseconds here, but nothing depends on
// the unit. One core records into its own; merge() adds them at the end.
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace kbt::load {

class latency_histogram {
 public:
  static constexpr unsigned kSubBits = 7;
  static constexpr std::uint64_t kSubBuckets = std::uint64_t{1} << kSubBits;  // per power of two
  // Values from 2^kMaxBits up (about 18 minutes in ns) land in the top bucket.
  static constexpr unsigned kMaxBits = 40;
  static constexpr std::uint64_t kMaxTrackable = (std::uint64_t{1} << kMaxBits) - 1;
  static constexpr std::size_t kBuckets = kSubBuckets * (kMaxBits - kSubBits + 1);

  void record(std::uint64_t value) noexcept {
    const std::uint64_t v = value < kMaxTrackable ? value : kMaxTrackable;
    ++_counts[index_of(v)];
    ++_count;
    _sum += value;
    if (value > _max) _max = value;
    if (value < _min) _min = value;
  }
  void merge(const latency_histogram& o) noexcept;

  std::uint64_t count() const noexcept { return _count; }
  std::uint64_t max() const noexcept { return _count == 0 ? 0 : _max; }
  std::uint64_t min() const noexcept { return _count == 0 ? 0 : _min; }
  double mean() const noexcept {
    return _count == 0 ? 0.0 : static_cast<double>(_sum) / static_cast<double>(_count);
  }
  // The smallest value v such that at least `percentile` % of the recorded
  // values are <= v, given as the top of v's bucket (never above max()).
  // 0 when empty.
  std::uint64_t value_at_percentile(double percentile) const noexcept;

  // Values recorded in bucket i.
  std::uint64_t count_in(std::size_t i) const noexcept { return _counts[i]; }

  // The bucket of `v` (v <= kMaxTrackable), and the highest value in bucket i.
  static constexpr std::size_t index_of(std::uint64_t v) noexcept {
    if (v < kSubBuckets) return static_cast<std::size_t>(v);
    const unsigned top = static_cast<unsigned>(std::bit_width(v)) - 1;  // >= kSubBits
    const unsigned shift = top - kSubBits;
    return static_cast<std::size_t>(kSubBuckets * (shift + 1) + ((v >> shift) - kSubBuckets));
  }
  static constexpr std::uint64_t highest_in(std::size_t i) noexcept {
    if (i < kSubBuckets) return i;
    const std::uint64_t shift = i / kSubBuckets - 1;
    const std::uint64_t low = (kSubBuckets + i % kSubBuckets) << shift;
    return low + (std::uint64_t{1} << shift) - 1;
  }

 private:
  std::array<std::uint64_t, kBuckets> _counts{};
  std::uint64_t _count = 0;
  std::uint64_t _sum = 0;
  std::uint64_t _max = 0;
  std::uint64_t _min = std::numeric_limits<std::uint64_t>::max();
};

}  // namespace kbt::load
