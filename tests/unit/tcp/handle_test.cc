// tcp::handle (tcp/handle.hh): the API's view of a TCB. Whether a handle
// still names the connection it was taken for, and the two accessors that
// change the TCB for the API (the acked count, a stale writable event).
#include <gtest/gtest.h>

#include "tcp/handle.hh"

namespace kbt::tcp {
namespace {

struct held_tcb {
  tcb c{1024, 4, 1024, 4};
  held_tcb() {
    c.index = 3;
    c.generation = 9;
    c.life = lifecycle::application;
  }
};

TEST(Handle, StillHeldWhileTheSameConnectionIsTheApplications) {
  held_tcb t;
  const handle h(t.c);
  EXPECT_TRUE(h.still_held(9));
  EXPECT_TRUE(h.held_by_app());
  EXPECT_EQ(h.slot(), 3u);
  EXPECT_EQ(h.generation(), 9u);
}

TEST(Handle, AReusedSlotIsNotTheSameConnection) {
  held_tcb t;
  const handle h(t.c);
  t.c.generation = 10;  // the TCB went back to the pool and came out again
  EXPECT_FALSE(h.still_held(9));
  EXPECT_TRUE(h.still_held(10));
}

TEST(Handle, ReleasedOrFreedIsNotHeld) {
  held_tcb t;
  const handle h(t.c);
  t.c.life = lifecycle::orphan;  // the application called release()
  EXPECT_FALSE(h.still_held(9));
  EXPECT_FALSE(h.held_by_app());
  t.c.life = lifecycle::free;  // back in the pool
  EXPECT_FALSE(h.still_held(9));
  EXPECT_FALSE(h.in_use());
}

TEST(Handle, ANullHandleHoldsNothing) {
  const handle h;
  EXPECT_FALSE(h);
  EXPECT_FALSE(h.still_held(0));
  EXPECT_EQ(h, handle(static_cast<tcb*>(nullptr)));
}

TEST(Handle, TakingTheAckedBytesStartsTheCountAgain) {
  held_tcb t;
  t.c.acked_unreported = 1460;
  const handle h(t.c);
  EXPECT_EQ(h.take_acked_bytes(), 1460u);
  EXPECT_EQ(t.c.acked_unreported, 0u);
  EXPECT_EQ(h.take_acked_bytes(), 0u);
}

TEST(Handle, DroppingAPendingWritableKeepsTheOtherEvents) {
  held_tcb t;
  t.c.events = event::kWritable | event::kReadable | event::kClosed;
  handle(t.c).drop_pending_writable();
  EXPECT_EQ(t.c.events, event::kReadable | event::kClosed);
}

TEST(Handle, ReadsWhatTheApplicationMayKnow) {
  held_tcb t;
  t.c.opened = open_kind::passive;
  t.c.reason = close_reason::timeout;
  t.c.rx_paused = true;
  t.c.fin_received = true;
  t.c.rx_bytes = 77;
  t.c.syn_retransmits = 2;
  int mine = 0;
  const handle h(t.c);
  h.set_user(&mine);
  EXPECT_TRUE(h.accepted());
  EXPECT_EQ(h.why_closed(), close_reason::timeout);
  EXPECT_TRUE(h.reading_paused());
  EXPECT_TRUE(h.peer_fin_received());
  EXPECT_EQ(h.unread_bytes(), 77u);
  EXPECT_EQ(h.syn_retransmits(), 2u);
  EXPECT_EQ(h.send_space(), t.c.snd.free_space());
  EXPECT_EQ(h.user(), &mine);
  EXPECT_EQ(&h.tcb_ref(), &t.c);
}

}  // namespace
}  // namespace kbt::tcp
