#pragma once
// The retransmission timer's value for one connection: RFC 6298's smoothed
// RTT (SRTT), RTT variation (RTTVAR) and RTO, with exponential backoff, plus
// the latest and the smallest RTT seen (for congestion control: HyStart,
// delay signals).
//
// Pure arithmetic: the caller measures an RTT (now minus the send time it
// remembered, or minus the time echoed in TSecr) and hands it in; nothing
// here reads a clock or allocates.
//
// Karn's algorithm is the CALLER's job (RFC 6298 §3): do not take a sample
// from a segment that was retransmitted, because its ACK may answer either
// transmission, unless the sample comes from the RFC 7323 timestamp option,
// whose echoed TSval names the transmission that was acknowledged
// (RFC 7323 §4), which also says to sample only ACKs that advance the left
// edge of the send window.
//
// Values are kept in nanoseconds as plain integers. The §2.3 update is done
// as (3*RTTVAR + |SRTT-R|)/4 and (7*SRTT + R)/8, so the only rounding is one
// truncated nanosecond per sample, far below the clock granularity G.
#include <cstdint>

#include "base/clock.hh"

namespace kbt::tcp {

struct rtt_config {
  // RFC 6298 §2: G, the clock granularity. Our clock is nanoseconds, but
  // the timer wheel ticks in 1 ms, so an RTO finer than that is not real.
  std::uint64_t granularity_ns = 1'000'000;  // 1 ms
  // RFC 6298 §2.1: RTO before the first sample is 1 s.
  std::uint64_t initial_rto_ns = 1'000'000'000;  // 1 s
  // RFC 6298 §2.4 says the RTO SHOULD be rounded up to at least 1 s. We
  // follow Linux (TCP_RTO_MIN) at 200 ms: §2.4's 1 s dates from coarse
  // 500 ms BSD timers and makes every tail loss in a data centre (RTT of
  // tens of microseconds) cost a full second; the 200 ms floor has two
  // decades of deployment behind it. Configurable for users who want the RFC.
  std::uint64_t min_rto_ns = 200'000'000;  // 200 ms
  // RFC 6298 §2.5: a maximum MAY be placed on RTO provided it is at least
  // 60 s. Also caps the §5.5 backoff.
  std::uint64_t max_rto_ns = 60'000'000'000;  // 60 s
};

class rtt_estimator {
 public:
  // RFC 6298 §5.7: the RTO to use after a SYN timed out and no RTT sample
  // could be taken.
  static constexpr std::uint64_t kSynFallbackRtoNs = 3'000'000'000;  // 3 s
  // Samples above this are clamped (about 18 minutes): longer than any RTO
  // we allow, and it keeps 7*SRTT and K*RTTVAR far from overflowing.
  static constexpr std::uint64_t kMaxSampleNs = std::uint64_t{1} << 40;

  explicit rtt_estimator(const rtt_config& config = {}) noexcept;

  // Forget all samples and backoff (a reused TCB); the config stays.
  void reset() noexcept;

  // A new valid RTT measurement, in ns (RFC 6298 §2.2 for the first,
  // §2.3 for the later ones). Also ends any backoff: the RTO is recomputed
  // from the new SRTT/RTTVAR, "collapsing" it back down (RFC 6298 §5, the
  // note after rule 5.7).
  void on_sample(std::uint64_t rtt_ns) noexcept;

  // RFC 6298 §5.5: the retransmission timer expired: RTO = RTO * 2, capped
  // at max_rto_ns (§2.5). Call once per expiry, before re-arming.
  void on_timeout() noexcept;

  // RFC 6298 §5.7: if the SYN (or SYN-ACK) timed out and the RTO in use is
  // below 3 s, the RTO is re-initialised to 3 s when data transmission
  // begins. Call when the handshake completes after such a timeout. It does
  // nothing once a sample has been taken (possible with timestamps), since
  // measured values beat the fallback, as in Linux's tcp_init_transfer().
  void on_handshake_after_syn_timeout() noexcept;

  // The current retransmission timeout, backoff included.
  [[nodiscard]] std::uint64_t rto_ns() const noexcept { return _rto_ns; }
  [[nodiscard]] base::nanos rto() const noexcept { return base::nanos{_rto_ns}; }
  // SRTT and RTTVAR; 0 until the first sample.
  [[nodiscard]] std::uint64_t srtt_ns() const noexcept { return _srtt_ns; }
  [[nodiscard]] std::uint64_t rttvar_ns() const noexcept { return _rttvar_ns; }
  // The last sample given to on_sample(); 0 until the first.
  [[nodiscard]] std::uint64_t latest_rtt_ns() const noexcept { return _latest_ns; }
  // The smallest sample over the connection's life; 0 until the first. Not
  // windowed: a route change that raises the base RTT is not forgotten.
  [[nodiscard]] std::uint64_t min_rtt_ns() const noexcept { return _min_ns; }
  [[nodiscard]] bool has_sample() const noexcept { return _has_sample; }
  // Number of on_timeout() since the last sample (or reset).
  [[nodiscard]] std::uint32_t backoff_count() const noexcept { return _backoffs; }
  [[nodiscard]] const rtt_config& config() const noexcept { return _config; }

 private:
  // RFC 6298 §2.2/§2.3: RTO = SRTT + max(G, K*RTTVAR), then clamped to
  // [min_rto, max_rto] (§2.4, §2.5).
  [[nodiscard]] std::uint64_t computed_rto() const noexcept;

  rtt_config _config;
  std::uint64_t _srtt_ns = 0;
  std::uint64_t _rttvar_ns = 0;
  std::uint64_t _rto_ns = 0;
  std::uint64_t _latest_ns = 0;
  std::uint64_t _min_ns = 0;
  std::uint32_t _backoffs = 0;
  bool _has_sample = false;
};

}  // namespace kbt::tcp
