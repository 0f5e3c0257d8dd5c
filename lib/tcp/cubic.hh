#pragma once
// CUBIC's window arithmetic (RFC 9438), in bytes. Only what differs from
// NewReno lives here: growth in congestion avoidance (§4.2-§4.5), the
// multiplicative decrease with fast convergence (§4.6, §4.7) and the
// timeout rule (§4.8). Slow start and the recovery window bookkeeping are
// shared and live in congestion_control.
//
// The RFC counts windows in segments; we count bytes. W_cubic in bytes is
// SMSS * (C*(t-K)^3 + W_max/SMSS), so C is scaled by SMSS and K is computed
// from (W_max - cwnd_epoch) / SMSS. The per-ACK increments (§4.3, §4.4)
// come out as (target - cwnd) * bytes_acked / cwnd and
// alpha * SMSS * bytes_acked / cwnd bytes, with the remainder carried so
// that small increments are not lost to integer division.
//
// Cost per ACK: two evaluations of the cubic (t and t+RTT: a subtraction
// and three multiplications each, in double) and two integer divisions.
// The one cube root is taken when an epoch starts, i.e. once per
// congestion event.
#include <cstdint>

namespace kbt::tcp {

// RFC 9438 §4.1.1 constants.
inline constexpr double kCubicC = 0.4;      // segments / s^3
inline constexpr double kCubicBeta = 0.7;   // multiplicative decrease factor
// beta_cubic = 7/10 and (1 + beta_cubic)/2 = 17/20 (§4.7), as integer
// ratios so the decrease is exact in bytes.
inline constexpr std::uint32_t kCubicBetaNum = 7;
inline constexpr std::uint32_t kCubicBetaDen = 10;
// §4.3: alpha_cubic = 3 * (1 - beta) / (1 + beta) = 0.9 / 1.7 = 9/17.
inline constexpr std::uint32_t kCubicAlphaNum = 9;
inline constexpr std::uint32_t kCubicAlphaDen = 17;

// Trivial on purpose (see newreno_state). Read-only for users: the fields
// are public for tests and telemetry.
struct cubic_state {
  std::uint64_t epoch_start_ns;  // §4.1.2 epoch_start, valid when in_epoch
  double k_s;                    // §4.2 K, in seconds
  std::uint32_t w_max;           // §4.1.2 W_max, bytes (0: none known)
  std::uint32_t cwnd_prior;      // §4.6 cwnd before the last reduction, bytes
  std::uint32_t cwnd_epoch;      // §4.2 cwnd when this epoch began, bytes
  std::uint32_t w_est;           // §4.3 W_est, bytes
  std::uint64_t est_rem;         // §4.3 growth of W_est not yet a whole byte
  std::uint64_t grow_rem;        // §4.4 growth of cwnd not yet a whole byte
  bool in_epoch;                 // a congestion avoidance stage is running
  bool alpha_is_one;             // §4.3: W_est reached cwnd_prior
};

void cubic_reset(cubic_state& s) noexcept;

// W_cubic(t) of RFC 9438 §4.2 eq. 1, in bytes, for t nanoseconds into
// the current epoch. Meaningful only while s.in_epoch.
[[nodiscard]] inline double cubic_window(const cubic_state& s, std::uint32_t smss,
                                         std::uint64_t t_ns) noexcept {
  const double d = static_cast<double>(t_ns) * 1e-9 - s.k_s;
  return kCubicC * static_cast<double>(smss) * d * d * d + static_cast<double>(s.w_max);
}

// Congestion avoidance for an ACK of `bytes_acked` new bytes at now_ns;
// returns the new cwnd. `srtt_ns` is the smoothed RTT (§4.2: target is
// W_cubic(t + RTT)). Starts an epoch if none is running.
std::uint32_t cubic_avoidance(cubic_state& s, std::uint32_t cwnd, std::uint32_t smss,
                              std::uint32_t bytes_acked, std::uint64_t now_ns,
                              std::uint64_t srtt_ns) noexcept;

// A congestion event (§4.6, with §4.7 fast convergence): remembers
// cwnd_prior and W_max, ends the epoch and returns the new ssthresh,
// max(FlightSize * beta_cubic, 2*SMSS). The caller sets cwnd.
std::uint32_t cubic_on_congestion(cubic_state& s, std::uint32_t cwnd, std::uint32_t flight_size,
                                  std::uint32_t smss) noexcept;

// After a retransmission timeout (§4.8): the first congestion avoidance
// stage afterwards uses K = 0 and W_max = cwnd at its start, and W_est
// starts from that cwnd too.
void cubic_on_timeout(cubic_state& s) noexcept;

// Sending resumes after `idle_ns` without data in flight (§5.8): the
// elapsed time t must not include periods in which cwnd was not used, so
// the epoch start moves forward by the idle time (as Linux does on
// CA_EVENT_TX_START).
void cubic_on_idle(cubic_state& s, std::uint64_t idle_ns, std::uint64_t now_ns) noexcept;

}  // namespace kbt::tcp
