#include "histogram_output.hh"

#include <cmath>
#include <cstdint>

namespace kbt::load {
namespace {

constexpr double kNsPerMs = 1e6;
constexpr int kTicksPerHalfDistance = 5;  // HdrHistogram's default

// Values <= v (v the top of its bucket, or max).
std::uint64_t count_up_to(const latency_histogram& h, std::uint64_t v) {
  const std::uint64_t top =
      v < latency_histogram::kMaxTrackable ? v : latency_histogram::kMaxTrackable;
  std::uint64_t n = 0;
  for (std::size_t i = 0; i <= latency_histogram::index_of(top); ++i) n += h.count_in(i);
  return n;
}

}  // namespace

bool write_percentile_distribution(const latency_histogram& h, std::FILE* out) {
  std::fprintf(out, "%12s %14s %10s %14s\n\n", "Value", "Percentile", "TotalCount",
               "1/(1-Percentile)");
  const std::uint64_t total = h.count();
  if (total > 0) {
    // 0 %, then steps that halve each time half of what is left to 100 % is
    // covered: 10 % steps to 50 %, 5 % to 75 %, 2.5 % to 87.5 %, ...
    double p = 0;
    for (int line = 0; line < 200; ++line) {
      const std::uint64_t v = h.value_at_percentile(p);
      const std::uint64_t n = count_up_to(h, v);
      const double fraction = static_cast<double>(n) / static_cast<double>(total);
      if (n >= total) {
        std::fprintf(out, "%12.3f %14.12f %10llu\n", static_cast<double>(h.max()) / kNsPerMs, 1.0,
                     static_cast<unsigned long long>(total));
        break;
      }
      std::fprintf(out, "%12.3f %14.12f %10llu %14.2f\n", static_cast<double>(v) / kNsPerMs,
                   p / 100.0, static_cast<unsigned long long>(n), 1.0 / (1.0 - p / 100.0));
      // Past the last distinct value, jump to it rather than tick on.
      const double halvings = std::floor(std::log2(100.0 / (100.0 - p))) + 1;
      p += 100.0 / (kTicksPerHalfDistance * std::pow(2.0, halvings));
      if (fraction * 100.0 > p) p = fraction * 100.0;
    }
  }
  // The standard deviation from the buckets' tops, as HdrHistogram computes
  // it from its equivalent values.
  double var = 0;
  const double mean = h.mean();
  for (std::size_t i = 0; i < latency_histogram::kBuckets; ++i) {
    if (h.count_in(i) == 0) continue;
    const double d = static_cast<double>(latency_histogram::highest_in(i)) - mean;
    var += d * d * static_cast<double>(h.count_in(i));
  }
  const double sd = total > 0 ? std::sqrt(var / static_cast<double>(total)) : 0.0;
  std::fprintf(out, "#[Mean    = %12.3f, StdDeviation   = %12.3f]\n", mean / kNsPerMs, sd / kNsPerMs);
  std::fprintf(out, "#[Max     = %12.3f, Total count    = %12llu]\n",
               static_cast<double>(h.max()) / kNsPerMs, static_cast<unsigned long long>(total));
  std::fprintf(out, "#[Buckets = %12zu, SubBuckets     = %12llu]\n", latency_histogram::kBuckets,
               static_cast<unsigned long long>(latency_histogram::kSubBuckets));
  return std::fflush(out) == 0 && std::ferror(out) == 0;
}

}  // namespace kbt::load
