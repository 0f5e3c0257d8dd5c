// A listener under a SYN flood: SYN-ACKs answered with cookies per second
// on one core (SYN in, cookie, SYN-ACK built and handed to the flush hook),
// and cookie ACKs that fail validation (the cost of a forged ACK flood).
// Frames are built once; each iteration gives one a new source, as a flood
// from spoofed addresses does.
#include <benchmark/benchmark.h>

#include <cstring>
#include <memory>
#include <vector>

#include "eal_env.hh"
#include "prepared_segment.hh"
#include "segment_factory.hh"
#include "tcp/tcp_layer.hh"
#include "wire/ipv4.hh"

namespace {

using namespace kbt;
namespace flag = wire::tcp_flag;

constexpr auto kStack = wire::ipv4_addr::from_octets(198, 18, 0, 2);
constexpr auto kPeer = wire::ipv4_addr::from_octets(198, 19, 0, 1);

struct sink {
  std::uint64_t packets = 0;
};

std::size_t free_all(void* ctx, std::span<const tcp::out_packet> pkts) noexcept {
  static_cast<sink*>(ctx)->packets += pkts.size();
  for (const auto& p : pkts) rte_pktmbuf_free(p.m);
  return pkts.size();
}

using bench::prepare;
using bench::to_mbuf;

std::unique_ptr<tcp::tcp_layer> listener(sink& s) {
  tcp::tcp_layer_config lc;
  lc.local_ip = kStack;
  lc.max_conns = 16;
  lc.pool = bench::mbuf_pool();
  lc.isn_key = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  lc.cookie_key = {16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1};
  lc.tcp.syncookies = tcp::syncookies_mode::always;
  lc.tcp.max_time_wait = 1024;
  auto layer = std::make_unique<tcp::tcp_layer>(lc, &free_all, &s);
  layer->listen(80);
  return layer;
}

// A SYN as Linux sends it (MSS, SACK-permitted, timestamps, window scale).
bench::prepared_segment linux_syn() {
  wire::tcp_options o;
  o.mss = 1460;
  o.window_scale = 7;
  o.sack_permitted = true;
  o.timestamps = wire::tcp_timestamps{123456, 0};
  return prepare({.src = kPeer, .dst = kStack, .src_port = 40000, .dst_port = 80,
                  .flags = flag::kSyn, .seq = 1000, .window = 64240, .options = o});
}

void BM_CookieSynAckAnswered(benchmark::State& state) {
  sink s;
  auto layer = listener(s);
  auto syn = linux_syn();
  std::uint32_t n = 0;
  std::uint64_t now = 1'000'000'000;
  for (auto _ : state) {
    // A new spoofed source each time: no state may be found or kept.
    ++n;
    syn.ip.src = wire::ipv4_addr{kPeer.value + (n >> 16)};
    syn.tcp.src_port = static_cast<std::uint16_t>(n);
    syn.tcp.seq = wire::seq32{n * 2654435761U};
    layer->input(to_mbuf(syn), syn.ip, syn.tcp, 0, ++now);
    if ((n & 31) == 0) layer->flush();  // as the engine does once per burst
  }
  layer->flush();
  if (s.packets != static_cast<std::uint64_t>(state.iterations()) || layer->connections() != 0) {
    state.SkipWithError("a SYN went unanswered or kept state");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CookieSynAckAnswered);

void BM_CookieAckForgedDropped(benchmark::State& state) {
  sink s;
  auto layer = listener(s);
  auto ack = prepare({.src = kPeer, .dst = kStack, .src_port = 40000, .dst_port = 80,
                      .flags = flag::kAck, .seq = 1001, .ack = 777});
  std::uint32_t n = 0;
  std::uint64_t now = 1'000'000'000;
  for (auto _ : state) {
    ++n;
    ack.tcp.src_port = static_cast<std::uint16_t>(n);
    ack.tcp.ack = wire::seq32{n * 2654435761U};
    layer->input(to_mbuf(ack), ack.ip, ack.tcp, 0, ++now);
  }
  if (layer->counters().syncookies_invalid.get() != static_cast<std::uint64_t>(state.iterations())) {
    state.SkipWithError("a forged ACK was not counted as invalid");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CookieAckForgedDropped);

}  // namespace
