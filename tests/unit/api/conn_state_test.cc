// api::core_context's per-connection records (connection.hh): the "wants
// writable" wish that a refused or short send leaves, and records that
// follow a TCB slot's reuse.
#include <gtest/gtest.h>

#include <vector>

#include "api/connection.hh"

namespace kbt::api {
namespace {

using namespace tcp::event;

struct records {
  std::vector<conn_state> conns = std::vector<conn_state>(4);
  core_context ctx;
  tcp::tcb c{1024, 4, 1024, 4};
  tcp::handle h{c};
  records() {
    ctx.conns = conns;
    c.index = 2;
    c.generation = 7;
  }
};

TEST(ConnState, NoWishUntilASendIsRefused) {
  records r;
  EXPECT_FALSE(r.ctx.wants_writable(r.h));
  r.ctx.want_writable(r.h);
  EXPECT_TRUE(r.ctx.wants_writable(r.h));
  r.ctx.writable_delivered(r.h);
  EXPECT_FALSE(r.ctx.wants_writable(r.h)) << "once per refusal";
}

TEST(ConnState, ARefusalDropsAWritableNoticeOlderThanIt) {
  records r;
  // This iteration's input freed space before the send was refused: that
  // space is already spent, so the notice must not wake the sender.
  r.c.events = kWritable | kReadable;
  r.ctx.want_writable(r.h);
  EXPECT_EQ(r.c.events, kReadable);
}

TEST(ConnState, AReusedSlotStartsWithoutTheOldWish) {
  records r;
  r.ctx.want_writable(r.h);
  r.c.generation = 8;  // the TCB went back to the pool and came out again
  EXPECT_FALSE(r.ctx.wants_writable(r.h));
}

TEST(ConnState, WithoutRecordsNothingIsWished) {
  core_context ctx;  // a context nobody sized: no records, no crash
  tcp::tcb c(1024, 4, 1024, 4);
  ctx.want_writable(tcp::handle(c));
  EXPECT_FALSE(ctx.wants_writable(tcp::handle(c)));
}

}  // namespace
}  // namespace kbt::api
