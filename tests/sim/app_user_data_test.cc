// Per-connection user data with a deleter (connection::set_user): the stack
// calls the deleter exactly once when it lets go of the connection, however
// that happens: after on_closed (the peer's close, an abort), inside the
// application's close(), or when the stack stops with the connection open.
#include <gtest/gtest.h>

#include <vector>

#include "api/app.hh"
#include "app_rig.hh"
#include "sim_env.hh"
#include "sim_hosts.hh"
#include "sim_world.hh"
#include "tcp_swarm.hh"

namespace kbt::sim {
namespace {

struct user_rec {
  int deletes = 0;
  bool closed_seen = false;           // on_closed ran (before the deleter)
  bool deleted_after_closed = false;  // on_closed had run when the deleter did
};

void delete_rec(void* p) {
  auto* r = static_cast<user_rec*>(p);
  ++r->deletes;
  r->deleted_after_closed = r->closed_seen;
}

enum class ending { peer_close, app_close, app_abort, stack_stop };

struct owner {
  std::vector<user_rec>* recs;  // reserved by the test: no reallocation
  ending how;
  int peer_fins = 0;

  static user_rec* rec(api::connection c) { return static_cast<user_rec*>(c.user()); }
  void on_accept(api::connection c) {
    ASSERT_LT(recs->size(), recs->capacity());
    recs->emplace_back();
    c.set_user(&recs->back(), &delete_rec);
  }
  void on_data(api::connection c, api::rx_data& d) {
    for (auto s : d) EXPECT_EQ(c.send_copy(s), s.size());
    if (how == ending::app_close) {
      user_rec* r = rec(c);
      ASSERT_NE(r, nullptr);
      c.close();
      EXPECT_EQ(r->deletes, 1) << "close() frees the user data at once";
    } else if (how == ending::app_abort) {
      c.abort();
    }
  }
  void on_peer_fin(api::connection c) {
    ++peer_fins;
    if (how == ending::peer_close) c.shutdown();
  }
  void on_closed(api::connection c, api::close_reason) {
    user_rec* r = rec(c);
    ASSERT_NE(r, nullptr) << "on_closed still sees the user data";
    EXPECT_EQ(r->deletes, 0);
    r->closed_seen = true;
  }
};

constexpr std::size_t kConns = 8;

// kConns clients on A, `how` on B's handler; returns the records.
std::vector<user_rec> run(std::uint64_t seed, ending how) {
  std::vector<user_rec> recs;
  recs.reserve(kConns);
  world_config wc = world_config::short_link(seed);
  sim_world w(wc);
  const unsigned base = w.mbufs_in_use();
  {
    tcp_swarm server(w, side::b, host_b(seed), nullptr, false);
    server.tcp().listen(80);
    app_rig<owner> rig(w, side::b, server, owner{&recs, how});
    tcp_swarm peers(w, side::a, host_a(seed + 7));
    for (std::size_t i = 0; i < kConns; ++i) EXPECT_TRUE(peers.open(kIpB, 80, 500));
    if (how == ending::stack_stop) {
      // Every client has closed its side; the handler holds on in CLOSE_WAIT.
      EXPECT_TRUE(w.run_until([&] { return rig.handler().peer_fins == int{kConns}; }, 30 * kSec,
                              2'000'000)
                      .done);
      for (const user_rec& r : recs) EXPECT_EQ(r.deletes, 0) << "still open";
      api::detail::release_user_data(rig.cores);  // what run_app does after run()
      api::detail::release_user_data(rig.cores);  // and never twice
    } else {
      EXPECT_TRUE(w.run_until([&] { return peers.finished() == kConns; }, 30 * kSec, 2'000'000).done);
      w.run_for(1 * kSec, 1'000'000);  // the last callbacks
    }
  }
  if (how != ending::stack_stop) {
    EXPECT_TRUE(w.run_until([&] { return w.quiescent(); }, 10 * kSec, 1'000'000).done);
    EXPECT_EQ(w.mbufs_in_use(), base);
  }
  EXPECT_EQ(recs.size(), kConns);
  return recs;
}

TEST(AppUserData, DeleterRunsOnceAfterOnClosedWhenThePeerCloses) {
  for (const user_rec& r : run(single_seed(1), ending::peer_close)) {
    EXPECT_EQ(r.deletes, 1);
    EXPECT_TRUE(r.deleted_after_closed);
  }
}

TEST(AppUserData, DeleterRunsOnceInsideClose) {
  for (const user_rec& r : run(single_seed(2), ending::app_close)) {
    EXPECT_EQ(r.deletes, 1);
    EXPECT_FALSE(r.closed_seen) << "close(): no more callbacks";
  }
}

TEST(AppUserData, DeleterRunsOnceAfterOnClosedOnAbort) {
  for (const user_rec& r : run(single_seed(3), ending::app_abort)) {
    EXPECT_EQ(r.deletes, 1);
    EXPECT_TRUE(r.deleted_after_closed);
  }
}

TEST(AppUserData, DeleterRunsOnceForConnectionsOpenWhenTheStackStops) {
  for (const user_rec& r : run(single_seed(4), ending::stack_stop)) {
    EXPECT_EQ(r.deletes, 1);
    EXPECT_FALSE(r.closed_seen);
  }
}

}  // namespace
}  // namespace kbt::sim
