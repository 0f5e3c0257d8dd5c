#pragma once
// kbt-load's result: the cores' stats merged after the run, printed as text
// (wrk-like) or as one JSON object, and the verdict that sets the exit code.
#include <cstdint>
#include <string>

#include "load_handler.hh"
#include "load_stats.hh"

namespace kbt::load {

struct run_summary {
  std::uint64_t responses = 0;
  std::uint64_t ok = 0;
  std::uint64_t non2xx = 0;
  status_counts statuses;
  std::uint64_t connects = 0;
  std::uint64_t syn_retransmitted = 0;
  std::uint64_t connect_deferred = 0;
  std::uint64_t body_bytes = 0;
  std::uint64_t errors = 0;
  std::uint64_t errors_by_kind[kErrorKinds] = {};
  std::uint64_t pending_connects = 0;
  std::uint64_t pending_requests = 0;
  double seconds = 0;  // the longest core's run
  latency_histogram latency;
};

run_summary merge(const run_state& run);

struct report_context {
  std::string url;
  const load_config* config = nullptr;
  unsigned cores = 0;
};

void print_text(const run_summary& s, const report_context& r);
void print_json(const run_summary& s, const report_context& r);

// Empty when the run passed (something completed, nothing failed);
// otherwise one line saying why it did not.
std::string verdict(const run_summary& s, const report_context& r);

}  // namespace kbt::load
