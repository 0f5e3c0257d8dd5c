// segment_queue (tcp/segment_queue.hh): the out queue of one core's TCP
// and the tx room of an iteration. What the owner does not take stays, in
// order, at the front; nothing queued is lost or leaked.
#include "tcp/segment_queue.hh"

#include <gtest/gtest.h>

#include <vector>

#include "test_env.hh"

namespace kbt::tcp::test {
namespace {

// An owner that takes at most `accept` packets a flush and frees them.
struct owner {
  std::size_t accept = SIZE_MAX;
  std::vector<std::uint32_t> got;  // dst of each packet taken, in order
  std::size_t calls = 0;

  static std::size_t take(void* ctx, std::span<const out_packet> pkts) noexcept {
    auto& o = *static_cast<owner*>(ctx);
    ++o.calls;
    const std::size_t n = std::min(o.accept, pkts.size());
    for (std::size_t i = 0; i < n; ++i) {
      o.got.push_back(pkts[i].dst.value);
      rte_pktmbuf_free(pkts[i].m);
    }
    return n;
  }
};

rte_mbuf* packet() {
  rte_mbuf* m = rte_pktmbuf_alloc(kbt::test::mbuf_pool());
  EXPECT_NE(m, nullptr);
  return m;
}

unsigned in_use() { return rte_mempool_in_use_count(kbt::test::mbuf_pool()); }

TEST(SegmentQueue, FlushHandsOverEverythingInOrder) {
  owner o;
  segment_queue q(&owner::take, &o);
  for (std::uint32_t i = 1; i <= 5; ++i) ASSERT_TRUE(q.push(packet(), wire::ipv4_addr{i}));
  EXPECT_EQ(q.size(), 5U);
  EXPECT_TRUE(o.got.empty()) << "nothing goes before a flush";
  q.flush();
  EXPECT_EQ(o.got, (std::vector<std::uint32_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(q.size(), 0U);
}

TEST(SegmentQueue, WhatTheOwnerDoesNotTakeWaitsAtTheFrontAndEndsTheRoom) {
  owner o;
  o.accept = 2;
  segment_queue q(&owner::take, &o);
  for (std::uint32_t i = 1; i <= 5; ++i) ASSERT_TRUE(q.push(packet(), wire::ipv4_addr{i}));
  EXPECT_TRUE(q.room_left());
  q.flush();
  EXPECT_EQ(q.size(), 3U);
  EXPECT_FALSE(q.room_left()) << "the owner is full: no more segments this iteration";
  EXPECT_FALSE(q.has_room());
  o.accept = SIZE_MAX;
  q.set_room(10);
  q.flush();
  EXPECT_EQ(o.got, (std::vector<std::uint32_t>{1, 2, 3, 4, 5}));
}

TEST(SegmentQueue, APushOnAFullQueueFlushesFirst) {
  owner o;
  segment_queue q(&owner::take, &o);
  for (std::uint32_t i = 0; i < segment_queue::kCapacity + 1; ++i) {
    ASSERT_TRUE(q.push(packet(), wire::ipv4_addr{i}));
  }
  EXPECT_EQ(o.calls, 1U);
  EXPECT_EQ(o.got.size(), segment_queue::kCapacity);
  EXPECT_EQ(q.size(), 1U);
  q.flush();
}

TEST(SegmentQueue, APushTheOwnerCannotTakeIsFreedAndReported) {
  owner o;
  o.accept = 0;
  const unsigned before = in_use();
  {
    segment_queue q(&owner::take, &o);
    for (std::size_t i = 0; i < segment_queue::kCapacity; ++i) {
      ASSERT_TRUE(q.push(packet(), wire::ipv4_addr{1}));
    }
    EXPECT_FALSE(q.push(packet(), wire::ipv4_addr{2})) << "full, and the owner takes none";
    EXPECT_EQ(q.size(), segment_queue::kCapacity);
  }
  EXPECT_EQ(in_use(), before) << "the dropped packet and the queued ones are freed";
}

TEST(SegmentQueue, RoomCountsDownWithEachPush) {
  owner o;
  segment_queue q(&owner::take, &o);
  q.set_room(2);
  EXPECT_TRUE(q.has_room());
  ASSERT_TRUE(q.push(packet(), wire::ipv4_addr{1}));
  EXPECT_TRUE(q.has_room());
  ASSERT_TRUE(q.push(packet(), wire::ipv4_addr{2}));
  EXPECT_FALSE(q.has_room());
  q.flush();
}

TEST(SegmentQueue, FirstSynsArePacedPerIterationOnlyUnderARoomLimit) {
  owner o;
  segment_queue q(&owner::take, &o);
  for (std::uint32_t i = 0; i < 2 * segment_queue::kSynsPerIteration; ++i) q.count_syn();
  EXPECT_TRUE(q.syn_allowed()) << "no limit set: no pacing";
  q.set_room(1000);
  for (std::uint32_t i = 0; i < segment_queue::kSynsPerIteration; ++i) {
    EXPECT_TRUE(q.syn_allowed());
    q.count_syn();
  }
  EXPECT_FALSE(q.syn_allowed());
  q.set_room(1000);
  EXPECT_TRUE(q.syn_allowed()) << "a new iteration, a new budget";
}

}  // namespace
}  // namespace kbt::tcp::test
