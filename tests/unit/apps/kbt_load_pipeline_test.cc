// kbt-load's --pipeline pieces that need no stack: the window of outstanding
// requests (request_window.hh), the flag's conflict with --close
// (pipeline_option.hh), and the per-status counts of the report
// (status_counts.hh).
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "kbt-load/pipeline_option.hh"
#include "kbt-load/request_window.hh"
#include "kbt-load/status_counts.hh"

namespace kbt::load {
namespace {

// ---- request_window: responses come back in request order (RFC 9112 §9.3.2)

TEST(RequestWindow, ResponsesTakeTheOldestRequestsOriginFirst) {
  std::vector<std::uint64_t> room(8);
  request_window w(room);
  for (std::uint64_t t = 1; t <= 8; ++t) ASSERT_TRUE(w.push(t * 100));
  EXPECT_TRUE(w.full());
  EXPECT_EQ(w.size(), 8u);
  for (std::uint64_t t = 1; t <= 8; ++t) EXPECT_EQ(w.pop(), t * 100);
  EXPECT_TRUE(w.empty());
}

TEST(RequestWindow, HoldsAtMostItsDepth) {
  std::vector<std::uint64_t> room(2);
  request_window w(room);
  EXPECT_TRUE(w.push(1));
  EXPECT_TRUE(w.push(2));
  EXPECT_FALSE(w.push(3));  // a ninth request for -m 8 waits
  EXPECT_EQ(w.size(), 2u);
  EXPECT_EQ(w.pop(), 1u);
  EXPECT_EQ(w.pop(), 2u);
}

TEST(RequestWindow, KeepsOrderAcrossTheRingsWrap) {
  std::vector<std::uint64_t> room(3);
  request_window w(room);
  std::uint64_t next_in = 0;
  std::uint64_t next_out = 0;
  // One response, then one more request, many times: the ring wraps.
  for (int round = 0; round < 3; ++round) ASSERT_TRUE(w.push(next_in++));
  for (int round = 0; round < 100; ++round) {
    EXPECT_EQ(w.pop(), next_out++);
    ASSERT_TRUE(w.push(next_in++));
    EXPECT_EQ(w.size(), 3u);
  }
}

TEST(RequestWindow, DepthOneIsTheRequestAtATimeOfBefore) {
  std::vector<std::uint64_t> room(1);
  request_window w(room);
  EXPECT_EQ(w.capacity(), 1u);
  EXPECT_TRUE(w.push(7));
  EXPECT_FALSE(w.push(8));
  EXPECT_EQ(w.pop(), 7u);
  EXPECT_TRUE(w.push(9));
  EXPECT_EQ(w.pop(), 9u);
}

TEST(RequestWindow, ClearForgetsWhatTheConnectionHadOutstanding) {
  std::vector<std::uint64_t> room(4);
  request_window w(room);
  w.push(1);
  w.push(2);
  w.pop();
  w.clear();  // the connection is gone
  EXPECT_TRUE(w.empty());
  EXPECT_EQ(w.pop(), 0u);  // nothing outstanding
  w.push(5);
  EXPECT_EQ(w.pop(), 5u);
}

// ---- --pipeline and --close

TEST(PipelineOption, DeeperThanOneNeedsKeepAlive) {
  EXPECT_EQ(pipeline_conflict(1, true), "");
  EXPECT_EQ(pipeline_conflict(8, false), "");
  EXPECT_EQ(pipeline_conflict(8, true),
            "--pipeline 8 needs keep-alive: with --close each connection carries one request "
            "(RFC 9112 §9.6)");
}

// ---- status_counts

TEST(StatusCounts, JsonListsTheCodesSeenInOrder) {
  status_counts s;
  EXPECT_EQ(s.to_json(), "{}");
  EXPECT_EQ(s.to_text(), "");
  for (int i = 0; i < 5; ++i) s.add(200);
  s.add(404);
  s.add(404);
  s.add(101);
  EXPECT_EQ(s.to_json(), "{\"101\":1,\"200\":5,\"404\":2}");
  EXPECT_EQ(s.to_text(), "101 1, 200 5, 404 2");
  EXPECT_EQ(s.get(200), 5u);
  EXPECT_EQ(s.get(500), 0u);
}

TEST(StatusCounts, MergeAddsTheCoresCounts) {
  status_counts a;
  status_counts b;
  a.add(200);
  b.add(200);
  b.add(503);
  a.merge(b);
  EXPECT_EQ(a.to_json(), "{\"200\":2,\"503\":1}");
}

TEST(StatusCounts, CodesOutsideThreeDigitsAreNotCounted) {
  status_counts s;
  s.add(-1);
  s.add(1000);
  s.add(7);  // "007" parses as three digits: counted as such
  EXPECT_EQ(s.to_json(), "{\"007\":1}");
}

}  // namespace
}  // namespace kbt::load
