// A thread that is not a stack core opens, uses and closes connections
// through its thread_link (api/thread_link.hh): a real std::thread on one
// side of the queues, B's core in the simulated world on the other, an echo
// server on A. Every byte comes back, every connection closes normally, and
// every mbuf returns to its pool.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "api/app.hh"
#include "sim_env.hh"
#include "sim_hosts.hh"
#include "sim_world.hh"
#include "tcp_swarm.hh"

namespace kbt::sim {
namespace {

struct no_handler {};  // the core's own handler does nothing here

// B's core as run_app would run it for one thread's link: the swarm's engine,
// the app layer's poll hook, one link attached. Polled by the world; it must
// outlive the polling, so it stays where it was built.
struct link_core {
  std::vector<api::detail::app_core<no_handler>> cores;
  api::thread_links links{1};

  link_core(sim_world& w, tcp_swarm& client, std::uint32_t max_conns) : cores(1) {
    api::detail::init_core(cores[0], client.engine(), w.pool(side::b), 0);
    cores[0].handler = std::make_unique<no_handler>();
    links.attach(1);
    api::detail::attach_links(cores[0], links, 0, max_conns);
    w.set_poll(side::b, [this, &client](std::uint64_t now) {
      client.engine().poll(base::instant_from_ns(now), &api::detail::poll_hook<no_handler>, &cores);
    });
  }
  link_core(const link_core&) = delete;
  link_core& operator=(const link_core&) = delete;
};

std::uint8_t byte_of(std::uint64_t tag, std::uint32_t i) noexcept {
  return static_cast<std::uint8_t>(tag * 13 + i * 5 + 3);
}

TEST(ThreadLink, AWorkerThreadConnectsSendsAndClosesThroughItsLink) {
  const std::uint64_t seed = single_seed(1);
  SCOPED_TRACE(replay_line(seed));
  constexpr int kConns = 8;
  constexpr std::uint32_t kBytes = 6000;  // more than one mbuf: a chain comes back
  world_config wc = world_config::short_link(seed);
  sim_world w(wc);
  const unsigned base = w.mbufs_in_use();
  {
    tcp_swarm server(w, side::a, host_a(seed));
    server.serve(80);

    swarm_config cc = host_b(seed + 1);
    cc.max_conns = 64;
    tcp_swarm client(w, side::b, cc, nullptr, false);
    link_core rig(w, client, cc.max_conns);
    api::thread_links& links = rig.links;

    std::atomic<bool> thread_done{false};
    std::atomic<int> closed_ok{0};
    std::atomic<int> errors{0};
    std::vector<std::uint32_t> echoed(kConns, 0);
    rte_mempool* pool = w.pool(side::b);
    std::thread worker([&] {
      api::thread_link& link = links.at(0, 0);
      using op = api::thread_request::op;
      using kind = api::thread_completion::kind;
      for (int i = 0; i < kConns; ++i) {
        while (!link.submit({op::connect, 0, static_cast<std::uint64_t>(i), kIpA, 80})) {
          std::this_thread::yield();
        }
      }
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      int closed = 0;
      while (closed < kConns && std::chrono::steady_clock::now() < deadline) {
        api::thread_completion c;
        if (!link.next(c)) {
          std::this_thread::yield();
          continue;
        }
        switch (c.what) {
          case kind::connected: {
            // The payload in one mbuf chain, built by this thread.
            rte_mbuf* head = nullptr;
            for (std::uint32_t at = 0; at < kBytes;) {
              rte_mbuf* m = rte_pktmbuf_alloc(pool);
              if (m == nullptr) {
                ++errors;
                break;
              }
              const auto n = static_cast<std::uint16_t>(std::min<std::uint32_t>(kBytes - at, 1500));
              auto* p = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, n));
              for (std::uint16_t k = 0; k < n; ++k) p[k] = byte_of(c.tag, at + k);
              at += n;
              if (head == nullptr) {
                head = m;
              } else if (rte_pktmbuf_chain(head, m) != 0) {
                ++errors;
              }
            }
            while (!link.submit({op::send, c.id, 0, {}, 0, head})) std::this_thread::yield();
            while (!link.submit({op::shutdown, c.id})) std::this_thread::yield();
            break;
          }
          case kind::data:
            for (rte_mbuf* s = c.data; s != nullptr; s = s->next) {
              const auto* p = rte_pktmbuf_mtod(s, const std::uint8_t*);
              for (std::uint16_t k = 0; k < s->data_len; ++k) {
                if (p[k] != byte_of(c.tag, echoed[c.tag])) ++errors;
                ++echoed[c.tag];
              }
            }
            rte_pktmbuf_free(c.data);
            break;
          case kind::closed:
            ++closed;
            if (c.reason == api::close_reason::normal && echoed[c.tag] == kBytes) ++closed_ok;
            break;
          case kind::send_refused:
          case kind::connect_failed:
            rte_pktmbuf_free(c.data);
            ++errors;
            break;
          case kind::writable:
          case kind::peer_fin:
            break;
        }
      }
      thread_done = true;
    });
    const auto r = w.run_until([&] { return thread_done.load(); }, 120 * kSec, 5'000'000);
    worker.join();
    EXPECT_TRUE(r.done) << "virtual " << r.now_ns << " steps " << r.steps << " client conns "
                        << client.tcp().connections() << " active opens "
                        << client.tcp().counters().active_opens.get() << " server served "
                        << server.served();
    EXPECT_EQ(closed_ok.load(), kConns);
    EXPECT_EQ(errors.load(), 0);
    for (int i = 0; i < kConns; ++i) EXPECT_EQ(echoed[i], kBytes) << "connection " << i;
    w.run_for(5 * kSec, 1'000'000);  // TIME_WAIT ends
    w.set_poll(side::b, nullptr);
  }
  EXPECT_TRUE(w.run_until([&] { return w.quiescent(); }, 10 * kSec, 1'000'000).done);
  EXPECT_EQ(w.mbufs_in_use(), base);
}

