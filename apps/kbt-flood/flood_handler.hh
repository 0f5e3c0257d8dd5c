#pragma once
// kbt-flood's per-core work: after the target's MAC is known, send spoofed
// SYNs at this core's share of --rate (a token bucket refilled each loop
// iteration), for --duration; core 0 also prints the per-second line and
// stops the stack once every core is done (or the target never answered ARP).
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "api/app.hh"
#include "core/counters.hh"
#include "attack_packet.hh"
#include "syn_packet.hh"

namespace kbt::flood {

struct flood_config {
  wire::ipv4_addr target;
  std::uint16_t port = 0;
  wire::ipv4_prefix sources;
  wire::ipv4_addr own;          // never used as a source
  double rate = 0;              // SYNs/s over all cores; 0: as fast as the port takes
  std::uint64_t duration_ns = 0;
  std::uint64_t arp_timeout_ns = 0;
  attack_kind kind = attack_kind::syn;
  std::uint16_t payload_max = 0;  // each packet's payload: random in [0, payload_max]
};

// One core's tallies, written by that core only, read by core 0 and main.
struct alignas(64) core_tally {
  base::counter sent;     // SYNs handed to the engine for the wire
  base::counter no_mbuf;  // SYNs not built: the pool was empty
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> first_ns{0};  // when this core sent its first SYN
  std::atomic<std::uint64_t> last_ns{0};   // and when it stopped
  // The engine's refusals (tx queue full, ARP queue overflow), copied here
  // after each burst: the engine and its counters end with the stack,
  // before main prints the summary.
  std::atomic<std::uint64_t> refused{0};
};

// What outlives the handlers: made before the stack, read after it stopped.
struct flood_run {
  std::vector<std::unique_ptr<core_tally>> cores;
  std::atomic<bool> unresolved{false};  // the target never answered ARP
  // Frames the engines could not send: the tx queue was full, or ARP
  // resolution was still pending when its queue overflowed.
  std::uint64_t refused() const noexcept;
  std::uint64_t sent() const noexcept;
  std::uint64_t no_mbuf() const noexcept;
};

class flood_handler {
 public:
  static constexpr std::uint32_t kMaxBurst = 64;

  flood_handler(api::core_context& ctx, const flood_config& cfg, flood_run& run,
                unsigned cores) noexcept;

  void on_poll(api::core_context& ctx) noexcept;

 private:
  bool target_ready(api::core_context& ctx) noexcept;
  void send(api::core_context& ctx, std::uint32_t n) noexcept;
  void report(std::uint64_t now) noexcept;
  void finish(std::uint64_t now) noexcept;
  bool all_done() const noexcept;

  const flood_config* _cfg;
  flood_run* _run;
  core_tally* _tally;
  source_range _sources;
  fast_random _random;
  wire::ipv4_addr _next_hop;
  double _rate_ns;  // this core's SYNs per nanosecond; 0: unlimited
  double _credit = 0;
  std::uint64_t _begin_ns = 0;  // first poll
  std::uint64_t _start_ns = 0;  // target resolved: flooding from here
  std::uint64_t _last_ns = 0;
  std::uint64_t _next_probe_ns = 0;
  std::uint64_t _next_report_ns = 0;
  std::uint64_t _reported_sent = 0;
  std::uint64_t _reported_refused = 0;
  unsigned _seconds = 0;
  bool _done = false;
};

}  // namespace kbt::flood
