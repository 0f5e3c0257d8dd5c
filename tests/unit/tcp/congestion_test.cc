// Congestion control: slow start and NewReno (RFC 5681, RFC 3465, RFC 6582,
// RFC 6675 entry), CUBIC (RFC 9438). Expected values are computed here
// from the RFC formulas, independently of the code under test.
#include "tcp/congestion.hh"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace kbt::tcp {
namespace {

constexpr std::uint64_t kMs = 1'000'000;
constexpr std::uint64_t kSec = 1'000'000'000;
constexpr std::uint32_t kSmss = 1000;  // round numbers in bytes

// The algorithm's state, failing the test (not crashing) if the
// connection runs another algorithm.
const cubic_state& cubic_of(const congestion_control& cc) {
  static const cubic_state kNone{};
  const cubic_state* s = cc.cubic();
  if (s == nullptr) {
    ADD_FAILURE() << "not a CUBIC connection";
    return kNone;
  }
  return *s;
}

const newreno_state& newreno_of(const congestion_control& cc) {
  static const newreno_state kNone{};
  const newreno_state* s = cc.newreno();
  if (s == nullptr) {
    ADD_FAILURE() << "not a NewReno connection";
    return kNone;
  }
  return *s;
}

// Acks one round trip's worth of data: the cwnd at the start of the round,
// in ACKs of `per_ack` bytes (the last one smaller if need be), spread
// evenly over `rtt` starting at `now` (ACK clocking).
void ack_round(congestion_control& cc, std::uint64_t& now, std::uint64_t rtt,
               std::uint32_t per_ack = kSmss) {
  const std::uint32_t window = cc.cwnd();
  const std::uint32_t acks = (window + per_ack - 1) / per_ack;
  std::uint32_t left = window;
  for (std::uint32_t i = 0; i < acks; ++i) {
    const std::uint32_t n = std::min(left, per_ack);
    cc.on_ack(n, now + rtt * i / acks, rtt);
    left -= n;
  }
  now += rtt;
}

// Slow start from IW up to exactly `target` (a multiple of 2*kSmss above IW).
void grow_to(congestion_control& cc, std::uint32_t target, std::uint64_t now) {
  while (cc.cwnd() < target) cc.on_ack(2 * kSmss, now, 10 * kMs);
  ASSERT_EQ(cc.cwnd(), target);
}

// A connection in congestion avoidance with cwnd = ssthresh = `window`,
// reached through a SACK recovery whose flight was 2*window (NewReno) so
// no CUBIC state is involved for NewReno tests.
congestion_control reno_in_avoidance(std::uint32_t window) {
  congestion_control cc(cc_algorithm::newreno, kSmss, 0);
  cc.on_enter_recovery(2 * window, 0, recovery_kind::sack);
  cc.on_exit_recovery(window);
  EXPECT_EQ(cc.cwnd(), window);
  EXPECT_EQ(cc.ssthresh(), window);
  EXPECT_FALSE(cc.in_slow_start());
  return cc;
}

// ---------------------------------------------------------------- common

TEST(Congestion, ParseAlgorithm) {
  EXPECT_EQ(parse_cc_algorithm("newreno"), cc_algorithm::newreno);
  EXPECT_EQ(parse_cc_algorithm("reno"), cc_algorithm::newreno);
  EXPECT_EQ(parse_cc_algorithm("CUBIC"), cc_algorithm::cubic);
  EXPECT_EQ(parse_cc_algorithm("Cubic"), cc_algorithm::cubic);
  EXPECT_EQ(parse_cc_algorithm(""), std::nullopt);
  EXPECT_EQ(parse_cc_algorithm("bbr"), std::nullopt);
  EXPECT_EQ(parse_cc_algorithm("cubic "), std::nullopt);
  EXPECT_EQ(parse_cc_algorithm(to_string(cc_algorithm::cubic)), cc_algorithm::cubic);
  EXPECT_EQ(parse_cc_algorithm(to_string(cc_algorithm::newreno)), cc_algorithm::newreno);
}

TEST(Congestion, InitialWindowPerRfc6928) {
  // IW = min(10*SMSS, max(2*SMSS, 14600)).
  EXPECT_EQ(congestion_control::initial_window(1460), 14600U);
  EXPECT_EQ(congestion_control::initial_window(536), 5360U);
  EXPECT_EQ(congestion_control::initial_window(1000), 10000U);
  EXPECT_EQ(congestion_control::initial_window(4000), 14600U);
  EXPECT_EQ(congestion_control::initial_window(9000), 18000U);

  for (auto algo : {cc_algorithm::newreno, cc_algorithm::cubic}) {
    congestion_control cc(algo, 1460, 0);
    EXPECT_EQ(cc.algorithm(), algo);
    EXPECT_EQ(cc.cwnd(), 14600U);
    EXPECT_EQ(cc.ssthresh(), congestion_control::kInfiniteSsthresh);
    EXPECT_TRUE(cc.in_slow_start());
    EXPECT_FALSE(cc.in_recovery());
  }
}

TEST(Congestion, InitSanitisesSmssAndResets) {
  congestion_control cc(cc_algorithm::cubic, 0, 0);
  EXPECT_EQ(cc.smss(), congestion_control::kDefaultSmss);
  cc.init(cc_algorithm::newreno, 100'000, 0);
  EXPECT_EQ(cc.smss(), 65'535U);
  // A reused TCB: losses and algorithm are forgotten.
  cc.init(cc_algorithm::cubic, kSmss, 0);
  cc.on_rto(50'000, 0);
  cc.init(cc_algorithm::newreno, kSmss, 0);
  EXPECT_EQ(cc.cwnd(), 10'000U);
  EXPECT_EQ(cc.ssthresh(), congestion_control::kInfiniteSsthresh);
  EXPECT_NE(cc.newreno(), nullptr);
  EXPECT_EQ(cc.cubic(), nullptr);
}

TEST(Congestion, SlowStartAddsBytesAckedUpToTwoSmss) {
  // RFC 5681 §3.1 with RFC 3465 §2.2 (L = 2*SMSS), for both algorithms.
  for (auto algo : {cc_algorithm::newreno, cc_algorithm::cubic}) {
    congestion_control cc(algo, kSmss, 0);
    cc.on_ack(500, 0, 0);
    EXPECT_EQ(cc.cwnd(), 10'500U);
    cc.on_ack(1000, 0, 0);
    EXPECT_EQ(cc.cwnd(), 11'500U);
    cc.on_ack(3000, 0, 0);  // a stretch ACK: capped at L
    EXPECT_EQ(cc.cwnd(), 13'500U);
    cc.on_ack(50'000, 0, 0);
    EXPECT_EQ(cc.cwnd(), 15'500U);
    cc.on_ack(0, 0, 0);
    EXPECT_EQ(cc.cwnd(), 15'500U);
  }
}

TEST(Congestion, SlowStartDoublesPerRoundEvenWithDelayedAcks) {
  for (std::uint32_t per_ack : {kSmss, 2 * kSmss}) {
    congestion_control cc(cc_algorithm::newreno, kSmss, 0);
    std::uint64_t now = 0;
    for (std::uint32_t expect = 20'000; expect <= 160'000; expect *= 2) {
      ack_round(cc, now, 10 * kMs, per_ack);
      EXPECT_EQ(cc.cwnd(), expect) << "per_ack " << per_ack;
    }
  }
}

TEST(Congestion, SlowStartStopsAtSsthreshAndCarriesTheRest) {
  congestion_control cc(cc_algorithm::newreno, kSmss, 0);
  cc.on_rto(10'500, 0);  // ssthresh = 5250, cwnd = 1000
  EXPECT_EQ(cc.ssthresh(), 5'250U);
  for (int i = 0; i < 4; ++i) cc.on_ack(kSmss, 0, 0);
  EXPECT_EQ(cc.cwnd(), 5'000U);
  EXPECT_TRUE(cc.in_slow_start());
  // 250 bytes finish slow start; the other 1750 count for avoidance.
  cc.on_ack(2 * kSmss, 0, 0);
  EXPECT_EQ(cc.cwnd(), 5'250U);
  EXPECT_FALSE(cc.in_slow_start());
  EXPECT_EQ(newreno_of(cc).bytes_acked, 1'750U);
}

TEST(Congestion, CwndNeverExceedsCap) {
  congestion_control cc(cc_algorithm::newreno, 65'535, 0);
  for (int i = 0; i < 20'000; ++i) cc.on_ack(UINT32_MAX, 0, 0);
  EXPECT_EQ(cc.cwnd(), congestion_control::kMaxCwnd);
}

TEST(Congestion, RtoSetsLossWindowOfOneSegment) {
  // RFC 5681 §3.1 eq. 4 and LW; RFC 9438 §4.8 uses beta_cubic instead.
  for (auto algo : {cc_algorithm::newreno, cc_algorithm::cubic}) {
    congestion_control cc(algo, kSmss, 0);
    grow_to(cc, 40'000, 0);
    cc.on_rto(40'000, 0);
    EXPECT_EQ(cc.cwnd(), kSmss);
    EXPECT_EQ(cc.ssthresh(), algo == cc_algorithm::newreno ? 20'000U : 28'000U);
    EXPECT_TRUE(cc.in_slow_start());
    // The same segment times out again: ssthresh stays (FlightSize is now
    // one segment and would collapse it to 2*SMSS).
    cc.on_rto(kSmss, 0, /*repeated=*/true);
    EXPECT_EQ(cc.cwnd(), kSmss);
    EXPECT_EQ(cc.ssthresh(), algo == cc_algorithm::newreno ? 20'000U : 28'000U);
    // A timeout of a new segment with one segment in flight: 2*SMSS floor.
    cc.on_rto(kSmss, 0);
    EXPECT_EQ(cc.ssthresh(), 2 * kSmss);
  }
}

TEST(Congestion, RtoEndsRecovery) {
  congestion_control cc(cc_algorithm::newreno, kSmss, 0);
  cc.on_enter_recovery(10'000, 0, recovery_kind::newreno);
  ASSERT_TRUE(cc.in_recovery());
  cc.on_rto(10'000, 0);
  EXPECT_FALSE(cc.in_recovery());
  EXPECT_EQ(cc.cwnd(), kSmss);
  cc.on_ack(kSmss, 0, 0);  // slow start again
  EXPECT_EQ(cc.cwnd(), 2 * kSmss);
}

TEST(Congestion, IdleRestartAppliesRestartWindow) {
  congestion_control cc = reno_in_avoidance(50'000);
  // Shorter than the RTO: nothing changes (RFC 5681 §4.1).
  cc.on_idle_restart(500 * kMs, 1 * kSec, 2 * kSec);
  EXPECT_EQ(cc.cwnd(), 50'000U);
  // Longer: cwnd = min(IW, cwnd), ssthresh keeps 3/4 of the old cwnd.
  cc.on_idle_restart(2 * kSec, 1 * kSec, 4 * kSec);
  EXPECT_EQ(cc.cwnd(), 10'000U);
  EXPECT_EQ(cc.ssthresh(), 50'000U);  // max(50000, 37500)
  EXPECT_TRUE(cc.in_slow_start());
  // A window already below IW is left alone.
  congestion_control small(cc_algorithm::newreno, kSmss, 0);
  small.on_rto(100'000, 0);
  small.on_idle_restart(10 * kSec, 1 * kSec, 10 * kSec);
  EXPECT_EQ(small.cwnd(), kSmss);
  EXPECT_EQ(small.ssthresh(), 50'000U);
}

// ---------------------------------------------------------------- NewReno

TEST(NewReno, AvoidanceAddsOneSmssPerRound) {
  // RFC 5681 §3.1 byte counting: exactly SMSS per cwnd of acked bytes.
  for (std::uint32_t per_ack : {kSmss, 2 * kSmss, 500U}) {
    congestion_control cc = reno_in_avoidance(20'000);
    std::uint64_t now = 0;
    for (std::uint32_t r = 1; r <= 30; ++r) {
      ack_round(cc, now, 10 * kMs, per_ack);
      EXPECT_EQ(cc.cwnd(), 20'000 + r * kSmss) << "per_ack " << per_ack << " round " << r;
    }
  }
}

TEST(NewReno, AvoidanceDoesNotGrowBeforeAWindowIsAcked) {
  congestion_control cc = reno_in_avoidance(20'000);
  for (int i = 0; i < 19; ++i) cc.on_ack(kSmss, 0, 0);
  EXPECT_EQ(cc.cwnd(), 20'000U);
  cc.on_ack(kSmss, 0, 0);
  EXPECT_EQ(cc.cwnd(), 21'000U);
}

TEST(NewReno, FastRetransmitHalvesFlightSize) {
  // RFC 5681 §3.2 / RFC 6582 §3.2: ssthresh = max(FlightSize/2, 2*SMSS),
  // cwnd = ssthresh + 3*SMSS.
  congestion_control cc(cc_algorithm::newreno, kSmss, 0);
  grow_to(cc, 60'000, 0);
  cc.on_enter_recovery(40'000, 0, recovery_kind::newreno);
  EXPECT_TRUE(cc.in_recovery());
  EXPECT_EQ(cc.ssthresh(), 20'000U);
  EXPECT_EQ(cc.cwnd(), 23'000U);
  // A second detection inside the same recovery changes nothing.
  cc.on_enter_recovery(10'000, 0, recovery_kind::newreno);
  EXPECT_EQ(cc.ssthresh(), 20'000U);
  EXPECT_EQ(cc.cwnd(), 23'000U);

  congestion_control small(cc_algorithm::newreno, kSmss, 0);
  small.on_enter_recovery(3'000, 0, recovery_kind::newreno);
  EXPECT_EQ(small.ssthresh(), 2'000U);  // 2*SMSS beats 1500
}

TEST(NewReno, DupacksInflatePartialAcksDeflate) {
  congestion_control cc(cc_algorithm::newreno, kSmss, 0);
  cc.on_enter_recovery(40'000, 0, recovery_kind::newreno);  // cwnd 23000
  cc.on_recovery_dupack();
  cc.on_recovery_dupack();
  EXPECT_EQ(cc.cwnd(), 25'000U);  // RFC 6582 §3.2 step 4
  // ACKs do not grow the window during recovery.
  cc.on_ack(5'000, 0, 0);
  EXPECT_EQ(cc.cwnd(), 25'000U);
  // RFC 6582 §3.2 step 5: deflate by 5000, add back SMSS.
  cc.on_partial_ack(5'000);
  EXPECT_EQ(cc.cwnd(), 21'000U);
  // Less than one SMSS acknowledged: no SMSS added back.
  cc.on_partial_ack(400);
  EXPECT_EQ(cc.cwnd(), 20'600U);
  // A partial ACK larger than cwnd leaves one SMSS to retransmit with.
  cc.on_partial_ack(100'000);
  EXPECT_EQ(cc.cwnd(), kSmss);
  EXPECT_TRUE(cc.in_recovery());
}

TEST(NewReno, FullAckSetsCwndWithoutBurst) {
  // RFC 6582 §3.2 step 5, option 1: min(ssthresh, max(FlightSize, SMSS) + SMSS).
  congestion_control a(cc_algorithm::newreno, kSmss, 0);
  a.on_enter_recovery(40'000, 0, recovery_kind::newreno);
  a.on_exit_recovery(30'000);
  EXPECT_FALSE(a.in_recovery());
  EXPECT_EQ(a.cwnd(), 20'000U);

  congestion_control b(cc_algorithm::newreno, kSmss, 0);
  b.on_enter_recovery(40'000, 0, recovery_kind::newreno);
  b.on_exit_recovery(5'000);
  EXPECT_EQ(b.cwnd(), 6'000U);
  EXPECT_TRUE(b.in_slow_start());  // and slow start brings it back to 20000

  congestion_control c(cc_algorithm::newreno, kSmss, 0);
  c.on_enter_recovery(40'000, 0, recovery_kind::newreno);
  c.on_exit_recovery(0);
  EXPECT_EQ(c.cwnd(), 2 * kSmss);
}

TEST(NewReno, SackRecoveryHoldsCwndAtSsthresh) {
  // RFC 6675 §5 (4.2): cwnd = ssthresh; the pipe algorithm does the rest.
  congestion_control cc(cc_algorithm::newreno, kSmss, 0);
  cc.on_enter_recovery(40'000, 0, recovery_kind::sack);
  EXPECT_EQ(cc.ssthresh(), 20'000U);
  EXPECT_EQ(cc.cwnd(), 20'000U);
  cc.on_recovery_dupack();
  cc.on_partial_ack(5'000);
  cc.on_ack(5'000, 0, 0);
  EXPECT_EQ(cc.cwnd(), 20'000U);
  cc.on_exit_recovery(20'000);
  EXPECT_EQ(cc.cwnd(), 20'000U);
  EXPECT_FALSE(cc.in_slow_start());
}

// ---------------------------------------------------------------- CUBIC

// RFC 9438 constants, restated here so a wrong constant in the code fails.
constexpr double kC = 0.4;
constexpr double kBeta = 0.7;

// W_cubic(t) in bytes for a loss at w_max_bytes (eq. 1 and 2, no fast
// convergence, FlightSize = W_max at the loss).
double expected_w_cubic(double t_s, double w_max_bytes) {
  const double w_max = w_max_bytes / kSmss;
  const double k = std::cbrt(w_max * (1 - kBeta) / kC);
  return kSmss * (kC * std::pow(t_s - k, 3) + w_max);
}

// A CUBIC connection that grew to `w_max` in slow start, lost a packet
// with the whole window in flight and has just finished a SACK recovery.
congestion_control cubic_after_loss(std::uint32_t w_max) {
  congestion_control cc(cc_algorithm::cubic, kSmss, 0);
  grow_to(cc, w_max, 0);
  cc.on_enter_recovery(w_max, 0, recovery_kind::sack);
  cc.on_exit_recovery(cc.cwnd());
  return cc;
}

TEST(Cubic, LossReducesByBeta) {
  // RFC 9438 §4.6: ssthresh = cwnd = FlightSize * 0.7; W_max = cwnd.
  congestion_control cc(cc_algorithm::cubic, kSmss, 0);
  grow_to(cc, 1'000'000, 0);
  cc.on_enter_recovery(1'000'000, 0, recovery_kind::sack);
  EXPECT_EQ(cc.ssthresh(), 700'000U);
  EXPECT_EQ(cc.cwnd(), 700'000U);
  ASSERT_NE(cc.cubic(), nullptr);
  EXPECT_EQ(cubic_of(cc).w_max, 1'000'000U);
  EXPECT_EQ(cubic_of(cc).cwnd_prior, 1'000'000U);
  // With NewReno-style recovery the usual 3*SMSS inflation applies.
  congestion_control nr(cc_algorithm::cubic, kSmss, 0);
  grow_to(nr, 100'000, 0);
  nr.on_enter_recovery(100'000, 0, recovery_kind::newreno);
  EXPECT_EQ(nr.ssthresh(), 70'000U);
  EXPECT_EQ(nr.cwnd(), 73'000U);
  // Floor of 2*SMSS.
  congestion_control tiny(cc_algorithm::cubic, kSmss, 0);
  tiny.on_enter_recovery(2'000, 0, recovery_kind::sack);
  EXPECT_EQ(tiny.ssthresh(), 2 * kSmss);
}

TEST(Cubic, KMatchesCubeRootFormula) {
  congestion_control cc = cubic_after_loss(1'000'000);
  EXPECT_FALSE(cc.in_slow_start());
  cc.on_ack(kSmss, 5 * kSec, 100 * kMs);  // first ACK of the epoch
  const cubic_state& s = cubic_of(cc);
  ASSERT_TRUE(s.in_epoch);
  EXPECT_EQ(s.epoch_start_ns, 5 * kSec);
  EXPECT_EQ(s.cwnd_epoch, 700'000U);
  // K = cbrt(W_max * (1 - beta) / C) = cbrt(1000 * 0.3 / 0.4) = cbrt(750) s.
  EXPECT_NEAR(s.k_s, std::cbrt(750.0), 1e-9);
  EXPECT_NEAR(s.k_s, 9.0856, 1e-4);
}

TEST(Cubic, WindowFunctionMatchesRfcFormula) {
  congestion_control cc = cubic_after_loss(1'000'000);
  cc.on_ack(kSmss, 0, 100 * kMs);
  const cubic_state& s = cubic_of(cc);
  for (double t : {0.0, 1.0, 4.5, 9.0856, 12.0, 15.0}) {
    const auto t_ns = static_cast<std::uint64_t>(t * 1e9);
    EXPECT_NEAR(cubic_window(s, kSmss, t_ns), expected_w_cubic(t, 1'000'000), 2.0) << "t=" << t;
  }
  // W_cubic(0) is the reduced window, W_cubic(K) the old maximum.
  EXPECT_NEAR(expected_w_cubic(0, 1'000'000), 700'000, 1e-6);
  EXPECT_NEAR(cubic_window(s, kSmss, 0), 700'000, 2.0);
}

TEST(Cubic, CwndFollowsCubicCurveConcaveThenConvex) {
  // RTT 100 ms and W_max of 1000 segments: the Reno-friendly estimate
  // (about 5 segments/s) stays below the curve, so cwnd is CUBIC's alone.
  constexpr std::uint64_t kRtt = 100 * kMs;
  congestion_control cc = cubic_after_loss(1'000'000);
  std::uint64_t now = 0;
  std::uint32_t prev = cc.cwnd();
  std::uint32_t prev_growth = UINT32_MAX;
  bool saw_concave = false;
  bool saw_convex = false;
  for (int round = 1; round <= 150; ++round) {  // 15 s: past K = 9.09 s
    ack_round(cc, now, kRtt);
    const double t = static_cast<double>(now) * 1e-9;
    const double expect = expected_w_cubic(t, 1'000'000);
    // cwnd aims one RTT ahead, which cancels the lag of ACK clocking: it
    // stays within 0.05% of W_max (measured: under 200 bytes). A wrong C
    // or beta misses by tens of kilobytes over most of the range.
    EXPECT_NEAR(cc.cwnd(), expect, 500.0) << "t=" << t;
    const std::uint32_t growth = cc.cwnd() - prev;
    if (t < 8.5) {
      EXPECT_LE(growth, prev_growth) << "concave region, t=" << t;
      saw_concave = true;
    } else if (t > 9.7) {
      EXPECT_GE(growth, prev_growth) << "convex region, t=" << t;
      saw_convex = true;
    }
    prev_growth = growth;
    prev = cc.cwnd();
  }
  EXPECT_TRUE(saw_concave && saw_convex);
  EXPECT_LT(cubic_of(cc).w_est, cc.cwnd());  // never Reno-friendly here
  // Around K the window plateaus at W_max.
  EXPECT_GT(cc.cwnd(), 1'000'000U);
}

TEST(Cubic, FastConvergenceLowersWmax) {
  // RFC 9438 §4.7: a loss at cwnd below the previous W_max sets
  // W_max = cwnd * (1 + beta) / 2.
  congestion_control cc = cubic_after_loss(1'000'000);
  ASSERT_EQ(cc.cwnd(), 700'000U);
  cc.on_enter_recovery(700'000, 0, recovery_kind::sack);
  EXPECT_EQ(cubic_of(cc).w_max, 595'000U);  // 700000 * 0.85
  EXPECT_EQ(cc.ssthresh(), 490'000U);
  // And the next epoch aims at the lowered W_max:
  // K = cbrt((595 - 490) / 0.4) = cbrt(262.5).
  cc.on_exit_recovery(490'000);
  cc.on_ack(kSmss, 0, 100 * kMs);
  EXPECT_NEAR(cubic_of(cc).k_s, std::cbrt(262.5), 1e-9);
}

TEST(Cubic, NoFastConvergenceAboveOldWmax) {
  congestion_control cc = cubic_after_loss(100'000);
  std::uint64_t now = 0;
  while (cc.cwnd() <= 120'000) ack_round(cc, now, 100 * kMs);
  const std::uint32_t at_loss = cc.cwnd();
  cc.on_enter_recovery(at_loss, now, recovery_kind::sack);
  EXPECT_EQ(cubic_of(cc).w_max, at_loss);
  EXPECT_EQ(cc.ssthresh(), static_cast<std::uint32_t>(std::uint64_t{at_loss} * 7 / 10));
}

TEST(Cubic, RenoFriendlyRegionWhenEstimateIsAhead) {
  // RFC 9438 §4.3: RTT 1 ms and W_max = 100 segments. W_est grows by
  // alpha = 9/17 segment per RTT (529 segments/s) while W_cubic starts
  // with a slope of 3*C*K^2 = 21 segments/s: cwnd = W_est.
  constexpr std::uint64_t kRtt = 1 * kMs;
  congestion_control cc = cubic_after_loss(100'000);
  std::uint64_t now = 0;
  for (int round = 1; round <= 20; ++round) ack_round(cc, now, kRtt);
  const cubic_state& s = cubic_of(cc);
  EXPECT_EQ(cc.cwnd(), s.w_est);
  // 20 rounds of about 9/17 * 1000 bytes each (cwnd grows a little within
  // the round, so each round adds slightly less than 529.4 bytes).
  EXPECT_NEAR(cc.cwnd(), 70'000 + 20 * 1000.0 * 9 / 17, 150.0);
  const double w_cubic_now = cubic_window(s, kSmss, now - s.epoch_start_ns);
  EXPECT_GT(static_cast<double>(cc.cwnd()), w_cubic_now + 5'000);
  EXPECT_FALSE(s.alpha_is_one);

  // Once W_est reaches cwnd_prior (100000) alpha becomes 1: a full SMSS
  // per round, like Reno.
  while (!cubic_of(cc).alpha_is_one) ack_round(cc, now, kRtt);
  ack_round(cc, now, kRtt);
  const std::uint32_t before = cc.cwnd();
  ack_round(cc, now, kRtt);
  EXPECT_NEAR(cc.cwnd() - before, 1000.0, 20.0);
}

TEST(Cubic, TimeoutStartsNextEpochWithKZero) {
  // RFC 9438 §4.8: after an RTO the first avoidance stage uses K = 0 and
  // W_max = cwnd at its start.
  congestion_control cc(cc_algorithm::cubic, kSmss, 0);
  grow_to(cc, 100'000, 0);
  cc.on_rto(100'000, 0);
  EXPECT_EQ(cc.cwnd(), kSmss);
  EXPECT_EQ(cc.ssthresh(), 70'000U);
  // Slow start one segment per ACK: 1000, 2000, ... exactly 70000.
  std::uint64_t now = 0;
  const cubic_state& s = cubic_of(cc);
  while (!s.in_epoch && now < 1000 * kMs) {
    cc.on_ack(kSmss, now, 10 * kMs);
    now += kMs;
  }
  ASSERT_TRUE(s.in_epoch);
  EXPECT_EQ(s.cwnd_epoch, 70'000U);
  EXPECT_EQ(s.k_s, 0.0);
  EXPECT_EQ(s.w_max, 70'000U);
  // W_est starts there too and has taken this first ACK's share:
  // 9/17 * 1000 * 1000 / 70000 = 7.56 bytes.
  EXPECT_EQ(s.w_est, 70'007U);
}

TEST(Cubic, IdleTimeIsNotPartOfTheEpoch) {
  // RFC 9438 §5.8.
  congestion_control cc = cubic_after_loss(1'000'000);
  cc.on_ack(kSmss, 1 * kSec, 100 * kMs);
  ASSERT_EQ(cubic_of(cc).epoch_start_ns, 1 * kSec);
  const std::uint32_t before = cc.cwnd();
  cc.on_idle_restart(50 * kMs, 1 * kSec, 3 * kSec);
  EXPECT_EQ(cubic_of(cc).epoch_start_ns, 1 * kSec + 50 * kMs);
  EXPECT_EQ(cc.cwnd(), before);  // shorter than the RTO: no restart window
  // Longer than the RTO: RFC 5681 §4.1 restart window and a new epoch later.
  cc.on_idle_restart(5 * kSec, 1 * kSec, 9 * kSec);
  EXPECT_EQ(cc.cwnd(), 10'000U);
  EXPECT_FALSE(cubic_of(cc).in_epoch);
  EXPECT_EQ(cc.ssthresh(), 700'000U);
  EXPECT_EQ(cubic_of(cc).w_max, 1'000'000U);
}

TEST(Cubic, TargetNeverExceedsOneAndAHalfCwndPerRound) {
  // RFC 9438 §4.2: target <= 1.5 * cwnd. Far into the convex region
  // (t = 60 s, K = 4.2 s) the curve is way above cwnd.
  congestion_control cc = cubic_after_loss(100'000);
  cc.on_ack(kSmss, 0, 100 * kMs);
  std::uint64_t now = 60 * kSec;
  const std::uint32_t before = cc.cwnd();
  ack_round(cc, now, 100 * kMs);
  EXPECT_GT(cc.cwnd(), before);
  EXPECT_LE(cc.cwnd(), before + before / 2 + kSmss);
}

}  // namespace
}  // namespace kbt::tcp
