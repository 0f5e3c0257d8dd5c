// The TCP hot path: an in-order data segment into an established
// connection, and an ACK that releases a segment and lets the next go out.
// The connection is set up by the shared rig's builder (tests/support);
// frames are built once and each iteration copies one into a fresh mbuf, as
// a NIC would hand it over. What the layer sends is freed and counted.
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "eal_env.hh"
#include "segment_factory.hh"
#include "tcp_rig.hh"
#include "tcp_states.hh"

namespace {

using namespace kbt;
namespace flag = wire::tcp_flag;

// A rig with one passive connection established.
struct bench_conn {
  support::virtual_clock clock{base::instant{}};
  std::unique_ptr<support::tcp_rig> rig;
  support::rig_conn k;

  bench_conn() {
    support::rig_config rc;
    rc.tcp.cc = tcp::cc_algorithm::cubic;
    rc.max_conns = 4;
    rc.pool = bench::mbuf_pool();
    rc.tcp.delayed_ack = base::nanos{1'000'000'000'000ULL};  // ACKs every second segment only
    rig = std::make_unique<support::tcp_rig>(rc, clock);
    k = support::established(*rig, support::side::passive);
    rig->set_capture(support::capture_mode::discard);
  }
  tcp::tcp_layer& layer() { return rig->layer(); }
  // The frame into the layer as the engine gives it.
  void input(const support::prepared_segment& p, base::instant now) {
    layer().input(support::to_mbuf(p, bench::mbuf_pool()), p.ip, p.tcp, p.ip.header_len, now);
  }
};

support::prepared_segment on(const bench_conn& b, support::segment_spec s) {
  s = b.k.on(s);
  s.src = support::kPeerIp;
  s.dst = support::kStackIp;
  return support::prepare(s);
}

void BM_TcpInputInOrderData(benchmark::State& state) {
  bench_conn b;
  const std::vector<std::byte> payload(1448, std::byte{'d'});
  auto spec = support::ack(b.k.peer_nxt, b.k.stack_nxt);  // ACK, no PSH
  spec.payload = payload;
  auto seg = on(b, spec);
  std::uint32_t seq = b.k.peer_nxt;
  base::instant now = base::instant_from_ns(10);
  for (auto _ : state) {
    seg.tcp.seq = wire::seq32{seq};
    b.input(seg, ++now);
    seq += 1448;
    rte_pktmbuf_free(b.layer().recv(*b.k.c, now));  // the application takes it at once
    b.layer().flush();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * 1448);
}
BENCHMARK(BM_TcpInputInOrderData);

void BM_TcpAckReleasesAndSends(benchmark::State& state) {
  bench_conn b;
  tcp::tcb* c = b.k.c;
  b.layer().set_nodelay(*c, true);
  const std::vector<std::byte> chunk(1448 * 32, std::byte{'s'});
  base::instant now = base::instant_from_ns(10);
  b.layer().send_copy(*c, chunk, now);
  b.layer().flush();
  auto ack = on(b, support::ack(b.k.peer_nxt, b.k.stack_nxt));
  std::uint32_t acked = b.k.stack_nxt;
  for (auto _ : state) {
    acked += 1448;
    ack.tcp.ack = wire::seq32{acked};
    b.input(ack, ++now);
    // Keep the send buffer topped up so every ACK finds data to release.
    b.layer().send_copy(*c, std::span(chunk).first(1448), now);
    b.layer().flush();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TcpAckReleasesAndSends);

}  // namespace