// api/thread_link.hh promises {closed} after a close request: the thread
// learns that the id is dead, as after a shutdown.
TEST(ThreadLink, CloseYieldsClosed) {
  const std::uint64_t seed = single_seed(2);
  SCOPED_TRACE(replay_line(seed));
  world_config wc;
  wc.seed = seed;
  sim_world w(wc);
  {
    tcp_swarm server(w, side::a, host_a(seed));
    server.serve(80);
    swarm_config cc = host_b(seed + 1);
    tcp_swarm client(w, side::b, cc, nullptr, false);
    link_core rig(w, client, cc.max_conns);
    api::thread_links& links = rig.links;
    api::thread_link& link = links.at(0, 0);
    using op = api::thread_request::op;
    using kind = api::thread_completion::kind;
    ASSERT_TRUE(link.submit({op::connect, 0, 7, kIpA, 80}));
    api::thread_completion c;
    api::conn_id id = 0;
    int closed = 0;
    api::conn_id closed_id = 0;
    const auto r = w.run_until(
        [&] {
          while (link.next(c)) {
            if (c.what == kind::connected) {
              id = c.id;
              EXPECT_TRUE(link.submit({op::close, id}));
            } else if (c.what == kind::closed) {
              ++closed;
              closed_id = c.id;
            }
          }
          return closed > 0;
        },
        10 * kSec, 1'000'000);
    EXPECT_TRUE(r.done) << "no closed completion after close";
    EXPECT_EQ(closed, 1);
    EXPECT_NE(id, 0u);
    EXPECT_EQ(closed_id, id);
    w.run_for(5 * kSec, 1'000'000);
    while (link.next(c)) EXPECT_NE(c.what, kind::closed) << "closed comes once";
    w.set_poll(side::b, nullptr);
  }
}

}  // namespace
}  // namespace kbt::sim
