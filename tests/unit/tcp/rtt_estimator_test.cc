// RFC 6298 arithmetic with exact integer expectations worked out by hand
// from the RFC's formulas (alpha = 1/8, beta = 1/4, K = 4).
#include "tcp/rtt_estimator.hh"

#include <gtest/gtest.h>

#include <cstdint>

namespace kbt::tcp {
namespace {

constexpr std::uint64_t kUs = 1'000;
constexpr std::uint64_t kMs = 1'000'000;
constexpr std::uint64_t kSec = 1'000'000'000;

// The RFC's own floor, so the §2.2/§2.3 numbers show unclamped.
rtt_config no_floor() {
  rtt_config c;
  c.min_rto_ns = 0;
  return c;
}

TEST(RttEstimator, InitialRtoIsOneSecond) {
  // RFC 6298 §2.1.
  rtt_estimator e;
  EXPECT_EQ(e.rto_ns(), 1 * kSec);
  EXPECT_FALSE(e.has_sample());
  EXPECT_EQ(e.srtt_ns(), 0U);
  EXPECT_EQ(e.rttvar_ns(), 0U);
  EXPECT_EQ(e.min_rtt_ns(), 0U);
}

TEST(RttEstimator, FirstSampleSetsSrttAndHalfVariance) {
  // RFC 6298 §2.2: SRTT = R, RTTVAR = R/2, RTO = R + max(G, 4 * R/2) = 3R.
  rtt_estimator e(no_floor());
  e.on_sample(100 * kMs);
  EXPECT_TRUE(e.has_sample());
  EXPECT_EQ(e.srtt_ns(), 100 * kMs);
  EXPECT_EQ(e.rttvar_ns(), 50 * kMs);
  EXPECT_EQ(e.rto_ns(), 300 * kMs);
  EXPECT_EQ(e.latest_rtt_ns(), 100 * kMs);
  EXPECT_EQ(e.min_rtt_ns(), 100 * kMs);
}

TEST(RttEstimator, GranularityDominatesTinyVariance) {
  // RFC 6298 §2.2: R = 100 us, 4*RTTVAR = 200 us < G = 1 ms, so
  // RTO = R + G = 1.1 ms.
  rtt_estimator e(no_floor());
  e.on_sample(100 * kUs);
  EXPECT_EQ(e.rto_ns(), 100 * kUs + 1 * kMs);
  // A coarser G of 10 ms: RTO = 100 us + 10 ms.
  rtt_config coarse = no_floor();
  coarse.granularity_ns = 10 * kMs;
  rtt_estimator c(coarse);
  c.on_sample(100 * kUs);
  EXPECT_EQ(c.rto_ns(), 100 * kUs + 10 * kMs);
}

TEST(RttEstimator, SecondSampleFollowsSection23) {
  // RFC 6298 §2.3 with R' = 140 ms after R = 100 ms:
  //   RTTVAR = 3/4 * 50 + 1/4 * |100 - 140| = 37.5 + 10 = 47.5 ms
  //   SRTT   = 7/8 * 100 + 1/8 * 140       = 87.5 + 17.5 = 105 ms
  //   RTO    = 105 + 4 * 47.5              = 295 ms
  rtt_estimator e(no_floor());
  e.on_sample(100 * kMs);
  e.on_sample(140 * kMs);
  EXPECT_EQ(e.rttvar_ns(), 47'500'000U);
  EXPECT_EQ(e.srtt_ns(), 105 * kMs);
  EXPECT_EQ(e.rto_ns(), 295 * kMs);
  EXPECT_EQ(e.latest_rtt_ns(), 140 * kMs);
  EXPECT_EQ(e.min_rtt_ns(), 100 * kMs);

  // A third, smaller sample R'' = 60 ms uses the updated SRTT (105):
  //   RTTVAR = 3/4 * 47.5 + 1/4 * 45 = 35.625 + 11.25 = 46.875 ms
  //   SRTT   = 7/8 * 105 + 1/8 * 60  = 91.875 + 7.5   = 99.375 ms
  //   RTO    = 99.375 + 187.5 = 286.875 ms
  e.on_sample(60 * kMs);
  EXPECT_EQ(e.rttvar_ns(), 46'875'000U);
  EXPECT_EQ(e.srtt_ns(), 99'375'000U);
  EXPECT_EQ(e.rto_ns(), 286'875'000U);
  EXPECT_EQ(e.min_rtt_ns(), 60 * kMs);
}

TEST(RttEstimator, VarianceUsesSrttBeforeItsUpdate) {
  // If SRTT were updated first, |SRTT - R'| would be |130 - 340| = 210 ms
  // instead of |100 - 340| = 240 ms. RFC 6298 §2.3 orders RTTVAR first:
  //   RTTVAR = 3/4 * 50 + 240/4 = 97.5 ms, SRTT = 87.5 + 42.5 = 130 ms.
  rtt_estimator e(no_floor());
  e.on_sample(100 * kMs);
  e.on_sample(340 * kMs);
  EXPECT_EQ(e.rttvar_ns(), 97'500'000U);
  EXPECT_EQ(e.srtt_ns(), 130 * kMs);
}

TEST(RttEstimator, SteadyRttConvergesToSrttPlusGranularity) {
  // With a constant RTT, RTTVAR decays by 3/4 per sample toward 0 and RTO
  // toward SRTT + G.
  rtt_estimator e(no_floor());
  for (int i = 0; i < 200; ++i) e.on_sample(10 * kMs);
  EXPECT_EQ(e.srtt_ns(), 10 * kMs);
  EXPECT_EQ(e.rttvar_ns(), 0U);
  EXPECT_EQ(e.rto_ns(), 11 * kMs);
}

TEST(RttEstimator, MinimumRtoDefaultsTo200Ms) {
  // Linux's floor, not RFC 6298 §2.4's 1 s (see rtt_config). A 1 ms path
  // gives 3 ms by §2.2, raised to 200 ms.
  rtt_estimator e;
  e.on_sample(1 * kMs);
  EXPECT_EQ(e.rto_ns(), 200 * kMs);
  // The RFC's 1 s floor when configured.
  rtt_config rfc;
  rfc.min_rto_ns = 1 * kSec;
  rtt_estimator r(rfc);
  r.on_sample(100 * kMs);
  EXPECT_EQ(r.rto_ns(), 1 * kSec);
  r.on_sample(100 * kMs);
  EXPECT_EQ(r.rto_ns(), 1 * kSec);
}

TEST(RttEstimator, MaximumRtoCapsLargeSamples) {
  // RFC 6298 §2.5: 30 s gives 90 s by §2.2, capped at 60 s.
  rtt_estimator e;
  e.on_sample(30 * kSec);
  EXPECT_EQ(e.rto_ns(), 60 * kSec);
}

TEST(RttEstimator, BackoffDoublesAndCaps) {
  // RFC 6298 §5.5 from the initial 1 s: 2, 4, 8, 16, 32, then 60 (§2.5).
  rtt_estimator e;
  const std::uint64_t expected[] = {2, 4, 8, 16, 32, 60, 60, 60};
  std::uint32_t n = 0;
  for (std::uint64_t s : expected) {
    e.on_timeout();
    ++n;
    EXPECT_EQ(e.rto_ns(), s * kSec) << "after " << n << " timeouts";
    EXPECT_EQ(e.backoff_count(), n);
  }
}

TEST(RttEstimator, NewSampleEndsBackoff) {
  rtt_estimator e(no_floor());
  e.on_sample(100 * kMs);  // RTO 300 ms
  e.on_timeout();
  e.on_timeout();
  EXPECT_EQ(e.rto_ns(), 1200 * kMs);
  // RFC 6298 §5 (note after 5.7): a new sample recomputes RTO per §2.3:
  //   RTTVAR = 37.5 + 0 = 37.5 ms, SRTT = 100 ms, RTO = 250 ms.
  e.on_sample(100 * kMs);
  EXPECT_EQ(e.backoff_count(), 0U);
  EXPECT_EQ(e.rto_ns(), 250 * kMs);
}

TEST(RttEstimator, BackoffNeverOverflows) {
  rtt_config huge;
  huge.max_rto_ns = UINT64_MAX;
  rtt_estimator e(huge);
  for (int i = 0; i < 100; ++i) e.on_timeout();
  EXPECT_GE(e.rto_ns(), UINT64_MAX / 2);
}

TEST(RttEstimator, SynTimeoutFallbackIsThreeSeconds) {
  // RFC 6298 §5.7.
  rtt_estimator e;
  e.on_timeout();  // SYN lost: 2 s
  e.on_handshake_after_syn_timeout();
  EXPECT_EQ(e.rto_ns(), 3 * kSec);
  EXPECT_EQ(e.backoff_count(), 0U);

  // With a sample (timestamps make one possible) the measurement wins.
  rtt_estimator m(no_floor());
  m.on_timeout();
  m.on_sample(10 * kMs);
  m.on_handshake_after_syn_timeout();
  EXPECT_EQ(m.rto_ns(), 30 * kMs);
}

TEST(RttEstimator, ResetForgetsEverything) {
  rtt_estimator e;
  e.on_sample(50 * kMs);
  e.on_timeout();
  e.reset();
  EXPECT_FALSE(e.has_sample());
  EXPECT_EQ(e.rto_ns(), 1 * kSec);
  EXPECT_EQ(e.backoff_count(), 0U);
  EXPECT_EQ(e.min_rtt_ns(), 0U);
  // And the first sample after a reset is a first sample again (§2.2).
  e.on_sample(400 * kMs);
  EXPECT_EQ(e.srtt_ns(), 400 * kMs);
  EXPECT_EQ(e.rttvar_ns(), 200 * kMs);
}

TEST(RttEstimator, ZeroAndHugeSamplesStayDefined) {
  rtt_estimator e(no_floor());
  e.on_sample(0);
  EXPECT_EQ(e.rto_ns(), 1 * kMs);  // SRTT 0 + G
  e.on_sample(UINT64_MAX);  // clamped to kMaxSampleNs, then RTO to max
  EXPECT_EQ(e.latest_rtt_ns(), rtt_estimator::kMaxSampleNs);
  EXPECT_EQ(e.rto_ns(), 60 * kSec);
}

}  // namespace
}  // namespace kbt::tcp
