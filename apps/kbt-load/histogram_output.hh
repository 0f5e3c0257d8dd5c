#pragma once
// kbt-load --histogram FILE: the latency histogram as HdrHistogram's
// percentile distribution (outputPercentileDistribution): one line per
// reported percentile with Value (ms), Percentile, TotalCount and
// 1/(1-Percentile), 5 ticks per half distance to 100 %, then the footer
// with Mean, StdDeviation, Max and Total count, so the tools that plot
// wrk2's and HdrHistogram's output read it.
#include <cstdio>

#include "latency_histogram.hh"

namespace kbt::load {

// Writes `h` (values in ns) to `out`; returns false if a write failed.
bool write_percentile_distribution(const latency_histogram& h, std::FILE* out);

}  // namespace kbt::load
