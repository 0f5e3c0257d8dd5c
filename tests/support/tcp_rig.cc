#include "tcp_rig.hh"

namespace kbt::support {

tcp_rig::tcp_rig(const rig_config& config, virtual_clock& clock, rig_failure_fn on_failure,
                 void* fail_ctx)
    : _clock(clock), _pool(config.pool), _capture(on_failure, fail_ctx) {
  tcp::tcp_layer_config lc;
  lc.tcp = config.tcp;
  lc.local_ip = kStackIp;
  lc.max_conns = config.max_conns;
  lc.pool = config.pool;
  lc.isn_key = kIsnKey;
  lc.cookie_key = config.cookie_key;
  lc.start = clock.now;
  lc.port_first = config.port_first;
  lc.port_last = config.port_last;
  lc.sources = config.sources;
  lc.tx_cksum_offload = config.tx_cksum_offload;
  _layer = std::make_unique<tcp::tcp_layer>(lc, &segment_capture::take, &_capture);
}

tcp_rig::~tcp_rig() {
  _layer.reset();  // may still flush, into _capture
}

void tcp_rig::input(segment_spec s) {
  if (s.src.value == 0) s.src = kPeerIp;
  if (s.dst.value == 0) s.dst = kStackIp;
  bool ok = false;
  const prepared_segment p = prepare(s, &ok);
  if (!ok) {
    fail("the rig built a segment that does not parse");
    return;
  }
  rte_mbuf* m = to_mbuf(p, _pool);
  if (m == nullptr) {
    fail("mbuf pool empty");
    return;
  }
  _layer->input(m, p.ip, p.tcp, p.ip.header_len, _clock.now);
  if (auto_poll) poll();
}

void tcp_rig::advance_ns(std::uint64_t ns) {
  _clock.now += base::nanos{ns};
  _layer->advance(_clock.now);
  if (auto_poll) poll();
}

void tcp_rig::poll() {
  _layer->poll_events([this](tcp::tcb& c, std::uint8_t ev) { _events.emplace_back(&c, ev); });
}

std::uint8_t tcp_rig::take_events(const tcp::tcb* c) {
  std::uint8_t ev = 0;
  for (auto& [conn, e] : _events) {
    if (conn == c) ev |= e;
  }
  _events.clear();
  return ev;
}

std::vector<captured_segment> tcp_rig::sent() {
  _layer->flush();
  return _capture.segments();
}

}  // namespace kbt::support
