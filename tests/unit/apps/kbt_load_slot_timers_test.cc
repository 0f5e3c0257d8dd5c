// kbt-load's slot timers (slot_timers.hh): a poll looks at the slots whose
// wake time has come, each once, never before its time, and at no other.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "kbt-load/slot_timers.hh"

namespace kbt::load {
namespace {

constexpr std::uint64_t kUs = 1'000;
constexpr std::uint64_t kNotSeen = ~std::uint64_t{0};

// The open-loop schedule that made the old scan O(slots) per poll: 50,000
// slots spread over 1.25 s (40,000 requests/s), polled every 25 µs. Each
// poll looks at the one or two slots due, not at 50,000.
TEST(SlotTimers, APollLooksOnlyAtTheSlotsDueByThen) {
  constexpr std::uint32_t kSlots = 50'000;
  slot_timers timers(kSlots);
  for (std::uint32_t i = 0; i < kSlots; ++i) timers.wake_at(i, std::uint64_t{i} * 25 * kUs);
  std::vector<int> looks(kSlots, 0);
  std::size_t most_in_one_poll = 0;
  for (std::uint64_t now = 0; now <= std::uint64_t{kSlots} * 25 * kUs; now += 25 * kUs) {
    const std::size_t n = timers.run_due(now, [&](std::uint32_t i) {
      ++looks[i];
      EXPECT_GE(now, std::uint64_t{i} * 25 * kUs) << "slot " << i << " looked at early";
    });
    most_in_one_poll = std::max(most_in_one_poll, n);
  }
  for (std::uint32_t i = 0; i < kSlots; ++i) ASSERT_EQ(looks[i], 1) << "slot " << i;
  EXPECT_LE(most_in_one_poll, 2U);
  EXPECT_EQ(timers.armed_count(), 0U);
}

// Random wake times and random poll steps (seeded, so a failure replays):
// every slot is looked at exactly once, at the first poll at or after its
// wake time rounded up to the wheel's 1 µs tick.
TEST(SlotTimers, RandomWakesAreEachSeenOnceAtTheFirstPollDue) {
  for (std::uint32_t seed = 1; seed <= 20; ++seed) {
    std::mt19937_64 rng(seed);
    const std::uint32_t slots = 1 + static_cast<std::uint32_t>(rng() % 2000);
    slot_timers timers(slots);
    std::vector<std::uint64_t> wake(slots);
    for (std::uint32_t i = 0; i < slots; ++i) {
      wake[i] = rng() % (3'000'000 * kUs);  // up to 3 s ahead
      timers.wake_at(i, wake[i]);
    }
    std::vector<std::uint64_t> seen(slots, kNotSeen);
    std::uint64_t prev = 0;
    std::uint64_t now = 0;
    for (int poll = 0; poll < 200'000 && timers.armed_count() > 0; ++poll) {
      now += rng() % (100 * kUs);
      timers.run_due(now, [&, poll](std::uint32_t i) {
        EXPECT_EQ(seen[i], kNotSeen) << "seed " << seed << " slot " << i << " seen twice";
        seen[i] = now;
        const std::uint64_t due = (wake[i] + kUs - 1) / kUs * kUs;
        EXPECT_GE(now, due) << "seed " << seed << " slot " << i;
        EXPECT_TRUE(poll == 0 || prev < due) << "seed " << seed << " slot " << i << " seen late";
      });
      prev = now;
    }
    for (std::uint32_t i = 0; i < slots; ++i) ASSERT_NE(seen[i], kNotSeen) << "seed " << seed << " slot " << i;
  }
}

TEST(SlotTimers, TheEarliestWakeAskedForWins) {
  slot_timers timers(2);
  timers.wake_at(0, 100 * kUs);
  timers.wake_at(0, 50 * kUs);   // earlier: moves it
  timers.wake_at(0, 200 * kUs);  // later: the 50 µs one stays
  int looks = 0;
  EXPECT_EQ(timers.run_due(49 * kUs, [&](std::uint32_t) { ++looks; }), 0U);
  EXPECT_EQ(timers.run_due(50 * kUs, [&](std::uint32_t i) { looks += i == 0 ? 1 : 100; }), 1U);
  EXPECT_EQ(timers.run_due(300 * kUs, [&](std::uint32_t) { ++looks; }), 0U);
  EXPECT_EQ(looks, 1);
}

// A slot asks for its next wake while it is looked at (the load handler's
// visit): the wake comes in a later poll, never in the same one.
TEST(SlotTimers, AWakeAskedForDuringALookComesInALaterPoll) {
  slot_timers timers(1);
  timers.wake_at(0, 10 * kUs);
  int looks = 0;
  const auto again_now = [&](std::uint32_t i) {
    ++looks;
    timers.wake_at(i, 0);  // already past
  };
  EXPECT_EQ(timers.run_due(10 * kUs, again_now), 1U);
  EXPECT_TRUE(timers.armed(0));
  EXPECT_EQ(timers.run_due(11 * kUs, again_now), 1U);
  EXPECT_EQ(looks, 2);
}

TEST(SlotTimers, CancelAllLeavesNothingToWake) {
  slot_timers timers(3);
  for (std::uint32_t i = 0; i < 3; ++i) timers.wake_at(i, (i + 1) * kUs);
  timers.cancel_all();
  EXPECT_EQ(timers.armed_count(), 0U);
  EXPECT_EQ(timers.run_due(1'000 * kUs, [](std::uint32_t) { ADD_FAILURE() << "woken"; }), 0U);
}

}  // namespace
}  // namespace kbt::load
