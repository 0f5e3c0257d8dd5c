// A listener under a SYN flood: SYN-ACKs answered with cookies per second
// on one core (SYN in, cookie, SYN-ACK built and handed to the flush hook),
// and cookie ACKs that fail validation (the cost of a forged ACK flood).
// The layer is the shared rig's (tests/support), its output freed and
// counted; frames are built once and each iteration gives one a new
// source, as a flood from spoofed addresses does.
#include <benchmark/benchmark.h>

#include <memory>

#include "eal_env.hh"
#include "segment_factory.hh"
#include "tcp_rig.hh"
#include "tcp_states.hh"

namespace {

using namespace kbt;

constexpr auto kFlooder = wire::ipv4_addr::from_octets(198, 19, 0, 1);

struct flooded {
  support::virtual_clock clock{base::instant{}};
  std::unique_ptr<support::tcp_rig> rig;

  flooded() {
    support::rig_config rc;
    rc.tcp.cc = tcp::cc_algorithm::cubic;
    rc.pool = bench::mbuf_pool();
    rc.cookie_key = {16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1};
    rc.tcp.syncookies = tcp::syncookies_mode::always;
    rc.tcp.max_time_wait = 1024;
    rig = std::make_unique<support::tcp_rig>(rc, clock);
    rig->set_capture(support::capture_mode::discard);
    support::listen_state(*rig);
  }
  tcp::tcp_layer& layer() { return rig->layer(); }
};

support::prepared_segment from_flooder(support::segment_spec s) {
  s.src = kFlooder;
  s.dst = support::kStackIp;
  s.src_port = 40000;
  s.dst_port = support::kServerPort;
  return support::prepare(s);
}

// A SYN as Linux sends it (MSS, SACK-permitted, timestamps, window scale).
support::prepared_segment linux_syn() {
  wire::tcp_options o;
  o.mss = 1460;
  o.window_scale = 7;
  o.sack_permitted = true;
  o.timestamps = wire::tcp_timestamps{123456, 0};
  auto s = support::syn(1000, o);
  s.window = 64240;
  return from_flooder(s);
}

void BM_CookieSynAckAnswered(benchmark::State& state) {
  flooded f;
  auto syn = linux_syn();
  std::uint32_t n = 0;
  base::instant now = base::instant_from_ns(1'000'000'000);
  for (auto _ : state) {
    // A new spoofed source each time: no state may be found or kept.
    ++n;
    syn.ip.src = wire::ipv4_addr{kFlooder.value + (n >> 16)};
    syn.tcp.src_port = static_cast<std::uint16_t>(n);
    syn.tcp.seq = wire::seq32{n * 2654435761U};
    f.layer().input(support::to_mbuf(syn, bench::mbuf_pool()), syn.ip, syn.tcp, syn.ip.header_len,
                    ++now);
    if ((n & 31) == 0) f.layer().flush();  // as the engine does once per burst
  }
  f.layer().flush();
  if (f.rig->discarded() != static_cast<std::uint64_t>(state.iterations()) ||
      f.layer().connections() != 0) {
    state.SkipWithError("a SYN went unanswered or kept state");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CookieSynAckAnswered);

void BM_CookieAckForgedDropped(benchmark::State& state) {
  flooded f;
  auto ack = from_flooder(support::ack(1001, 777));
  std::uint32_t n = 0;
  base::instant now = base::instant_from_ns(1'000'000'000);
  for (auto _ : state) {
    ++n;
    ack.tcp.src_port = static_cast<std::uint16_t>(n);
    ack.tcp.ack = wire::seq32{n * 2654435761U};
    f.layer().input(support::to_mbuf(ack, bench::mbuf_pool()), ack.ip, ack.tcp, ack.ip.header_len,
                    ++now);
  }
  if (f.layer().counters().syncookies_invalid.get() !=
      static_cast<std::uint64_t>(state.iterations())) {
    state.SkipWithError("a forged ACK was not counted as invalid");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CookieAckForgedDropped);

}  // namespace
