// Application timers (api/app_timer.hh) on a timer wheel of their own here;
// on the core's wheel in tests/sim/app_timer_sim_test.cc.
#include "api/app_timer.hh"

#include <gtest/gtest.h>

#include <vector>

#include "api/connection.hh"

namespace kbt::api {
namespace {

constexpr std::uint64_t kMs = 1'000'000;

struct rig {
  base::timer_wheel wheel{base::timer_wheel_config{
      .tick = base::nanos{kMs}, .levels = 6, .start = base::instant{}}};
  core_context ctx;
  app_timers timers;
  explicit rig(std::uint32_t capacity = 8) : timers(capacity, &wheel, &ctx) { ctx.timers = &timers; }
};

struct fired_log {
  std::vector<std::uint64_t> at;  // ctx.now of each call, in ns
};

void record(core_context& ctx, void* arg) {
  static_cast<fired_log*>(arg)->at.push_back(base::ns_since_start(ctx.now));
}

TEST(AppTimers, FiresOnceAfterItsDelayNeverBefore) {
  rig r;
  fired_log log;
  ASSERT_NE(r.timers.schedule(base::instant{}, 5, &record, &log), 0u);
  r.wheel.advance(base::instant_from_ns(4 * kMs));
  EXPECT_TRUE(log.at.empty()) << "never early";
  r.wheel.advance(base::instant_from_ns(5 * kMs));
  ASSERT_EQ(log.at.size(), 1u);
  EXPECT_EQ(log.at[0], 5 * kMs) << "the callback sees the loop's time";
  r.wheel.advance(base::instant_from_ns(50 * kMs));
  EXPECT_EQ(log.at.size(), 1u) << "once";
  EXPECT_EQ(r.timers.counters().fired.get(), 1u);
  EXPECT_EQ(r.timers.pending(), 0u);
}

TEST(AppTimers, ACancelledTimerNeverFires) {
  rig r;
  fired_log log;
  const timer_id t = r.timers.schedule(base::instant{}, 5, &record, &log);
  EXPECT_TRUE(r.timers.cancel(t));
  EXPECT_FALSE(r.timers.cancel(t)) << "a second cancel finds nothing";
  r.wheel.advance(base::instant_from_ns(10 * kMs));
  EXPECT_TRUE(log.at.empty());
  EXPECT_EQ(r.timers.counters().cancelled.get(), 1u);
  EXPECT_TRUE(r.wheel.empty());
}

TEST(AppTimers, RefusedWhenThePoolIsSpentAndCounted) {
  rig r(2);
  fired_log log;
  EXPECT_NE(r.timers.schedule(base::instant{}, 1, &record, &log), 0u);
  EXPECT_NE(r.timers.schedule(base::instant{}, 1, &record, &log), 0u);
  EXPECT_EQ(r.timers.schedule(base::instant{}, 1, &record, &log), 0u);
  EXPECT_EQ(r.timers.counters().refused.get(), 1u);
  r.wheel.advance(base::instant_from_ns(1 * kMs));
  EXPECT_EQ(log.at.size(), 2u);
  EXPECT_NE(r.timers.schedule(base::instant_from_ns(1 * kMs), 1, &record, &log), 0u)
      << "fired timers come back";
}

TEST(AppTimers, AStaleIdCancelsNothing) {
  rig r(1);
  fired_log log;
  const timer_id old = r.timers.schedule(base::instant{}, 1, &record, &log);
  r.wheel.advance(base::instant_from_ns(1 * kMs));
  const timer_id next =
      r.timers.schedule(base::instant_from_ns(1 * kMs), 1, &record, &log);  // the same slot
  EXPECT_NE(old, next);
  EXPECT_FALSE(r.timers.cancel(old));
  EXPECT_FALSE(r.timers.cancel(0));
  r.wheel.advance(base::instant_from_ns(2 * kMs));
  EXPECT_EQ(log.at.size(), 2u) << "the new timer still fired";
}

struct periodic {
  int left = 3;
  std::vector<std::uint64_t> at;
};
void tick(core_context& ctx, void* arg) {
  auto* p = static_cast<periodic*>(arg);
  p->at.push_back(base::ns_since_start(ctx.now));
  if (--p->left > 0) {
    EXPECT_NE(ctx.timers->schedule(ctx.now, 10, &tick, p), 0u);
  }
}

TEST(AppTimers, ACallbackMayScheduleAgainWithAPoolOfOne) {
  rig r(1);
  periodic p;
  ASSERT_NE(r.timers.schedule(base::instant{}, 10, &tick, &p), 0u);
  for (std::uint64_t t = 1; t <= 100; ++t) r.wheel.advance(base::instant_from_ns(t * kMs));
  EXPECT_EQ(p.at, (std::vector<std::uint64_t>{10 * kMs, 20 * kMs, 30 * kMs}));
}

TEST(AppTimers, WithoutAWheelEveryScheduleIsRefused) {
  core_context ctx;
  app_timers t(4, nullptr, &ctx);
  fired_log log;
  EXPECT_EQ(t.schedule(base::instant{}, 1, &record, &log), 0u);
  EXPECT_EQ(t.counters().refused.get(), 1u);
}

TEST(AppTimers, PendingTimersLeaveTheWheelWhenThePoolGoes) {
  base::timer_wheel wheel{base::timer_wheel_config{
      .tick = base::nanos{kMs}, .levels = 6, .start = base::instant{}}};
  core_context ctx;
  fired_log log;
  {
    app_timers t(4, &wheel, &ctx);
    EXPECT_NE(t.schedule(base::instant{}, 100, &record, &log), 0u);
    EXPECT_EQ(wheel.size(), 1u);
  }
  EXPECT_TRUE(wheel.empty());
  wheel.advance(base::instant_from_ns(200 * kMs));
  EXPECT_TRUE(log.at.empty());
}

}  // namespace
}  // namespace kbt::api
