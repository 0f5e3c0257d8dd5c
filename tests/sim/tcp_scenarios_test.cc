// TCP scenarios between two kbt engines, each over many seeds with a mildly
// impaired link: simultaneous open, simultaneous close, a lost final ACK,
// a peer that vanishes, a zero window held for 10 s, and a delay spike
// past the RTO (a spurious timeout).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <optional>

#include "frame_view.hh"
#include "sim_env.hh"
#include "sim_hosts.hh"
#include "sim_world.hh"
#include "tcp_peer.hh"

namespace kbt::sim {
namespace {

namespace flag = wire::tcp_flag;

link_config mild() {
  link_config c;
  c.loss = 0.02;
  c.reorder = 0.02;
  c.duplicate = 0.01;
  c.delay_ns = 1 * kMs;
  c.jitter_ns = 100'000;
  c.reorder_delay_ns = 2 * kMs;
  return c;
}

world_config world_for(std::uint64_t seed) {
  world_config wc;
  wc.seed = seed;
  wc.a_to_b = mild();
  wc.b_to_a = mild();
  return wc;
}

tcp::tcp_config settings() {
  tcp::tcp_config t;
  t.msl = base::nanos{2 * kSec};
  return t;
}

TEST(TcpScenarioTest, SimultaneousOpen) {
  for_each_seed(seeds_to_run(), [](std::uint64_t seed) {
    sim_world w(world_for(seed));
    const unsigned base = w.mbufs_in_use();
    {
      tcp_peer a(w, side::a, kMacA, kIpA, settings());
      tcp_peer b(w, side::b, kMacB, kIpB, settings());
      // Nobody listens: both open actively to each other, at the same instant.
      a.set_plan({.send_bytes = 20000, .expect_bytes = 30000, .tx_seed = 1, .rx_seed = 2});
      b.set_plan({.send_bytes = 30000, .expect_bytes = 20000, .tx_seed = 2, .rx_seed = 1,
                  .wait_for_peer_fin = true});
      int bare_syns = 0;
      w.set_observer([&](side, const rte_mbuf* m) {
        const auto t = tcp_of(m);
        if (t && t->flags == flag::kSyn) ++bare_syns;
      });
      a.connect(kIpB, 5000, 6000);
      b.connect(kIpA, 6000, 5000);
      const auto r = w.run_until([&] { return a.done() && b.done(); }, 120 * kSec, 5'000'000);
      ASSERT_TRUE(r.done) << "A: " << a.describe() << "\nB: " << b.describe();
      EXPECT_EQ(a.error() + b.error(), "");
      EXPECT_GE(bare_syns, 1) << "a SYN without ACK must have crossed";
      EXPECT_EQ(a.tcp().counters().passive_opens.get() + b.tcp().counters().passive_opens.get(), 0U);
      w.run_for(2 * settings().msl.count() + kSec, 5'000'000);
      EXPECT_EQ(a.tcp().connections() + b.tcp().connections(), 0U);
    }
    EXPECT_TRUE(w.run_until([&] { return w.quiescent(); }, 10 * kSec, 1'000'000).done);
    EXPECT_EQ(w.mbufs_in_use(), base);
  });
}

TEST(TcpScenarioTest, SimultaneousCloseEndsInTimeWaitOnBothSides) {
  for_each_seed(seeds_to_run(), [](std::uint64_t seed) {
    sim_world w(world_for(seed));
    const unsigned base = w.mbufs_in_use();
    {
      tcp_peer a(w, side::a, kMacA, kIpA, settings());
      tcp_peer b(w, side::b, kMacB, kIpB, settings());
      b.listen(80);
      a.set_plan({.send_bytes = 10000, .expect_bytes = 10000, .tx_seed = 1, .rx_seed = 2,
                  .shutdown_when_sent = false});
      b.set_plan({.send_bytes = 10000, .expect_bytes = 10000, .tx_seed = 2, .rx_seed = 1,
                  .shutdown_when_sent = false});
      a.connect(kIpB, 80);
      ASSERT_TRUE(w.run_until([&] {
                     return a.received() == 10000 && b.received() == 10000 &&
                            a.conn()->snd.bytes() == 0 && b.conn() != nullptr &&
                            b.conn()->snd.bytes() == 0;
                   }, 60 * kSec, 5'000'000).done);
      // Both close in the same instant: the FINs cross on the wire.
      a.tcp().shutdown(*a.conn(), w.now());
      b.tcp().shutdown(*b.conn(), w.now());
      int closing_seen = 0;
      const auto r = w.run_until([&] {
        closing_seen += static_cast<int>(a.in_state(tcp::tcp_state::closing) +
                                         b.in_state(tcp::tcp_state::closing));
        return a.closed() && b.closed();
      }, 60 * kSec, 5'000'000);
      ASSERT_TRUE(r.done) << "A: " << a.describe() << "\nB: " << b.describe();
      EXPECT_GT(closing_seen, 0) << "nobody went through CLOSING";
      EXPECT_EQ(a.in_state(tcp::tcp_state::time_wait), 1U);
      EXPECT_EQ(b.in_state(tcp::tcp_state::time_wait), 1U);
      EXPECT_EQ(a.reason(), tcp::close_reason::normal);
      EXPECT_EQ(b.reason(), tcp::close_reason::normal);
      w.run_for(2 * settings().msl.count() + kSec, 5'000'000);
      EXPECT_EQ(a.tcp().connections() + b.tcp().connections(), 0U);
    }
    EXPECT_TRUE(w.run_until([&] { return w.quiescent(); }, 10 * kSec, 1'000'000).done);
    EXPECT_EQ(w.mbufs_in_use(), base);
  });
}

TEST(TcpScenarioTest, LostFinalAckIsAnsweredAgainFromTimeWait) {
  for_each_seed(seeds_to_run(), [](std::uint64_t seed) {
    sim_world w(world_for(seed));
    const unsigned base = w.mbufs_in_use();
    {
      tcp_peer a(w, side::a, kMacA, kIpA, settings());
      tcp_peer b(w, side::b, kMacB, kIpB, settings());
      b.listen(80);
      a.set_plan({.send_bytes = 5000, .expect_bytes = 5000, .tx_seed = 1, .rx_seed = 2,
                  .shutdown_when_sent = false});
      b.set_plan({.send_bytes = 5000, .expect_bytes = 5000, .tx_seed = 2, .rx_seed = 1,
                  .wait_for_peer_fin = true});
      a.connect(kIpB, 80);
      // Data over the impaired link first, all of it acknowledged ...
      ASSERT_TRUE(w.run_until([&] {
                     return a.received() == 5000 && b.received() == 5000 &&
                            a.conn()->snd.bytes() == 0 && b.conn() != nullptr &&
                            b.conn()->snd.bytes() == 0;
                   }, 60 * kSec, 5'000'000).done);
      // ... then a clean link, so the one loss is the one the test makes.
      w.link_from(side::a).reconfigure(link_config{.delay_ns = 1 * kMs});
      w.link_from(side::b).reconfigure(link_config{.delay_ns = 1 * kMs});
      std::optional<std::uint32_t> b_fin_end;  // B's FIN sequence number + 1
      int fins_at_a = 0;
      int final_acks = 0;
      std::uint64_t last_fin_at_a = 0;
      w.set_filter([&](side to, const rte_mbuf* m) {
        const auto t = tcp_of(m);
        if (!t) return true;
        if (to == side::a && t->has(flag::kFin)) {
          b_fin_end = t->seq.value + t->payload_len + 1;
          last_fin_at_a = w.now_ns();
          ++fins_at_a;
        }
        // A's ACK of B's FIN, the last segment of the close: lose the first.
        if (to == side::b && b_fin_end && t->ack.value == *b_fin_end && t->payload_len == 0 &&
            !t->has(flag::kFin)) {
          return ++final_acks > 1;
        }
        return true;
      });
      a.tcp().shutdown(*a.conn(), w.now());
      const auto r = w.run_until([&] { return a.done() && b.done(); }, 120 * kSec, 5'000'000);
      ASSERT_TRUE(r.done) << "A: " << a.describe() << "\nB: " << b.describe();
      EXPECT_EQ(fins_at_a, 2) << "B sent its FIN again";
      EXPECT_EQ(final_acks, 2) << "TIME_WAIT ACKed the FIN again";
      EXPECT_EQ(b.reason(), tcp::close_reason::normal);
      EXPECT_EQ(b.tcp().connections(), 0U);
      // TIME_WAIT restarted with the FIN that came again: A is still there
      // just before 2MSL after that FIN, gone just after.
      const std::uint64_t end = last_fin_at_a + 2 * settings().msl.count();
      w.run_until([&] { return w.now_ns() >= end - 10 * kMs; }, 10 * kSec, 5'000'000);
      EXPECT_EQ(a.in_state(tcp::tcp_state::time_wait), 1U);
      w.run_until([&] { return w.now_ns() >= end + 10 * kMs; }, 10 * kSec, 5'000'000);
      EXPECT_EQ(a.tcp().connections(), 0U);
    }
    EXPECT_TRUE(w.run_until([&] { return w.quiescent(); }, 10 * kSec, 1'000'000).done);
    EXPECT_EQ(w.mbufs_in_use(), base);
  });
}

TEST(TcpScenarioTest, VanishedPeerTimesOutAndTheApplicationIsTold) {
  for_each_seed(seeds_to_run(), [](std::uint64_t seed) {
    sim_world w(world_for(seed));
    const unsigned base = w.mbufs_in_use();
    {
      tcp::tcp_config t = settings();
      t.max_retries = 6;  // RFC 1122 §4.2.3.5 R2, shortened for virtual time
      tcp_peer a(w, side::a, kMacA, kIpA, t);
      tcp_peer b(w, side::b, kMacB, kIpB, t);
      b.listen(80);
      a.set_plan({.send_bytes = 1 << 20, .expect_bytes = 0, .tx_seed = 1});
      b.set_plan({.expect_bytes = 1 << 20, .rx_seed = 1, .shutdown_when_sent = false});
      a.connect(kIpB, 80);
      ASSERT_TRUE(w.run_until([&] { return b.received() > 100'000; }, 60 * kSec, 5'000'000).done);
      // B is gone: nothing reaches it or leaves it any more.
      w.set_filter([](side, const rte_mbuf*) { return false; });
      const auto r = w.run_until([&] { return a.closed(); }, 600 * kSec, 10'000'000);
      ASSERT_TRUE(r.done) << "A: " << a.describe();
      EXPECT_EQ(a.reason(), tcp::close_reason::timeout);
      EXPECT_EQ(a.tcp().counters().timeouts.get(), 1U);
      EXPECT_EQ(a.tcp().connections(), 0U);
    }
    EXPECT_TRUE(w.run_until([&] { return w.quiescent(); }, 10 * kSec, 1'000'000).done);
    EXPECT_EQ(w.mbufs_in_use(), base);
  });
}

TEST(TcpScenarioTest, ZeroWindowHeldTenSecondsThenReopened) {
  for_each_seed(seeds_to_run(), [](std::uint64_t seed) {
    sim_world w(world_for(seed));
    const unsigned base = w.mbufs_in_use();
    {
      tcp_peer a(w, side::a, kMacA, kIpA, settings());
      tcp_peer b(w, side::b, kMacB, kIpB, settings());
      b.listen(80);
      constexpr std::uint64_t kBytes = 1 << 20;  // four times B's receive buffer
      a.set_plan({.send_bytes = kBytes, .expect_bytes = 0, .tx_seed = 7});
      b.set_plan({.expect_bytes = kBytes, .rx_seed = 7, .wait_for_peer_fin = true, .read = false});
      std::uint64_t zero_since = 0;
      w.set_observer([&](side to, const rte_mbuf* m) {
        const auto t = tcp_of(m);
        if (to == side::a && t && t->window == 0 && zero_since == 0) zero_since = w.now_ns();
      });
      a.connect(kIpB, 80);
      ASSERT_TRUE(w.run_until([&] { return zero_since != 0; }, 60 * kSec, 5'000'000).done)
          << "B's window never closed\nA: " << a.describe() << "\nB: " << b.describe();
      w.run_for(10 * kSec, 20'000'000);
      EXPECT_EQ(b.received(), 0U);
      EXPECT_GT(a.tcp().counters().zero_window_probes.get(), 0U)
          << "A: " << a.describe() << "\nB: " << b.describe();
      ASSERT_NE(a.conn(), nullptr);
      EXPECT_EQ(a.conn()->state, tcp::tcp_state::established) << "the sender gave up";
      b.set_reading(true);
      const auto r = w.run_until([&] { return a.done() && b.done(); }, 120 * kSec, 10'000'000);
      ASSERT_TRUE(r.done) << "A: " << a.describe() << "\nB: " << b.describe();
      EXPECT_EQ(b.error(), "");
      EXPECT_EQ(b.received(), kBytes);
      w.run_for(2 * settings().msl.count() + kSec, 5'000'000);
      EXPECT_EQ(a.tcp().connections() + b.tcp().connections(), 0U);
    }
    EXPECT_TRUE(w.run_until([&] { return w.quiescent(); }, 30 * kSec, 1'000'000).done);
    EXPECT_EQ(w.mbufs_in_use(), base);
  });
}

// RFC 3522 §2: the return path's delay jumps from 1 ms to 1.5 s and stays
// (a route change), with nothing lost. A's RTO, fitted to 2 ms, fires and
// backs off before the ACKs of its originals arrive, and they echo the
// originals' TSvals: every expiry counts as spurious, and the megabyte
// arrives whole. On this lossless link an expiry not counted spurious
// would be a detection bug.
TEST(TcpScenarioTest, AnAckDelaySpikePastTheRtoIsASpuriousTimeoutAndLosesNothing) {
  for_each_seed(seeds_to_run(8), [](std::uint64_t seed) {
    world_config wc;
    wc.seed = seed;
    for (link_config* l : {&wc.a_to_b, &wc.b_to_a}) {
      l->delay_ns = 1 * kMs;
      l->jitter_ns = 200'000;
    }
    sim_world w(wc);
    const unsigned base = w.mbufs_in_use();
    {
      tcp_peer a(w, side::a, kMacA, kIpA, settings());
      tcp_peer b(w, side::b, kMacB, kIpB, settings());
      b.listen(80);
      a.set_plan({.send_bytes = 1 << 20, .expect_bytes = 0, .tx_seed = 1});
      b.set_plan({.expect_bytes = 1 << 20, .rx_seed = 1});
      a.connect(kIpB, 80);
      ASSERT_TRUE(w.run_until([&] { return b.received() > 100'000; }, 60 * kSec, 5'000'000).done);
      EXPECT_EQ(a.tcp().counters().rto_expiries.get(), 0U) << "before the spike";
      link_config slow = w.link_from(side::b).config();
      slow.delay_ns = 1500 * kMs;
      w.link_from(side::b).reconfigure(slow);
      const auto r = w.run_until([&] { return a.done() && b.done(); }, 300 * kSec, 20'000'000);
      ASSERT_TRUE(r.done) << "A: " << a.describe() << "\nB: " << b.describe();
      EXPECT_EQ(a.error() + b.error(), "");
      const tcp::tcp_counters& c = a.tcp().counters();
      EXPECT_GE(c.rto_expiries.get(), 1U) << "the spike must outlast the RTO";
      EXPECT_EQ(c.spurious_rtos.get(), c.rto_expiries.get());
      EXPECT_EQ(w.link_from(side::a).counters().lost + w.link_from(side::b).counters().lost, 0U);
      // TIME_WAIT's 2MSL, and the last frames on the 1.5 s path, while both still poll.
      w.run_for(2 * settings().msl.count() + 2 * kSec, 5'000'000);
      EXPECT_EQ(a.tcp().connections() + b.tcp().connections(), 0U);
    }
    EXPECT_TRUE(w.run_until([&] { return w.quiescent(); }, 10 * kSec, 1'000'000).done);
    EXPECT_EQ(w.mbufs_in_use(), base);
  });
}

}  // namespace
}  // namespace kbt::sim
