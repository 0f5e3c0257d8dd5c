// Cross-core queues. The pointers pushed are integers dressed as rte_mbuf*
// (never dereferenced), except where the test checks that the fabric frees
// what it still holds; every other test drains its fabric before it dies.
#include "core/steering.hh"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <thread>
#include <vector>

#include "test_env.hh"

namespace kbt::core {
namespace {

using clock_type = std::chrono::steady_clock;
constexpr auto kTimeout = std::chrono::seconds(10);

rte_mbuf* fake(std::uintptr_t v) noexcept { return reinterpret_cast<rte_mbuf*>(v); }
std::uintptr_t value(const rte_mbuf* m) noexcept { return reinterpret_cast<std::uintptr_t>(m); }

// Empties every queue into `to` (values dropped), so the destructor finds
// no fake mbufs to free.
void discard_all(steering_fabric& f) {
  std::array<rte_mbuf*, 64> out{};
  for (std::uint16_t to = 0; to < f.cores(); ++to) {
    while (f.drain(to, out) != 0) {
    }
  }
}

TEST(Steering, PassesEveryPointerInOrderBetweenTwoThreads) {
  constexpr std::uintptr_t kCount = 200'000;
  steering_fabric fabric(2, 1024);
  std::atomic<bool> give_up{false};
  const auto deadline = clock_type::now() + kTimeout;

  std::thread producer([&] {
    for (std::uintptr_t v = 1; v <= kCount;) {
      if (fabric.push(0, 1, fake(v))) {
        ++v;
      } else if (give_up.load(std::memory_order_relaxed)) {
        return;
      } else {
        std::this_thread::yield();  // full: the consumer shares our cores
      }
    }
  });

  std::uintptr_t expect = 1;
  std::size_t wrong = 0;
  std::array<rte_mbuf*, 32> out{};
  while (expect <= kCount) {
    const std::size_t n = fabric.drain(1, out);
    for (std::size_t i = 0; i < n; ++i) {
      if (value(out[i]) != expect && wrong++ == 0) {
        ADD_FAILURE() << "got " << value(out[i]) << ", want " << expect;
      }
      ++expect;
    }
    if (n == 0) {
      if (clock_type::now() > deadline) break;
      std::this_thread::yield();
    }
  }
  give_up = true;
  producer.join();
  EXPECT_EQ(expect, kCount + 1) << "timed out after " << expect - 1 << " pointers";
  EXPECT_EQ(wrong, 0U);
  EXPECT_EQ(fabric.drain(1, out), 0U) << "more than was pushed";
  discard_all(fabric);
}

TEST(Steering, PushToAFullQueueFails) {
  steering_fabric fabric(2, 8);
  EXPECT_EQ(fabric.capacity(), 8U);
  for (std::uintptr_t v = 1; v <= 8; ++v) EXPECT_TRUE(fabric.push(0, 1, fake(v)));
  EXPECT_FALSE(fabric.push(0, 1, fake(9)));
  // The other direction is a queue of its own.
  EXPECT_TRUE(fabric.push(1, 0, fake(100)));
  std::array<rte_mbuf*, 1> one{};
  ASSERT_EQ(fabric.drain(1, one), 1U);
  EXPECT_EQ(value(one[0]), 1U);
  EXPECT_TRUE(fabric.push(0, 1, fake(9)));
  discard_all(fabric);
}

TEST(Steering, RejectsPushToSelfOrUnknownCore) {
  steering_fabric fabric(2, 8);
  EXPECT_FALSE(fabric.push(0, 0, fake(1)));
  EXPECT_FALSE(fabric.push(0, 2, fake(1)));
  EXPECT_FALSE(fabric.push(2, 0, fake(1)));
  std::array<rte_mbuf*, 4> out{};
  EXPECT_EQ(fabric.drain(0, out), 0U);
  EXPECT_EQ(fabric.drain(2, out), 0U);
}

TEST(Steering, DrainSharesBetweenProducersAndKeepsTheirOrder) {
  steering_fabric fabric(3, 64);
  for (std::uintptr_t i = 0; i < 10; ++i) {
    ASSERT_TRUE(fabric.push(0, 1, fake(1000 + i)));
    ASSERT_TRUE(fabric.push(2, 1, fake(2000 + i)));
  }
  std::uintptr_t next_from[3] = {1000, 0, 2000};
  std::array<rte_mbuf*, 4> out{};
  std::size_t total = 0;
  while (const std::size_t n = fabric.drain(1, out)) {
    std::size_t from0 = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t src = value(out[i]) < 2000 ? 0 : 2;
      from0 += src == 0 ? 1U : 0U;
      EXPECT_EQ(value(out[i]), next_from[src]++) << "order within a source";
    }
    if (n == out.size()) {
      EXPECT_EQ(from0, 2U) << "both busy producers get half";
    }
    total += n;
  }
  EXPECT_EQ(total, 20U);
}

TEST(Steering, DrainRotatesWhichProducerGoesFirst) {
  steering_fabric fabric(3, 64);
  for (std::uintptr_t i = 0; i < 4; ++i) {
    ASSERT_TRUE(fabric.push(0, 1, fake(1000 + i)));
    ASSERT_TRUE(fabric.push(2, 1, fake(2000 + i)));
  }
  // Room for one at a time: producers take turns.
  std::array<rte_mbuf*, 1> one{};
  std::vector<bool> from0;
  while (fabric.drain(1, one) == 1) from0.push_back(value(one[0]) < 2000);
  ASSERT_EQ(from0.size(), 8U);
  for (std::size_t i = 1; i < from0.size(); ++i) EXPECT_NE(from0[i], from0[i - 1]) << "at " << i;
}

TEST(Steering, DrainGivesSpareRoomToTheBusyProducer) {
  steering_fabric fabric(3, 64);
  for (std::uintptr_t i = 0; i < 10; ++i) ASSERT_TRUE(fabric.push(0, 1, fake(1000 + i)));
  ASSERT_TRUE(fabric.push(2, 1, fake(2000)));
  std::array<rte_mbuf*, 8> out{};
  ASSERT_EQ(fabric.drain(1, out), 8U);
  std::size_t from2 = 0;
  for (rte_mbuf* m : out) from2 += value(m) == 2000 ? 1U : 0U;
  EXPECT_EQ(from2, 1U);
  EXPECT_EQ(fabric.drain(1, out), 3U);
  EXPECT_EQ(fabric.drain(1, out), 0U);
}

TEST(Steering, DestructorFreesQueuedMbufs) {
  const unsigned before = test::available_mbufs();
  {
    steering_fabric fabric(2, 8);
    for (int i = 0; i < 3; ++i) {
      rte_mbuf* m = test::make_mbuf({1, 2, 3});
      ASSERT_TRUE(fabric.push(static_cast<std::uint16_t>(i % 2),
                              static_cast<std::uint16_t>(1 - i % 2), m));
    }
    EXPECT_LT(test::available_mbufs(), before);
  }
  EXPECT_EQ(test::available_mbufs(), before);
}

TEST(Steering, RejectsBadConfiguration) {
  EXPECT_THROW(steering_fabric(0), std::invalid_argument);
  EXPECT_THROW(steering_fabric(2, 0), std::invalid_argument);
  EXPECT_THROW(steering_fabric(2, 1000), std::invalid_argument);
  steering_fabric one(1, 4);
  std::array<rte_mbuf*, 4> out{};
  EXPECT_EQ(one.drain(0, out), 0U);
}

// A request to another core and its answer, as a connect-on-behalf or a
// stats snapshot would travel.
struct command {
  std::uint32_t kind = 0;
  std::uint16_t from_core = 0;
  std::uint64_t cookie = 0;
};

TEST(Steering, CommandQueueHoldsItsCapacity) {
  command_queue<command, 4> q;
  EXPECT_EQ(q.capacity(), 4U);
  for (std::uint64_t i = 0; i < 4; ++i) EXPECT_TRUE(q.push({1, 0, i}));
  EXPECT_FALSE(q.push({1, 0, 99}));
  EXPECT_EQ(q.pending(), 4U);
  command c;
  for (std::uint64_t i = 0; i < 4; ++i) {
    ASSERT_TRUE(q.pop(c));
    EXPECT_EQ(c.cookie, i);
  }
  EXPECT_FALSE(q.pop(c));
}

TEST(Steering, CommandQueueRoundTripBetweenThreads) {
  constexpr std::uint64_t kRequests = 10'000;
  command_queue<command, 64> requests;
  command_queue<command, 64> replies;
  std::atomic<bool> give_up{false};
  const auto deadline = clock_type::now() + kTimeout;

  // Core 1 answers every request with kind 2 and cookie + 1.
  std::thread server([&] {
    command c;
    for (std::uint64_t served = 0; served < kRequests && !give_up.load();) {
      if (!requests.pop(c)) {
        std::this_thread::yield();
        continue;
      }
      const command answer{2, 1, c.cookie + 1};
      while (!replies.push(answer)) {
        if (give_up.load()) return;
        std::this_thread::yield();
      }
      ++served;
    }
  });

  std::uint64_t sent = 0;
  std::uint64_t answered = 0;
  bool in_order = true;
  while (answered < kRequests && clock_type::now() < deadline) {
    bool progress = false;
    if (sent < kRequests && requests.push({1, 0, sent * 10})) {
      ++sent;
      progress = true;
    }
    command c;
    while (replies.pop(c)) {
      in_order = in_order && c.kind == 2 && c.from_core == 1 && c.cookie == answered * 10 + 1;
      ++answered;
      progress = true;
    }
    if (!progress) std::this_thread::yield();
  }
  give_up = true;
  server.join();
  EXPECT_EQ(answered, kRequests);
  EXPECT_TRUE(in_order);
}

}  // namespace
}  // namespace kbt::core
