#include "base/timer_wheel.hh"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

namespace kbt::base {
namespace {

constexpr std::uint64_t kUs = 1'000;
constexpr std::uint64_t kMs = 1'000'000;
constexpr std::uint64_t kSec = 1'000 * kMs;
constexpr std::uint64_t kMin = 60 * kSec;
constexpr std::uint64_t kHour = 60 * kMin;

// What the tests' timers report to: the wheel (for callbacks that arm), the
// number of the advance() call running, and the order timers fired in.
struct recorder;
struct fire_log {
  base::timer_wheel* wheel = nullptr;
  std::size_t call = 0;
  std::vector<recorder*> order;
};

// A timer that remembers what it was armed for and when it fired. `action`
// lets a test run code inside the callback.
struct recorder : timer_node {
  recorder() noexcept : timer_node(&recorder::on_fire) {}
  // As an owner must: cancel before dying (a failed test may leave it armed).
  ~recorder() {
    if (armed() && home != nullptr) home->cancel(*this);
  }
  recorder(const recorder&) = delete;
  recorder& operator=(const recorder&) = delete;
  static void on_fire(base::timer_node& node, instant now, void* ctx) noexcept;

  std::uint64_t want_ns = 0;
  int fires = 0;
  std::uint64_t fired_now = 0;
  std::size_t fired_call = 0;
  void (*action)(recorder& self, fire_log& book, std::uint64_t now_ns) = nullptr;
  recorder* partner = nullptr;
  base::timer_wheel* home = nullptr;
};

void recorder::on_fire(base::timer_node& node, instant now, void* ctx) noexcept {
  const std::uint64_t now_ns = ns_since_start(now);
  auto& self = owner_of<recorder>(node);
  auto& book = *static_cast<fire_log*>(ctx);
  EXPECT_FALSE(self.armed()) << "a firing node is unarmed, so it may re-arm itself";
  EXPECT_GE(now_ns, self.want_ns) << "fired early";
  ++self.fires;
  self.fired_now = now_ns;
  self.fired_call = book.call;
  book.order.push_back(&self);
  if (self.partner != nullptr) self.partner->home = book.wheel;  // actions may arm it
  if (self.action != nullptr) self.action(self, book, now_ns);
}

// A wheel plus its book, and helpers that keep the two in step. The tests
// count time in ns since the clock's start; instants are made at the wheel's edge.
struct rig {
  explicit rig(timer_wheel_config cfg = {}) : wheel(cfg, &book) { book.wheel = &wheel; }
  void arm(recorder& r, std::uint64_t want_ns) {
    r.want_ns = want_ns;
    r.home = &wheel;
    wheel.arm(r, instant_from_ns(want_ns));
  }
  std::size_t advance(std::uint64_t now_ns) {
    ++book.call;
    nows.push_back(now_ns);
    return wheel.advance(instant_from_ns(now_ns));
  }
  // The simulator's pattern: jump to the next event until nothing is armed.
  std::size_t run_by_next_expiry(std::uint64_t& now_ns, std::size_t max_steps) {
    std::size_t steps = 0;
    while (auto next = wheel.next_expiry()) {
      now_ns = std::max(now_ns, ns_since_start(*next));
      advance(now_ns);
      if (++steps > max_steps) break;
    }
    return steps;
  }
  // Start of the tick a timer armed for `want_ns` is due at.
  [[nodiscard]] std::uint64_t due_ns(std::uint64_t want_ns) const {
    const std::uint64_t t = wheel.tick().count();
    return (want_ns + t - 1) / t * t;
  }
  // The timer fired at the first advance() whose now reached its due tick.
  void expect_on_time(const recorder& r) const {
    ASSERT_EQ(r.fires, 1) << "want " << r.want_ns;
    EXPECT_GE(r.fired_now, r.want_ns);
    EXPECT_GE(r.fired_now, due_ns(r.want_ns));
    ASSERT_GE(r.fired_call, 1U);
    if (r.fired_call >= 2) {
      EXPECT_LT(nows[r.fired_call - 2], due_ns(r.want_ns)) << "fired late, want " << r.want_ns;
    }
  }
  void expect_order_by_due_tick() const {
    for (std::size_t i = 1; i < book.order.size(); ++i) {
      ASSERT_LE(book.order[i - 1]->expiry_tick(), book.order[i]->expiry_tick()) << "at " << i;
    }
  }

