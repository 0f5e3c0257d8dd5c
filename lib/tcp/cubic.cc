#include "tcp/cubic.hh"

#include <algorithm>
#include <cmath>

namespace kbt::tcp {

namespace {

// The largest window in bytes we ever return; congestion_control caps cwnd
// again, this only keeps the double-to-integer conversions defined.
constexpr double kMaxWindowBytes = 4'000'000'000.0;

// Start a congestion avoidance stage (§4.2) with the current cwnd.
void start_epoch(cubic_state& s, std::uint32_t cwnd, std::uint32_t smss,
                 std::uint64_t now_ns) noexcept {
  s.in_epoch = true;
  s.epoch_start_ns = now_ns;
  s.cwnd_epoch = cwnd;
  if (cwnd < s.w_max) {
    // §4.2 eq. 2: K = cubic_root((W_max - cwnd_epoch) / C), in segments.
    // After a loss with FlightSize = W_max this is cbrt(W_max*(1-beta)/C).
    const double segments = static_cast<double>(s.w_max - cwnd) / static_cast<double>(smss);
    s.k_s = std::cbrt(segments / kCubicC);
  } else {
    // At or above the old saturation point (or after a timeout, §4.8, or
    // before any loss): start on the plateau, K = 0 and W_max = cwnd, as
    // Linux's bictcp_update does. eq. 2 would give a negative K and a
    // curve that starts with convex growth from below cwnd_epoch.
    s.k_s = 0.0;
    s.w_max = cwnd;
  }
  // §4.3: W_est starts at cwnd_epoch; §4.8 asks the same after a timeout.
  s.w_est = cwnd;
  s.est_rem = 0;
  s.grow_rem = 0;
  s.alpha_is_one = s.w_est >= s.cwnd_prior;
}

// §4.3 eq. 4: W_est += alpha_cubic * segments_acked / cwnd, in bytes
// alpha * SMSS * bytes_acked / cwnd, remainder carried.
void grow_w_est(cubic_state& s, std::uint32_t cwnd, std::uint32_t smss,
                std::uint32_t bytes_acked) noexcept {
  const std::uint64_t num = s.alpha_is_one ? 1 : kCubicAlphaNum;
  const std::uint64_t den = s.alpha_is_one ? 1 : kCubicAlphaDen;
  const std::uint64_t step = den * cwnd;
  s.est_rem += num * smss * bytes_acked;
  if (s.est_rem >= step) {
    const std::uint64_t inc = s.est_rem / step;
    s.est_rem -= inc * step;
    s.w_est = static_cast<std::uint32_t>(std::min<std::uint64_t>(s.w_est + inc, UINT32_MAX));
  }
  // §4.3: once W_est has reached cwnd_prior, alpha_cubic SHOULD be 1 so the
  // flow grows as fast as Reno's AIMD(1, 0.5) would.
  if (!s.alpha_is_one && s.w_est >= s.cwnd_prior) {
    s.alpha_is_one = true;
    s.est_rem = 0;  // it was counted in 17ths
  }
}

}  // namespace

void cubic_reset(cubic_state& s) noexcept { s = cubic_state{}; }

std::uint32_t cubic_avoidance(cubic_state& s, std::uint32_t cwnd, std::uint32_t smss,
                              std::uint32_t bytes_acked, std::uint64_t now_ns,
                              std::uint64_t srtt_ns) noexcept {
  if (!s.in_epoch) start_epoch(s, cwnd, smss, now_ns);
  const std::uint64_t t_ns = now_ns > s.epoch_start_ns ? now_ns - s.epoch_start_ns : 0;

  grow_w_est(s, cwnd, smss, bytes_acked);

  // §4.3: where W_cubic(t) is below W_est, CUBIC is Reno-friendly and cwnd
  // SHOULD be set to W_est. Never shrink: cwnd may already be above W_est
  // because the cubic target looks one RTT ahead.
  if (cubic_window(s, smss, t_ns) < static_cast<double>(s.w_est)) {
    return std::max(cwnd, s.w_est);
  }

  // §4.4 (concave, cwnd < W_max) and §4.5 (convex): target = W_cubic(t+RTT)
  // kept within [cwnd, 1.5*cwnd], so growth never reverses and never beats
  // slow start; cwnd grows by (target - cwnd)/cwnd per SMSS acknowledged.
  const double lo = static_cast<double>(cwnd);
  const double target = std::clamp(cubic_window(s, smss, t_ns + srtt_ns), lo,
                                   std::min(1.5 * lo, kMaxWindowBytes));
  const auto gap = static_cast<std::uint64_t>(target) - cwnd;
  // gap <= cwnd/2 < 2^31 and bytes_acked < 2^32: the product fits.
  s.grow_rem += gap * bytes_acked;
  if (s.grow_rem < cwnd) return cwnd;
  const std::uint64_t inc = s.grow_rem / cwnd;
  s.grow_rem -= inc * cwnd;
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(cwnd + inc, UINT32_MAX));
}

std::uint32_t cubic_on_congestion(cubic_state& s, std::uint32_t cwnd, std::uint32_t flight_size,
                                  std::uint32_t smss) noexcept {
  // §4.7 fast convergence: a loss below the previous W_max means the
  // available capacity shrank (a new flow arrived), so release some by
  // aiming lower: W_max = cwnd * (1 + beta_cubic) / 2.
  if (cwnd < s.w_max) {
    s.w_max = static_cast<std::uint32_t>(std::uint64_t{cwnd} * (kCubicBetaDen + kCubicBetaNum) /
                                         (2 * kCubicBetaDen));
  } else {
    s.w_max = cwnd;
  }
  // §4.6: cwnd_prior = cwnd (for the Reno-friendly region), and
  // ssthresh = max(FlightSize * beta_cubic, 2*SMSS). The RFC allows cwnd
  // in place of FlightSize only with extra care for app-limited flows; we
  // use FlightSize like RFC 5681.
  s.cwnd_prior = cwnd;
  s.in_epoch = false;
  const std::uint64_t reduced = std::uint64_t{flight_size} * kCubicBetaNum / kCubicBetaDen;
  return static_cast<std::uint32_t>(std::max<std::uint64_t>(reduced, 2 * std::uint64_t{smss}));
}

void cubic_on_timeout(cubic_state& s) noexcept {
  // §4.8: K = 0 and W_max = the cwnd at the start of the next congestion
  // avoidance stage; start_epoch() does both when W_max is below cwnd.
  s.w_max = 0;
  s.in_epoch = false;
}

void cubic_on_idle(cubic_state& s, std::uint64_t idle_ns, std::uint64_t now_ns) noexcept {
  if (!s.in_epoch) return;
  // §5.8: t excludes the idle time. Never move the start past now.
  const std::uint64_t elapsed = now_ns > s.epoch_start_ns ? now_ns - s.epoch_start_ns : 0;
  s.epoch_start_ns += idle_ns < elapsed ? idle_ns : elapsed;
}

}  // namespace kbt::tcp
