// Sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4), above all across
// the wrap, where raw uint32_t comparisons give the wrong answer.
#include "wire/seq32.hh"

#include <gtest/gtest.h>

#include <cstdint>

namespace kbt::wire {
namespace {

TEST(Seq32, ComparesAcrossTheWrap) {
  const seq32 before{0xfffffff0};
  const seq32 after{0x10};
  EXPECT_LT(before, after);
  EXPECT_LE(before, after);
  EXPECT_GT(after, before);
  EXPECT_GE(after, before);
  EXPECT_FALSE(after < before);
  EXPECT_FALSE(before > after);
  EXPECT_NE(before, after);
  // The raw values order the other way: that is the bug this type prevents.
  EXPECT_GT(before.value, after.value);
}

TEST(Seq32, ComparesWithoutWrap) {
  EXPECT_LT(seq32{1000}, seq32{1001});
  EXPECT_GT(seq32{0x7fffffff}, seq32{0});
  EXPECT_LE(seq32{5}, seq32{5});
  EXPECT_GE(seq32{5}, seq32{5});
  EXPECT_FALSE(seq32{5} < seq32{5});
  EXPECT_FALSE(seq32{5} > seq32{5});
  EXPECT_EQ(seq32{5}, seq32{5});
}

TEST(Seq32, HalfTheSpaceDecidesOrder) {
  // Less than 2^31 ahead is "after"; more than 2^31 ahead is "before".
  EXPECT_LT(seq32{0}, seq32{0x7fffffff});
  EXPECT_GT(seq32{0}, seq32{0x80000001});
}

TEST(Seq32, ArithmeticWraps) {
  EXPECT_EQ(seq32{0xffffffff} + 1, seq32{0});
  EXPECT_EQ(seq32{0xfffffff0} + 0x20, seq32{0x10});
  EXPECT_EQ(seq32{0x10} - 0x20, seq32{0xfffffff0});
  seq32 s{0xfffffffe};
  s += 3;
  EXPECT_EQ(s, seq32{1});
  s -= 2;
  EXPECT_EQ(s, seq32{0xffffffff});
  ++s;
  EXPECT_EQ(s, seq32{0});
}

TEST(Seq32, DifferenceIsSigned) {
  EXPECT_EQ(seq32{0x10} - seq32{0xfffffff0}, 0x20);
  EXPECT_EQ(seq32{0xfffffff0} - seq32{0x10}, -0x20);
  EXPECT_EQ(seq32{1000} - seq32{1000}, 0);
  EXPECT_EQ(seq32{0x80000000} - seq32{0}, INT32_MIN);
}

TEST(Seq32, MinAndMaxFollowSequenceOrder) {
  const seq32 a{0xfffffff0};
  const seq32 b{0x10};
  EXPECT_EQ(seq_min(a, b), a);
  EXPECT_EQ(seq_min(b, a), a);
  EXPECT_EQ(seq_max(a, b), b);
  EXPECT_EQ(seq_max(b, a), b);
  EXPECT_EQ(seq_max(seq32{3}, seq32{7}), seq32{7});
}

TEST(Seq32, InWindow) {
  // RCV.NXT = 0xfffffff0, RCV.WND = 0x100: the window straddles the wrap.
  const seq32 nxt{0xfffffff0};
  EXPECT_TRUE(in_window(nxt, nxt, 0x100));
  EXPECT_TRUE(in_window(seq32{0xffffffff}, nxt, 0x100));
  EXPECT_TRUE(in_window(seq32{0}, nxt, 0x100));
  EXPECT_TRUE(in_window(seq32{0xef}, nxt, 0x100));
  EXPECT_FALSE(in_window(seq32{0xf0}, nxt, 0x100)) << "one past the end";
  EXPECT_FALSE(in_window(seq32{0xffffffef}, nxt, 0x100)) << "one before the start";
  EXPECT_FALSE(in_window(nxt, nxt, 0)) << "an empty window holds nothing";
  EXPECT_TRUE(in_window(seq32{1001}, seq32{1000}, 2));
  EXPECT_FALSE(in_window(seq32{1002}, seq32{1000}, 2));
}

TEST(Seq32, InRangeClosed) {
  // SND.UNA < SEG.ACK =< SND.NXT with SND.UNA = 0xfffffffe, SND.NXT = 5.
  const seq32 una{0xfffffffe};
  const seq32 nxt{5};
  EXPECT_FALSE(in_range_closed(una, una + 1, nxt));
  EXPECT_TRUE(in_range_closed(seq32{0xffffffff}, una + 1, nxt));
  EXPECT_TRUE(in_range_closed(seq32{0}, una + 1, nxt));
  EXPECT_TRUE(in_range_closed(nxt, una + 1, nxt));
  EXPECT_FALSE(in_range_closed(nxt + 1, una + 1, nxt));
  EXPECT_TRUE(in_range_closed(seq32{7}, seq32{7}, seq32{7}));
}

TEST(Seq32, IsConstexpr) {
  static_assert(seq32{0xfffffff0} < seq32{0x10});
  static_assert((seq32{0xffffffff} + 2).value == 1);
  static_assert(in_window(seq32{0}, seq32{0xffffffff}, 2));
  SUCCEED();
}

}  // namespace
}  // namespace kbt::wire
