// The application API (api/app.hh, api/connection.hh) driven in the
// simulator: a handler on B's core answers each request with a zero-copy
// tx_buffer, sees its bytes acknowledged, the peer's FIN and the close;
// clients on A check every byte.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "api/app.hh"
#include "app_rig.hh"
#include "sim_env.hh"
#include "sim_hosts.hh"
#include "sim_world.hh"
#include "tcp_swarm.hh"

namespace kbt::sim {
namespace {

struct events {
  int accepted = 0;
  int peer_fins = 0;
  int closed_normal = 0;
  std::uint64_t received = 0;
  std::uint64_t acked = 0;
  std::uint64_t sent = 0;
};

// Echoes each request back through alloc_tx + send (zero-copy from the
// application's buffer), closes after the peer's FIN.
struct echo_back {
  events* ev;
  void on_accept(api::connection c) {
    ++ev->accepted;
    c.set_nodelay(true);
  }
  void on_data(api::connection c, api::rx_data& d) {
    ev->received += d.size();
    api::tx_buffer b = c.alloc_tx(d.size());
    ASSERT_TRUE(b);
    std::size_t at = 0;
    for (auto span : d) {
      std::memcpy(b.data().data() + at, span.data(), span.size());
      at += span.size();
    }
    const std::size_t n = c.send(b);
    EXPECT_EQ(n, at) << "the send buffer has room for a small echo";
    ev->sent += n;
  }
  void on_peer_fin(api::connection c) {
    ++ev->peer_fins;
    c.shutdown();
  }
  void on_acked(api::connection, std::uint64_t bytes) { ev->acked += bytes; }
  void on_closed(api::connection c, api::close_reason why) {
    EXPECT_TRUE(c.valid()) << "the handle lives until on_closed returns";
    if (why == api::close_reason::normal) ++ev->closed_normal;
  }
};

TEST(AppApi, CallbacksSeeEveryConnectionFromAcceptToClose) {
  for_each_seed(seeds_to_run(10), [](std::uint64_t seed) {
    world_config wc;
    wc.seed = seed;
    wc.a_to_b.delay_ns = 200'000;
    wc.b_to_a.delay_ns = 200'000;
    wc.a_to_b.loss = 0.01;
    wc.b_to_a.loss = 0.01;
    sim_world w(wc);
    const unsigned base = w.mbufs_in_use();
    events ev;
    {
      tcp_swarm server(w, side::b, host_b(seed), nullptr, false);
      server.tcp().listen(80);
      app_rig<echo_back> rig(w, side::b, server, echo_back{&ev});
      tcp_swarm clients(w, side::a, host_a(seed + 7));
      constexpr std::size_t kClients = 20;
      constexpr std::uint32_t kRequest = 700;
      for (std::size_t i = 0; i < kClients; ++i) ASSERT_TRUE(clients.open(kIpB, 80, kRequest));
      const auto r = w.run_until([&] { return clients.finished() == kClients && ev.closed_normal == static_cast<int>(kClients); },
                                 60 * kSec, 5'000'000);
      ASSERT_TRUE(r.done) << "finished " << clients.finished() << " closed " << ev.closed_normal;
      EXPECT_EQ(clients.succeeded(), kClients);
      EXPECT_EQ(ev.accepted, static_cast<int>(kClients));
      EXPECT_EQ(ev.peer_fins, static_cast<int>(kClients));
      EXPECT_EQ(ev.received, kClients * kRequest);
      EXPECT_EQ(ev.sent, kClients * kRequest);
      EXPECT_EQ(ev.acked, kClients * kRequest) << "on_acked counts every byte once";
    }
    EXPECT_TRUE(w.run_until([&] { return w.quiescent(); }, 10 * kSec, 1'000'000).done);
    EXPECT_EQ(w.mbufs_in_use(), base);
  });
}

}  // namespace
}  // namespace kbt::sim