  fire_log book;
  base::timer_wheel wheel;
  std::vector<std::uint64_t> nows;
};

// Expiries around every level boundary (1 ms ticks), some not tick-aligned.
std::vector<std::uint64_t> boundary_expiries() {
  std::vector<std::uint64_t> out = {0, kMs / 2, kMs, kMs + 1, 3 * kMs / 2, 63 * kMs};
  for (std::uint64_t span = 64; span <= 64 * 64 * 64; span *= 64) {
    for (std::uint64_t ticks : {span - 1, span, span + 1, 2 * span + 17, 63 * span + 5}) {
      out.push_back(ticks * kMs);
    }
  }
  out.push_back(300 * kSec + 300 * kUs);
  return out;
}

TEST(TimerWheel, NodeIsSmall) { EXPECT_EQ(sizeof(base::timer_node), 32U); }

TEST(TimerWheel, RejectsBadConfigWithAReason) {
  EXPECT_EQ(base::timer_wheel::check({}), nullptr);
  EXPECT_NE(base::timer_wheel::check({.tick = nanos{0}}), nullptr);
  EXPECT_NE(base::timer_wheel::check({.levels = 1}), nullptr);
  EXPECT_NE(base::timer_wheel::check({.levels = base::timer_wheel::kMaxLevels + 1}), nullptr);
}

TEST(TimerWheel, TickDividerMatchesHardwareDivision) {
  std::mt19937_64 rng(3);
  for (std::uint64_t d : {std::uint64_t{1}, std::uint64_t{2}, std::uint64_t{3}, std::uint64_t{7},
                          std::uint64_t{1000}, kUs, kMs, std::uint64_t{1} << 20, 999'999'937 * kUs,
                          (std::uint64_t{1} << 62) + 1, UINT64_MAX}) {
    const detail::tick_divider div(d);
    for (int i = 0; i < 20'000; ++i) {
      std::uint64_t n = rng();
      if (i % 4 == 0) n >>= 1 + rng() % 63;  // small and mid-sized values
      if (i % 4 == 1) n = (n % 1000) * d + rng() % 3 - 1;  // around multiples
      ASSERT_EQ(div.floor(n), n / d) << n << " / " << d;
      ASSERT_EQ(div.ceil(n), n / d + (n % d != 0 ? 1 : 0)) << n << " / " << d;
    }
    for (std::uint64_t n : {std::uint64_t{0}, d - 1, d, (std::uint64_t{1} << 63) - 1,
                            std::uint64_t{1} << 63, UINT64_MAX}) {
      EXPECT_EQ(div.floor(n), n / d) << n << " / " << d;
    }
  }
}

TEST(TimerWheel, SubTickExpiryRoundsUpNeverDown) {
  rig r;
  recorder a;
  r.arm(a, 3 * kMs / 2);
  EXPECT_EQ(r.advance(kMs), 0U);
  EXPECT_EQ(r.advance(19 * kMs / 10), 0U);
  EXPECT_EQ(r.advance(2 * kMs), 1U);
  r.expect_on_time(a);
}

TEST(TimerWheel, FiresAtDueTickWhenSteppingBelowOneTick) {
  rig r;
  // Up to level 3 (10 minutes) keeps the 1.2 M steps quick.
  auto wants = boundary_expiries();
  std::erase_if(wants, [](std::uint64_t w) { return w > 10 * kMin; });
  std::vector<recorder> timers(wants.size());
  for (std::size_t i = 0; i < wants.size(); ++i) r.arm(timers[i], wants[i]);
  for (std::uint64_t now = 0; now <= 10 * kMin + kMs; now += 500 * kUs) r.advance(now);
  for (auto& t : timers) {
    r.expect_on_time(t);
    EXPECT_EQ(t.fired_now, r.due_ns(t.want_ns)) << "steps of 1/2 tick hit the due tick";
  }
  r.expect_order_by_due_tick();
  EXPECT_EQ(r.wheel.size(), 0U);
}

TEST(TimerWheel, FiresEverythingDueInBigJumpsInTickOrder) {
  rig r;
  const auto wants = boundary_expiries();
  std::vector<recorder> timers(wants.size());
  // Arm in reverse so that arming order cannot explain the firing order.
  for (std::size_t i = wants.size(); i-- > 0;) r.arm(timers[i], wants[i]);
  for (std::uint64_t now = 0; r.wheel.size() > 0; now += 7 * kSec + 3 * kMs) r.advance(now);
  for (auto& t : timers) r.expect_on_time(t);
  r.expect_order_by_due_tick();
}

TEST(TimerWheel, OneJumpOfTenMinutesFiresAllInOrder) {
  rig r;
  std::mt19937_64 rng(7);
  std::vector<recorder> timers(5000);
  for (auto& t : timers) r.arm(t, rng() % (10 * kMin));
  EXPECT_EQ(r.advance(10 * kMin), timers.size());
  for (auto& t : timers) r.expect_on_time(t);
  r.expect_order_by_due_tick();
}

TEST(TimerWheel, CancelPreventsFiring) {
  rig r;
  recorder near, far, kept, never_armed;
  r.arm(near, 5 * kMs);
  r.arm(far, 2 * kHour);
  r.arm(kept, 2 * kHour);
  r.wheel.cancel(near);
  r.wheel.cancel(far);
  EXPECT_FALSE(near.armed());
  EXPECT_FALSE(far.armed());
  r.wheel.cancel(far);          // twice: no-op
  r.wheel.cancel(never_armed);  // never armed: no-op
  EXPECT_EQ(r.wheel.size(), 1U);
  r.advance(3 * kHour);
  EXPECT_EQ(near.fires, 0);
  EXPECT_EQ(far.fires, 0);
  EXPECT_EQ(kept.fires, 1);
  EXPECT_EQ(r.wheel.size(), 0U);
}

TEST(TimerWheel, RearmMovesAnArmedTimer) {
  rig r;
  recorder a;
  r.arm(a, 100 * kMs);
  r.arm(a, 50 * kMs);  // earlier
  EXPECT_EQ(r.wheel.size(), 1U);
  r.advance(49 * kMs);
  EXPECT_EQ(a.fires, 0);
  r.advance(50 * kMs);
  r.expect_on_time(a);

  recorder b;
  r.arm(b, 60 * kMs);
  r.arm(b, 5 * kSec);  // later, another level
  r.arm(b, 5 * kSec - 10 * kUs);  // same tick: stays put
  EXPECT_EQ(r.wheel.size(), 1U);
  r.advance(4999 * kMs - 1);
  EXPECT_EQ(b.fires, 0);
  r.advance(5 * kSec);
  EXPECT_EQ(b.fires, 1);
  r.advance(10 * kSec);
  EXPECT_EQ(a.fires, 1);
  EXPECT_EQ(b.fires, 1);
}

TEST(TimerWheel, HundredThousandRandomTimersOverTwoHours) {
  rig r;
  std::mt19937_64 rng(2024);
  constexpr std::size_t kCount = 100'000;
  auto timers = std::make_unique<recorder[]>(kCount);
  for (std::size_t i = 0; i < kCount; ++i) r.arm(timers[i], rng() % (2 * kHour));
  EXPECT_EQ(r.wheel.size(), kCount);
  // An engine's ragged steps, with the odd simulator jump of minutes.
  std::uint64_t now = 0;
  std::size_t fired = 0;
  while (now <= 2 * kHour + kMs) {
    const std::uint64_t roll = rng() % 1000;
    now += roll < 900 ? rng() % (3 * kMs) : roll < 999 ? rng() % (5 * kSec) : rng() % (10 * kMin);
    fired += r.advance(now);
  }
  EXPECT_EQ(fired, kCount);
  EXPECT_EQ(r.wheel.size(), 0U);
  for (std::size_t i = 0; i < kCount; ++i) r.expect_on_time(timers[i]);
  r.expect_order_by_due_tick();
}

TEST(TimerWheel, CascadesFromEveryLevelOnTime) {
  // Start mid-tick and off every level boundary, so distances and absolute
  // slot digits disagree and cascades happen at odd distances.
  const std::uint64_t start = 12'345'678 * kMs + 321 * kUs;
  rig r({.start = instant_from_ns(start)});
  std::vector<std::uint64_t> offsets;
  std::uint64_t span = 1;
  for (unsigned level = 0; level < 6; ++level, span *= 64) {
    for (std::uint64_t ticks : {span - 1, span, span + 1, 5 * span + 3, 63 * span}) {
      offsets.push_back(ticks * kMs);
    }
  }
  std::vector<recorder> timers(offsets.size());
  for (std::size_t i = 0; i < offsets.size(); ++i) r.arm(timers[i], start + offsets[i]);
  std::uint64_t now = start;
  const std::size_t steps = r.run_by_next_expiry(now, 100 * timers.size());
  for (auto& t : timers) {
    r.expect_on_time(t);
    EXPECT_EQ(t.fired_now, r.due_ns(t.want_ns)) << "stepping by next_expiry lands on the tick";
  }
  r.expect_order_by_due_tick();
  // Each timer costs its own tick plus at most levels-1 cascade wake-ups.
  EXPECT_LE(steps, timers.size() * r.wheel.levels());
}

TEST(TimerWheel, NextExpiryIsNeverLaterThanTheEarliestTimer) {
  rig r;
  EXPECT_FALSE(r.wheel.next_expiry().has_value());
  std::mt19937_64 rng(5);
  std::vector<recorder> timers(2000);
  for (auto& t : timers) r.arm(t, rng() % (3 * kHour));
  std::uint64_t now = 0;
  while (auto next = r.wheel.next_expiry()) {
    std::uint64_t earliest = UINT64_MAX;
    for (auto& t : timers) {
      if (t.armed()) earliest = std::min(earliest, r.due_ns(t.want_ns));
    }
    ASSERT_LE(ns_since_start(*next), earliest);
    now = std::max(now, ns_since_start(*next));
    r.advance(now);
  }
  for (auto& t : timers) {
    r.expect_on_time(t);
    EXPECT_EQ(t.fired_now, r.due_ns(t.want_ns));
  }
}

TEST(TimerWheel, CallbackArmingALaterTickFiresInTheSameAdvance) {
  // Keepalive: every probe re-arms itself 75 s after it was due, 9 times.
  rig r;
  recorder ka;
  ka.action = [](recorder& self, fire_log& book, std::uint64_t) {
    if (self.fires < 10) {
      self.want_ns = ns_since_start(book.wheel->expiry(self)) + 75 * kSec;
      book.wheel->arm(self, instant_from_ns(self.want_ns));
    }
  };
  r.arm(ka, 2 * kHour);
  EXPECT_EQ(r.advance(3 * kHour), 10U);
  EXPECT_EQ(ka.fires, 10);
  EXPECT_FALSE(ka.armed());
  EXPECT_EQ(r.wheel.size(), 0U);
}

TEST(TimerWheel, CallbackArmingDueNowFiresOnTheNextAdvanceCall) {
  // Contract: a timer armed for a tick already processed (here "now", from a
  // callback) fires on the next advance() call, even at the same now, and
  // never inside the advance() that is running.
  rig r;
  recorder self_rearm, other;
  self_rearm.partner = &other;
  self_rearm.action = [](recorder& self, fire_log& book, std::uint64_t now_ns) {
    if (self.fires == 1) {
      self.want_ns = now_ns;
      book.wheel->arm(self, instant_from_ns(now_ns));
      self.partner->want_ns = now_ns - kMs;  // in the past
      book.wheel->arm(*self.partner, instant_from_ns(now_ns - kMs));
    }
  };
  r.arm(self_rearm, 10 * kMs);
  EXPECT_EQ(r.advance(10 * kMs), 1U);
  EXPECT_EQ(self_rearm.fires, 1);
  EXPECT_EQ(other.fires, 0);
  EXPECT_EQ(r.wheel.size(), 2U);
  EXPECT_EQ(ns_since_start(r.wheel.next_expiry().value_or(instant::max())), 10 * kMs);
  EXPECT_EQ(r.advance(10 * kMs), 2U);  // same now
  EXPECT_EQ(self_rearm.fires, 2);
  EXPECT_EQ(other.fires, 1);
  EXPECT_EQ(r.wheel.size(), 0U);
}

TEST(TimerWheel, PastExpiryArmedOutsideAdvanceFiresOnNextCall) {
  rig r;
  r.advance(10 * kMs);
  recorder late, at_now;
  r.arm(late, 5 * kMs);
  r.arm(at_now, 10 * kMs);
  EXPECT_EQ(r.advance(10 * kMs), 2U);
  EXPECT_EQ(late.fires, 1);
  EXPECT_EQ(at_now.fires, 1);
}

TEST(TimerWheel, CallbackMayCancelAndRearmOthers) {
  rig r;
  recorder a, b, c, d;
  // Same tick: whichever fires first cancels the other.
  a.partner = &b;
  b.partner = &a;
  a.action = b.action = [](recorder& self, fire_log& book, std::uint64_t) {
    book.wheel->cancel(*self.partner);
  };
  r.arm(a, 7 * kMs);
  r.arm(b, 7 * kMs);
  // c (tick 20) cancels d (tick 90) and re-arms it to tick 30 in one jump.
  c.partner = &d;
  c.action = [](recorder& self, fire_log& book, std::uint64_t) {
    book.wheel->cancel(*self.partner);
    self.partner->want_ns = 30 * kMs;
    book.wheel->arm(*self.partner, instant_from_ns(30 * kMs));
  };
  r.arm(c, 20 * kMs);
  r.arm(d, 90 * kMs);
  EXPECT_EQ(r.advance(60 * kMs), 3U);
  EXPECT_EQ(a.fires + b.fires, 1);
  EXPECT_EQ(c.fires, 1);
  EXPECT_EQ(d.fires, 1);
  EXPECT_EQ(ns_since_start(r.wheel.expiry(d)), 30 * kMs);
  EXPECT_EQ(r.wheel.size(), 0U);
}

TEST(TimerWheel, ClampsTimersBeyondTheHorizonAndNeverFiresThemEarly) {
  rig r({.tick = nanos{kMs}, .levels = 2});  // horizon 4096 ticks = 4.096 s
  EXPECT_EQ(r.wheel.horizon().count(), 4096 * kMs);
  const std::uint64_t wants[] = {4095 * kMs, 4096 * kMs, 10 * kSec + 1, kHour, kHour + kMs,
                                 3 * 24 * kHour};
  std::vector<recorder> timers(std::size(wants));
  for (std::size_t i = 0; i < timers.size(); ++i) r.arm(timers[i], wants[i]);
  for (std::uint64_t now = 0; now <= 11 * kSec; now += kMs) r.advance(now);
  for (std::uint64_t now = 11 * kSec; r.wheel.size() > 0; now += 3 * kSec + 7 * kMs) {
    r.advance(now);
  }
  for (auto& t : timers) r.expect_on_time(t);
  EXPECT_EQ(timers[2].fired_now, 10 * kSec + kMs);
  r.expect_order_by_due_tick();
}

TEST(TimerWheel, ClampsWithNanosecondTicks) {
  rig r({.tick = nanos{1}});  // 6 levels: horizon 2^36 ns, about 68.7 s
  EXPECT_EQ(r.wheel.horizon().count(), std::uint64_t{1} << 36);
  recorder far, farther;
  r.arm(far, 10 * kMin + 1);
  r.arm(farther, 2 * kHour);
  std::uint64_t now = 0;
  r.run_by_next_expiry(now, 1000);
  EXPECT_EQ(far.fired_now, 10 * kMin + 1);
  EXPECT_EQ(farther.fired_now, 2 * kHour);
  r.expect_order_by_due_tick();
}

TEST(TimerWheel, SizeCountsArmedTimers) {
  rig r;
  recorder a, b, c;
  EXPECT_TRUE(r.wheel.empty());
  r.arm(a, 10 * kMs);
  r.arm(b, 20 * kSec);
  r.arm(c, 5 * kHour);
  EXPECT_EQ(r.wheel.size(), 3U);
  r.arm(b, 30 * kSec);  // re-arm: same count
  EXPECT_EQ(r.wheel.size(), 3U);
  r.wheel.cancel(c);
  r.wheel.cancel(c);
  EXPECT_EQ(r.wheel.size(), 2U);
  r.advance(10 * kMs);
  EXPECT_EQ(r.wheel.size(), 1U);
  r.advance(kHour);
  EXPECT_TRUE(r.wheel.empty());
  EXPECT_FALSE(r.wheel.next_expiry().has_value());
}

TEST(TimerWheel, EmptyWheelAdvancesOverHoursCheaply) {
  rig r;
  std::size_t fired = 0;
  for (std::uint64_t now = 0; now <= kHour; now += kMs) {
    fired += r.wheel.advance(instant_from_ns(now));
  }
  fired += r.wheel.advance(instant_from_ns(10'000 * kHour));
  EXPECT_EQ(fired, 0U);
  EXPECT_EQ(r.wheel.next_tick(), 10'000 * kHour / kMs + 1);
  // Still works after the jump.
  recorder a;
  r.arm(a, 10'000 * kHour + 5 * kMs);
  EXPECT_EQ(r.wheel.advance(instant_from_ns(10'000 * kHour + 5 * kMs)), 1U);
}

TEST(TimerWheel, TimeGoingBackwardsFiresNothing) {
  rig r({.start = instant_from_ns(5 * kHour)});
  recorder a;
  r.arm(a, 5 * kHour + 2 * kMs);
  EXPECT_EQ(r.advance(kHour), 0U);
  EXPECT_EQ(r.advance(5 * kHour + 2 * kMs), 1U);
}

struct rto_tag {};
struct delack_tag {};
struct conn : tagged_timer<rto_tag>, tagged_timer<delack_tag> {
  int rto_fired = 0;
  int delack_fired = 0;
};

TEST(TimerWheel, OwnerOfRecoversTheEmbeddingObject) {
  base::timer_wheel wheel;
  conn c;
  auto& rto = static_cast<base::tagged_timer<rto_tag>&>(c);
  auto& delack = static_cast<base::tagged_timer<delack_tag>&>(c);
  rto.set_callback([](base::timer_node& n, instant, void*) noexcept {
    ++base::owner_of<conn, rto_tag>(n).rto_fired;
  });
  delack.set_callback([](base::timer_node& n, instant, void*) noexcept {
    ++base::owner_of<conn, delack_tag>(n).delack_fired;
  });
  wheel.arm(rto, instant_from_ns(200 * kMs));
  wheel.arm(delack, instant_from_ns(40 * kMs));
  wheel.advance(instant_from_ns(100 * kMs));
  EXPECT_EQ(c.delack_fired, 1);
  EXPECT_EQ(c.rto_fired, 0);
  wheel.advance(instant_from_ns(200 * kMs));
  EXPECT_EQ(c.rto_fired, 1);
}

TEST(TimerWheel, DestroyingTheWheelUnarmsItsNodes) {
  recorder a, b;
  {
    base::timer_wheel wheel;
    wheel.arm(a, instant_from_ns(kMs));
    wheel.arm(b, instant_from_ns(kHour));
  }
  EXPECT_FALSE(a.armed());
  EXPECT_FALSE(b.armed());
}

// Random arm / re-arm / cancel / advance, with callbacks that poke random
// nodes, checked against the two promises: never early, and nothing left
// behind that was due (bar what the contract defers to the next call).
struct chaos {
  std::vector<recorder>* nodes = nullptr;
  std::mt19937_64* rng = nullptr;
  std::vector<bool>* deferred = nullptr;
};
chaos g_chaos;

TEST(TimerWheel, RandomOperationsKeepTheInvariants) {
  rig r;
  std::mt19937_64 rng(99);
  std::vector<recorder> nodes(2000);
  std::vector<bool> deferred(nodes.size());
  g_chaos = {&nodes, &rng, &deferred};
  auto poke = [](recorder& self, fire_log& book, std::uint64_t now_ns) {
    auto& pick = (*g_chaos.nodes)[(*g_chaos.rng)() % g_chaos.nodes->size()];
    if (&pick == &self && (*g_chaos.rng)() % 2 == 0) return;
    if ((*g_chaos.rng)() % 3 == 0) {
      book.wheel->cancel(pick);
      return;
    }
    // Up to 1 s in the past (deferred to the next call) or 19 s ahead.
    pick.want_ns = now_ns + (*g_chaos.rng)() % (20 * kSec);
    pick.want_ns = pick.want_ns > kSec ? pick.want_ns - kSec : 0;
    pick.home = book.wheel;
    book.wheel->arm(pick, instant_from_ns(pick.want_ns));
    const auto idx = static_cast<std::size_t>(&pick - g_chaos.nodes->data());
    (*g_chaos.deferred)[idx] = pick.expiry_tick() < book.wheel->next_tick();
  };
  for (auto& n : nodes) n.action = poke;
  std::uint64_t now = 0;
  for (int op = 0; op < 50'000; ++op) {
    auto& n = nodes[rng() % nodes.size()];
    const auto roll = rng() % 10;
    if (roll < 6) {
      r.arm(n, now + rng() % (30 * kSec));
      deferred[static_cast<std::size_t>(&n - nodes.data())] = false;
    } else if (roll < 8) {
      r.wheel.cancel(n);
    } else {
      now += rng() % 4 == 0 ? rng() % (40 * kSec) : rng() % (2 * kMs);
      std::fill(deferred.begin(), deferred.end(), false);
      r.advance(now);
      std::size_t armed = 0;
      for (std::size_t i = 0; i < nodes.size(); ++i) {
        if (!nodes[i].armed()) continue;
        ++armed;
        if (!deferred[i]) {
          ASSERT_GT(r.due_ns(nodes[i].want_ns), now) << "left behind";
        }
      }
      ASSERT_EQ(armed, r.wheel.size());
    }
  }
  for (auto& n : nodes) r.wheel.cancel(n);
  EXPECT_EQ(r.wheel.size(), 0U);
}

}  // namespace
}  // namespace kbt::base
