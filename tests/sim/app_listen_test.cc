// Listening after start-up and closing a listener from a handler
// (api::listen, api::stop_listening): a client to port 81 is refused before
// the handler listens, served while it does, refused again once it stopped.
#include <gtest/gtest.h>

#include "api/app.hh"
#include "app_rig.hh"
#include "sim_env.hh"
#include "sim_hosts.hh"
#include "sim_world.hh"
#include "tcp_swarm.hh"

namespace kbt::sim {
namespace {

constexpr std::uint16_t kPort = 81;

struct late_listener {
  bool want = false;  // set by the test: the handler acts in its on_poll
  bool listening = false;
  int accepted = 0;

  void on_poll(api::core_context& ctx) {
    if (want && !listening) {
      listening = api::listen(ctx, kPort);
      EXPECT_TRUE(listening);
    } else if (!want && listening) {
      EXPECT_TRUE(api::stop_listening(ctx, kPort));
      EXPECT_FALSE(api::stop_listening(ctx, kPort)) << "closed already";
      listening = false;
    }
  }
  void on_accept(api::connection) { ++accepted; }
  void on_data(api::connection c, api::rx_data& d) {
    for (auto s : d) EXPECT_EQ(c.send_copy(s), s.size());
  }
  void on_peer_fin(api::connection c) { c.shutdown(); }
};

TEST(AppListen, APortOpensAndClosesWhileTheStackRuns) {
  const std::uint64_t seed = single_seed(1);
  SCOPED_TRACE(replay_line(seed));
  world_config wc = world_config::short_link(seed);
  sim_world w(wc);
  const unsigned base = w.mbufs_in_use();
  {
    tcp_swarm server(w, side::b, host_b(seed), nullptr, false);
    app_rig<late_listener> rig(w, side::b, server, late_listener{});
    tcp_swarm peers(w, side::a, host_a(seed + 7));
    const auto attempt = [&](std::size_t n) {
      const auto i = peers.open(kIpB, kPort, 400);
      EXPECT_TRUE(i.has_value());
      EXPECT_TRUE(w.run_until([&] { return peers.finished() == n; }, 10 * kSec, 1'000'000).done);
      return i ? peers.results()[*i] : client_result{};
    };
    const client_result before = attempt(1);
    EXPECT_FALSE(before.connected);
    EXPECT_EQ(before.reason, tcp::close_reason::refused) << "nobody listens yet";

    rig.handler().want = true;
    w.run_for(10 * kMs, 100'000);
    EXPECT_TRUE(rig.handler().listening);
    EXPECT_TRUE(attempt(2).ok(400)) << "served once the handler listens";
    EXPECT_EQ(rig.handler().accepted, 1);

    rig.handler().want = false;
    w.run_for(10 * kMs, 100'000);
    const client_result after = attempt(3);
    EXPECT_FALSE(after.connected);
    EXPECT_EQ(after.reason, tcp::close_reason::refused) << "the listener is closed";
    EXPECT_EQ(rig.handler().accepted, 1);
    w.run_for(5 * kSec, 1'000'000);  // TIME_WAIT ends
  }
  EXPECT_TRUE(w.run_until([&] { return w.quiescent(); }, 10 * kSec, 1'000'000).done);
  EXPECT_EQ(w.mbufs_in_use(), base);
}

}  // namespace
}  // namespace kbt::sim
