// A core's memory under peers that never read (issue 14.2): the send
// buffers of connections whose peers keep their windows shut may spend the
// core's send budget, never its pool, so the core keeps receiving, and
// another connection on it still moves its data. The world copies every
// received frame into the receiver's own pool, as a NIC's rx ring does, so a
// core whose pool ran dry would lose its input (rx_no_mbuf).
#include <gtest/gtest.h>
#include <rte_mempool.h>

#include <algorithm>
#include <array>
#include <memory>
#include <vector>

#include "core/engine.hh"
#include "sim_env.hh"
#include "sim_hosts.hh"
#include "sim_world.hh"
#include "tcp/counters.hh"
#include "tcp/tcp_layer.hh"

namespace kbt::sim {
namespace {

constexpr std::uint16_t kPort = 80;

std::unique_ptr<core::engine> make_engine(sim_world& w, side s, wire::mac_addr mac,
                                          wire::ipv4_addr ip, core::core_counters& counters,
                                          std::uint32_t snd_buffer = 256 * 1024) {
  core::engine_config ec = w.endpoint_config(s, mac, ip);
  ec.tcp = true;
  ec.tcp_layer.max_conns = 64;
  ec.tcp_layer.tcp.msl = base::nanos{2 * kSec};
  ec.tcp_layer.tcp.snd_buffer = snd_buffer;
  for (std::size_t i = 0; i < ec.tcp_layer.isn_key.size(); ++i) {
    ec.tcp_layer.isn_key[i] = static_cast<std::uint8_t>(w.endpoint_seed(s) >> (i % 8 * 8));
  }
  return std::make_unique<core::engine>(ec, counters);
}

// B: sends `bytes` to every connection it accepts, as fast as its send
// buffer takes them (and again on each kWritable), reading and discarding
// whatever comes in.
class bulk_server {
 public:
  bulk_server(sim_world& w, std::uint64_t bytes, std::uint32_t snd_buffer = 256 * 1024)
      : _w(w), _bytes(bytes), _engine(make_engine(w, side::b, kMacB, kIpB, _counters, snd_buffer)) {
    _engine->tcp()->listen(kPort);
    _sent.assign(64, 0);
    w.set_poll(side::b, [this](std::uint64_t now) { poll(base::instant_from_ns(now)); });
  }
  ~bulk_server() { _w.set_poll(side::b, nullptr); }
  tcp::tcp_layer& tcp() { return *_engine->tcp(); }
  std::uint64_t lowest_free_mbufs() const { return _lowest_free; }

 private:
  void poll(base::instant now) {
    _engine->poll(now);
    _engine->tcp()->poll_events([&](tcp::tcb& c, std::uint8_t ev) {
      tcp::tcp_layer& l = *_engine->tcp();
      if ((ev & tcp::event::kConnected) != 0) _sent[c.index] = 0;
      if ((ev & (tcp::event::kReadable | tcp::event::kClosed)) != 0) {
        rte_pktmbuf_free(l.recv(c, now));
      }
      if ((ev & (tcp::event::kConnected | tcp::event::kWritable)) != 0) pump(c, now);
      if ((ev & tcp::event::kClosed) != 0) l.release(c, now);
    });
    _engine->flush_all();
    _lowest_free = std::min<std::uint64_t>(_lowest_free, rte_mempool_avail_count(_w.pool(side::b)));
  }
  void pump(tcp::tcb& c, base::instant now) {
    static const std::array<std::byte, 16384> chunk{};
    for (int round = 0; round < 64 && _sent[c.index] < _bytes; ++round) {
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), _bytes - _sent[c.index]));
      const std::uint32_t took = _engine->tcp()->send_copy(c, std::span(chunk).first(n), now);
      _sent[c.index] += took;
      if (took < n) return;  // kWritable comes when there is room
    }
  }

  sim_world& _w;
  std::uint64_t _bytes;
  core::core_counters _counters;
  std::unique_ptr<core::engine> _engine;
  std::vector<std::uint64_t> _sent;
  std::uint64_t _lowest_free = UINT64_MAX;
};

// A: opens connections to B, each either reading everything that comes or
// reading nothing (its window fills and stays shut).
class clients {
 public:
  explicit clients(sim_world& w) : _w(w), _engine(make_engine(w, side::a, kMacA, kIpA, _counters)) {
    w.set_poll(side::a, [this](std::uint64_t now) { poll(base::instant_from_ns(now)); });
  }
  ~clients() { _w.set_poll(side::a, nullptr); }

  // Returns the connection's index.
  std::size_t open(bool reads) {
    tcp::tcb* c = _engine->tcp()->connect(kIpB, kPort, _w.now());
    EXPECT_NE(c, nullptr);
    _conns.push_back({c, reads, 0, false});
    c->user = reinterpret_cast<void*>(_conns.size());
    if (!reads) _engine->tcp()->set_reading(*c, false);
    _engine->flush_all();
    return _conns.size() - 1;
  }
  std::uint64_t received(std::size_t i) const { return _conns[i].received; }
  void start_reading(std::size_t i) {
    _conns[i].reads = true;
    _engine->tcp()->set_reading(*_conns[i].c, true);
  }
  void abort(std::size_t i) {
    if (_conns[i].closed) return;
    _engine->tcp()->abort(*_conns[i].c, _w.now());
    _engine->flush_all();
  }

