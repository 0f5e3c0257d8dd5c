#pragma once
// What each core of kbt-load counts, and what the cores share. Each core
// writes only its own core_stats (alignas(64), l3fwd's lcore_conf); the
// progress counters are atomics that core 0 reads once a second for the
// progress line; everything else is read after run_app() has returned and
// the cores have stopped. Owned by main(), so it outlives the handlers.
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "latency_histogram.hh"
#include "status_counts.hh"

namespace kbt::load {

// Why a request or connection failed (the summary's "errors by kind").
enum class error_kind : std::uint8_t {
  connect,  // refused (RST to our SYN), SYN unanswered within --timeout, or no handshake
  reset,    // the server reset an established connection
  timeout,  // no whole response within --timeout of sending the request
  closed,   // the server closed before the response was complete
  parse,    // not an HTTP/1.x response we can follow
  count_,
};
inline constexpr std::size_t kErrorKinds = static_cast<std::size_t>(error_kind::count_);
inline constexpr const char* kErrorNames[kErrorKinds] = {"connect", "reset", "timeout", "closed",
                                                         "parse"};

// A counter one core writes and another may read while it runs.
class shared_counter {
 public:
  void add(std::uint64_t n = 1) noexcept {
    _v.store(_v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  std::uint64_t get() const noexcept { return _v.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> _v{0};
};

struct alignas(64) core_stats {
  // Read by core 0 while the load runs.
  shared_counter responses;  // whole responses, any status
  shared_counter errors;
  // Read after the run.
  std::uint64_t ok = 0;      // 2xx and 3xx
  std::uint64_t non2xx = 0;  // every other status
  status_counts statuses;    // whole responses by status code
  std::uint64_t connects = 0;          // handshakes completed
  std::uint64_t syn_retransmitted = 0;  // of those, handshakes whose SYN went again (>= 1 s each)
  std::uint64_t connect_deferred = 0;  // connect() found no TCB or port free: tried again later
  std::uint64_t body_bytes = 0;
  std::uint64_t errors_by_kind[kErrorKinds] = {};
  std::uint64_t pending_connects_at_end = 0;
  std::uint64_t pending_requests_at_end = 0;
  std::uint64_t elapsed_ns = 0;  // from the start of the load to this core's end
  latency_histogram latency;     // ns from the request's (scheduled) start to the response's end
};

// Shared by every core's handler.
struct run_state {
  std::vector<std::unique_ptr<core_stats>> cores;  // filled before the run, fixed during it
  std::atomic<bool> time_up{false};    // core 0: --duration is over, every core stops
  std::atomic<unsigned> finished{0};   // cores that have stopped and closed their connections
  unsigned core_count = 0;
};

}  // namespace kbt::load
