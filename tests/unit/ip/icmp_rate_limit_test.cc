// The ICMP error budget (ip/icmp_rate_limit.hh): Linux's icmp_global_allow,
// 1,000 a second with a burst of 50.
#include "ip/icmp_rate_limit.hh"

#include <gtest/gtest.h>

namespace kbt::ip {
namespace {

constexpr std::uint64_t kMs = 1'000'000;

TEST(IcmpRateLimit, BurstOf50ThenNothingAtTheSameInstant) {
  icmp_rate_limit l;
  int allowed = 0;
  for (int i = 0; i < 5000; ++i) allowed += l.allow(1000 * kMs) ? 1 : 0;
  EXPECT_EQ(allowed, 50);
}

TEST(IcmpRateLimit, OneTokenAMillisecondAfterTheBurst) {
  icmp_rate_limit l;
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(l.allow(0));
  EXPECT_FALSE(l.allow(0));
  EXPECT_FALSE(l.allow(kMs / 2));  // half a token is none
  EXPECT_TRUE(l.allow(kMs));       // the half earlier is kept, not lost
  EXPECT_FALSE(l.allow(kMs));
  // 5,000 tries over one second: 1,000 tokens earned, no more.
  int allowed = 0;
  for (int i = 1; i <= 5000; ++i) allowed += l.allow(kMs + i * (1000 * kMs / 5000)) ? 1 : 0;
  EXPECT_EQ(allowed, 1000);
}

TEST(IcmpRateLimit, SavesAtMostTheBurst) {
  icmp_rate_limit l;
  EXPECT_TRUE(l.allow(0));
  int allowed = 0;
  for (int i = 0; i < 200; ++i) allowed += l.allow(60'000 * kMs) ? 1 : 0;  // a minute idle
  EXPECT_EQ(allowed, 50);
}

TEST(IcmpRateLimit, OtherRatesAndBursts) {
  icmp_rate_limit l(10, 2);
  EXPECT_TRUE(l.allow(0));
  EXPECT_TRUE(l.allow(0));
  EXPECT_FALSE(l.allow(0));
  EXPECT_FALSE(l.allow(99 * kMs));
  EXPECT_TRUE(l.allow(100 * kMs));
}

}  // namespace
}  // namespace kbt::ip