 private:
  struct conn {
    tcp::tcb* c;
    bool reads;
    std::uint64_t received;
    bool closed;
  };
  void poll(base::instant now) {
    _engine->poll(now);
    _engine->tcp()->poll_events([&](tcp::tcb& c, std::uint8_t ev) {
      conn& x = _conns[reinterpret_cast<std::uintptr_t>(c.user) - 1];
      if ((ev & (tcp::event::kReadable | tcp::event::kClosed)) != 0 && (x.reads || (ev & tcp::event::kClosed) != 0)) {
        rte_mbuf* m = _engine->tcp()->recv(c, now);
        if (m != nullptr) x.received += rte_pktmbuf_pkt_len(m);
        rte_pktmbuf_free(m);
      }
      if ((ev & tcp::event::kClosed) != 0) {
        x.closed = true;
        _engine->tcp()->release(c, now);
      }
    });
    _engine->flush_all();
  }

  sim_world& _w;
  core::core_counters _counters;
  std::unique_ptr<core::engine> _engine;
  std::vector<conn> _conns;
};

world_config lossless(std::uint64_t seed) {
  world_config wc;
  wc.seed = seed;
  wc.a_to_b.delay_ns = 200'000;
  wc.b_to_a.delay_ns = 200'000;
  wc.pool_size = 2047;
  wc.rx_into_receiver_pool = true;
  return wc;
}

TEST(MemoryBudget, ACoreWhoseSendBuffersAreFullKeepsReceivingAndServing) {
  for_each_seed(seeds_to_run(5), [](std::uint64_t seed) {
    sim_world w(lossless(seed));
    const unsigned base = w.mbufs_in_use();
    constexpr std::uint64_t kBytes = 2 << 20;
    {
      bulk_server server(w, kBytes);
      clients a(w);
      // Twelve peers that never read: 3 MB of send buffers wanted, from a
      // pool of 2,047 mbufs.
      std::vector<std::size_t> stuck;
      for (int i = 0; i < 12; ++i) stuck.push_back(a.open(false));
      w.run_for(2 * kSec, 5'000'000);
      const tcp::tcp_layer& l = server.tcp();
      EXPECT_GE(l.send_memory().used(), l.send_memory().limit() / 2) << "the budget under pressure";
      EXPECT_GT(l.counters().snd_mem_refused.get(), 0U);
      // Another client on the same core is served in full meanwhile.
      const std::size_t good = a.open(true);
      const auto r = w.run_until([&] { return a.received(good) == kBytes; }, 60 * kSec, 20'000'000);
      EXPECT_TRUE(r.done) << "received " << a.received(good) << " of " << kBytes;
      EXPECT_EQ(w.counters().rx_no_mbuf[1], 0U) << "B's pool ran dry: its input was lost";
      EXPECT_EQ(l.counters().no_mbuf.get(), 0U);
      EXPECT_GE(server.lowest_free_mbufs(), 2047U / 8) << "the pool's share for receive was spent";
      // The stuck peers go: everything they held comes back.
      for (std::size_t i : stuck) a.abort(i);
      w.run_for(1 * kSec, 5'000'000);
      EXPECT_EQ(l.counters().snd_mbufs.get(), 0U);
      EXPECT_EQ(l.connections(), 1U) << "only the good one is left";
      a.abort(good);
      w.run_for(1 * kSec, 5'000'000);
      EXPECT_EQ(l.connections(), 0U);
    }
    EXPECT_TRUE(w.run_until([&] { return w.quiescent(); }, 10 * kSec, 1'000'000).done);
    EXPECT_EQ(w.mbufs_in_use(), base);
  });
}

TEST(MemoryBudget, AConnectionAtZeroWindowDoesNotStallAnother) {
  for_each_seed(seeds_to_run(5), [](std::uint64_t seed) {
    sim_world w(lossless(seed));
    const unsigned base = w.mbufs_in_use();
    constexpr std::uint64_t kBytes = 4 << 20;
    {
      // A 4 MB send buffer: one connection alone could hold twice the pool.
      bulk_server server(w, kBytes, 4 << 20);
      clients a(w);
      const std::size_t shut = a.open(false);
      const std::size_t open = a.open(true);
      auto r = w.run_until([&] { return a.received(open) == kBytes; }, 60 * kSec, 20'000'000);
      EXPECT_TRUE(r.done) << "received " << a.received(open) << " of " << kBytes;
      EXPECT_LT(a.received(shut), kBytes);
      // The shut one opens its window again and gets all of its data too.
      a.start_reading(shut);
      r = w.run_until([&] { return a.received(shut) == kBytes; }, 120 * kSec, 40'000'000);
      EXPECT_TRUE(r.done) << "received " << a.received(shut) << " of " << kBytes;
      EXPECT_EQ(w.counters().rx_no_mbuf[0] + w.counters().rx_no_mbuf[1], 0U);
      a.abort(shut);
      a.abort(open);
      w.run_for(1 * kSec, 5'000'000);
    }
    EXPECT_TRUE(w.run_until([&] { return w.quiescent(); }, 10 * kSec, 1'000'000).done);
    EXPECT_EQ(w.mbufs_in_use(), base);
  });
}

}  // namespace
}  // namespace kbt::sim
