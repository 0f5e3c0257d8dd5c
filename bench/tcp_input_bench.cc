// The TCP hot path: an in-order data segment into an established
// connection, and an ACK that releases a segment and lets the next go out.
// Frames are built once; each iteration copies one into a fresh mbuf, as a
// NIC would hand it over.
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
constexpr auto kPeer = wire::ipv4_addr::from_octets(198, 18, 0, 1);
constexpr std::uint32_t kPeerIsn = 1000;

// What the SYN-ACK said, captured by the flush hook during set-up.
struct capture {
  std::uint32_t iss = 0;
};

std::size_t capture_iss(void* ctx, std::span<const tcp::out_packet> pkts) noexcept {
  for (const auto& p : pkts) {
    const auto* b = rte_pktmbuf_mtod(p.m, const std::byte*);
    const auto seg = wire::parse_tcp({b + 20, rte_pktmbuf_data_len(p.m) - 20u}, kStack, kPeer, false);
    if (seg && seg->has(flag::kSyn)) static_cast<capture*>(ctx)->iss = seg->seq.value;
    rte_pktmbuf_free(p.m);
  }
  return pkts.size();
}

using bench::prepare;
using bench::to_mbuf;

// A layer with one passive connection established; returns its TCB.
tcp::tcb* establish(std::unique_ptr<tcp::tcp_layer>& layer, capture& cap) {
  tcp::tcp_layer_config lc;
  lc.local_ip = kStack;
  lc.max_conns = 4;
  lc.pool = bench::mbuf_pool();
  lc.isn_key = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  lc.tcp.delayed_ack_ns = 1'000'000'000'000ULL;  // ACKs every second segment only
  layer = std::make_unique<tcp::tcp_layer>(lc, &capture_iss, &cap);
  layer->listen(80);
  wire::tcp_options o;
  o.mss = 1460;
  auto syn = prepare({.src = kPeer, .dst = kStack, .src_port = 40000, .dst_port = 80,
                      .flags = flag::kSyn, .seq = kPeerIsn, .options = o});
  layer->input(to_mbuf(syn), syn.ip, syn.tcp, 0, 1);
  layer->flush();
  auto ack = prepare({.src = kPeer, .dst = kStack, .src_port = 40000, .dst_port = 80,
                      .flags = flag::kAck, .seq = kPeerIsn + 1, .ack = cap.iss + 1});
  layer->input(to_mbuf(ack), ack.ip, ack.tcp, 0, 2);
  layer->flush();
  return layer->find({kStack, kPeer, 80, 40000});
}

void BM_TcpInputInOrderData(benchmark::State& state) {
  std::unique_ptr<tcp::tcp_layer> layer;
  capture cap;
  tcp::tcb* c = establish(layer, cap);
  const std::vector<std::byte> payload(1448, std::byte{'d'});
  auto seg = prepare({.src = kPeer, .dst = kStack, .src_port = 40000, .dst_port = 80,
                      .flags = flag::kAck, .seq = kPeerIsn + 1, .ack = cap.iss + 1,
                      .payload = payload});
  std::uint32_t seq = kPeerIsn + 1;
  std::uint64_t now = 10;
  for (auto _ : state) {
    seg.tcp.seq = wire::seq32{seq};
    layer->input(to_mbuf(seg), seg.ip, seg.tcp, 0, ++now);
    seq += 1448;
    rte_pktmbuf_free(layer->recv(*c, now));  // the application takes it at once
    layer->flush();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * 1448);
}
BENCHMARK(BM_TcpInputInOrderData);

void BM_TcpAckReleasesAndSends(benchmark::State& state) {
  std::unique_ptr<tcp::tcp_layer> layer;
  capture cap;
  tcp::tcb* c = establish(layer, cap);
  layer->set_nodelay(*c, true);
  const std::vector<std::byte> chunk(1448 * 32, std::byte{'s'});
  std::uint64_t now = 10;
  layer->send_copy(*c, chunk, now);
  layer->flush();
  auto ack = prepare({.src = kPeer, .dst = kStack, .src_port = 40000, .dst_port = 80,
                      .flags = flag::kAck, .seq = kPeerIsn + 1, .ack = cap.iss + 1});
  std::uint32_t acked = cap.iss + 1;
  for (auto _ : state) {
    acked += 1448;
    ack.tcp.ack = wire::seq32{acked};
    layer->input(to_mbuf(ack), ack.ip, ack.tcp, 0, ++now);
    // Keep the send buffer topped up so every ACK finds data to release.
    layer->send_copy(*c, std::span(chunk).first(1448), now);
    layer->flush();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TcpAckReleasesAndSends);

}  // namespace
