// on_writable as api/app.hh documents it: once after a send that was refused
// or short, when the send buffer has room again, and only for that
// connection. The TCP layer reports every ACK that frees space (ack.cc);
// the API layer passes on only those a refused send waits for.
#include <gtest/gtest.h>

#include <cstddef>
#include <vector>

#include "api/app.hh"
#include "app_rig.hh"
#include "sim_env.hh"
#include "sim_hosts.hh"
#include "sim_world.hh"
#include "tcp_swarm.hh"

namespace kbt::sim {
namespace {

struct writable_stats {
  int short_sends = 0;          // send_copy took less than offered
  int writables = 0;            // on_writable calls
  int unasked_writables = 0;    // on_writable with no short send waiting
  int acked_calls = 0;          // on_acked calls: ACKs that freed space
  int closed_normal = 0;
};

// What one connection still has to echo.
struct pending_echo {
  std::vector<std::byte> bytes;
  std::size_t sent = 0;
  bool waiting = false;  // a short send waits for on_writable
  bool fin = false;
};

// Echoes through send_copy; what does not fit waits here, with reading
// paused, until on_writable.
struct buffered_echo {
  writable_stats* st;
  std::vector<pending_echo>* conns;  // reserved by the test: no reallocation

  static pending_echo& of(api::connection c) { return *static_cast<pending_echo*>(c.user()); }
  void on_accept(api::connection c) {
    ASSERT_LT(conns->size(), conns->capacity());
    conns->emplace_back();
    c.set_user(&conns->back());
  }
  void on_data(api::connection c, api::rx_data& d) {
    pending_echo& p = of(c);
    for (auto s : d) p.bytes.insert(p.bytes.end(), s.begin(), s.end());
    push(c, p);
  }
  void on_writable(api::connection c) {
    pending_echo& p = of(c);
    ++st->writables;
    if (!p.waiting) ++st->unasked_writables;
    p.waiting = false;
    push(c, p);
    if (!p.waiting) c.resume_reading();
  }
  void on_peer_fin(api::connection c) { finish(c, of(c)); }
  void on_acked(api::connection, std::uint64_t) { ++st->acked_calls; }
  void on_closed(api::connection, api::close_reason why) {
    if (why == api::close_reason::normal) ++st->closed_normal;
  }

  void push(api::connection c, pending_echo& p) {
    if (p.waiting) return;
    const std::span<const std::byte> rest(p.bytes.data() + p.sent, p.bytes.size() - p.sent);
    if (rest.empty()) return;
    p.sent += c.send_copy(rest);
    if (p.sent < p.bytes.size()) {
      ++st->short_sends;
      p.waiting = true;
      c.pause_reading();
      return;
    }
    p.bytes.clear();
    p.sent = 0;
    finish(c, p);
  }
  static void finish(api::connection c, pending_echo& p) {
    if (p.fin || !p.bytes.empty() || !c.peer_closed()) return;
    p.fin = true;
    c.shutdown();
  }
};

// `clients` connections each send `request` bytes to an echo on B whose
// send buffer holds `snd_buffer` bytes; every byte must come back.
writable_stats run_echo(std::uint64_t seed, std::size_t clients, std::uint32_t request,
                        std::uint32_t snd_buffer) {
  writable_stats st;
  world_config wc;
  wc.seed = seed;
  wc.a_to_b.delay_ns = 200'000;
  wc.b_to_a.delay_ns = 200'000;
  sim_world w(wc);
  const unsigned base = w.mbufs_in_use();
  std::vector<pending_echo> conns;
  conns.reserve(clients);
  {
    swarm_config sc = host_b(seed);
    sc.tcp.snd_buffer = snd_buffer;
    tcp_swarm server(w, side::b, sc, nullptr, false);
    server.tcp().listen(80);
    app_rig<buffered_echo> rig(w, side::b, server, buffered_echo{&st, &conns});
    tcp_swarm peers(w, side::a, host_a(seed + 7));
    for (std::size_t i = 0; i < clients; ++i) EXPECT_TRUE(peers.open(kIpB, 80, request));
    const auto r = w.run_until(
        [&] { return peers.finished() == clients && st.closed_normal == static_cast<int>(clients); },
        120 * kSec, 20'000'000);
    EXPECT_TRUE(r.done) << "finished " << peers.finished() << " closed " << st.closed_normal;
    EXPECT_EQ(peers.succeeded(), clients) << "every byte echoed";
  }
  EXPECT_TRUE(w.run_until([&] { return w.quiescent(); }, 10 * kSec, 1'000'000).done);
  EXPECT_EQ(w.mbufs_in_use(), base);
  return st;
}

TEST(AppWritable, OnWritableComesOnceAfterEachShortSendAndNeverUnasked) {
  for_each_seed(seeds_to_run(5), [](std::uint64_t seed) {
    // 200 KB per connection through a 16 KB send buffer: many short sends.
    const writable_stats st = run_echo(seed, 4, 200 * 1024, 16 * 1024);
    EXPECT_GT(st.short_sends, 0);
    EXPECT_GT(st.writables, 0);
    EXPECT_EQ(st.unasked_writables, 0) << "on_writable without a short send waiting";
    EXPECT_LE(st.writables, st.short_sends) << "at most once per short send";
    // The layer reported more freeing ACKs than the application was told of.
    EXPECT_GT(st.acked_calls, st.writables);
  });
}

TEST(AppWritable, NoOnWritableWhenEverySendFits) {
  for_each_seed(seeds_to_run(5), [](std::uint64_t seed) {
    const writable_stats st = run_echo(seed, 10, 700, 256 * 1024);
    EXPECT_EQ(st.short_sends, 0);
    EXPECT_GT(st.acked_calls, 0) << "ACKs freed space";
    EXPECT_EQ(st.writables, 0) << "no send was refused: nothing to report";
  });
}

}  // namespace
}  // namespace kbt::sim
