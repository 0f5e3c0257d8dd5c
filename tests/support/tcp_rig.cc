#include "tcp_rig.hh"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "wire/mbuf_bytes.hh"

namespace kbt::support {
namespace {

void print_and_abort(void*, const char* what) {
  std::fprintf(stderr, "tcp_rig: %s\n", what);
  std::abort();
}

// The whole chain's bytes.
std::vector<std::uint8_t> chain_bytes(const rte_mbuf* m) {
  std::vector<std::uint8_t> out;
  for (; m != nullptr; m = m->next) {
    const auto* p = rte_pktmbuf_mtod(m, const std::uint8_t*);
    out.insert(out.end(), p, p + m->data_len);
  }
  return out;
}

}  // namespace

tcp_rig::tcp_rig(const rig_config& config, virtual_clock& clock, rig_failure_fn on_failure,
                 void* fail_ctx)
    : _clock(clock),
      _pool(config.pool),
      _fail(on_failure != nullptr ? on_failure : &print_and_abort),
      _fail_ctx(fail_ctx) {
  tcp::tcp_layer_config lc;
  lc.tcp = config.tcp;
  lc.local_ip = kStackIp;
  lc.max_conns = config.max_conns;
  lc.pool = config.pool;
  lc.isn_key = kIsnKey;
  lc.cookie_key = config.cookie_key;
  lc.start_ns = clock.ns;
  lc.port_first = config.port_first;
  lc.port_last = config.port_last;
  lc.sources = config.sources;
  lc.tx_cksum_offload = config.tx_cksum_offload;
  _captured.reserve(tcp::tcp_layer::kOutQueue);
  _layer = std::make_unique<tcp::tcp_layer>(lc, &capture, this);
}

tcp_rig::~tcp_rig() {
  _layer.reset();  // may still flush
  for (auto& p : _captured) rte_pktmbuf_free(p.m);
}

std::size_t tcp_rig::capture(void* ctx, std::span<const tcp::out_packet> pkts) noexcept {
  auto* r = static_cast<tcp_rig*>(ctx);
  if (r->_mode == capture_mode::discard) {
    for (const auto& p : pkts) rte_pktmbuf_free(p.m);
    r->_discarded += pkts.size();
  } else {
    r->_captured.insert(r->_captured.end(), pkts.begin(), pkts.end());
  }
  return pkts.size();
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
  _layer->input(m, p.ip, p.tcp, p.ip.header_len, _clock.ns);
  if (auto_poll) poll();
}

void tcp_rig::advance_ns(std::uint64_t ns) {
  _clock.ns += ns;
  _layer->advance(_clock.ns);
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

// RFC 1122 §3.2.1.2 and RFC 9293 §3.1: a receiver silently discards a
// datagram whose header checksum or a segment whose checksum is wrong, so
// each is checked on its own and either failing is the stack's bug.
std::optional<captured_segment> tcp_rig::parse(const tcp::out_packet& p) const {
  captured_segment s;
  s.next_hop = p.dst;
  const auto bytes = chain_bytes(p.m);
  if (bytes.size() != rte_pktmbuf_pkt_len(p.m)) fail("an mbuf chain whose pkt_len is wrong");
  const auto span = std::as_bytes(std::span(bytes));
  const auto ip = wire::parse_ipv4_header(span, false);
  if (!ip) {
    fail("the stack sent a bad IPv4 header");
    return std::nullopt;
  }
  s.ip = *ip;
  s.ip_checksum_ok = static_cast<bool>(wire::parse_ipv4_header(span, true));
  if (!s.ip_checksum_ok) fail("the stack sent a wrong IPv4 header checksum");
  if (ip->protocol != wire::kIpProtoTcp || ip->total_length != bytes.size()) {
    fail("the stack sent an IPv4 packet with the wrong protocol or length");
    return std::nullopt;
  }
  const auto l4 = span.subspan(ip->header_len, ip->payload_len());
  const auto seg = wire::parse_tcp(l4, ip->src, ip->dst, false);
  if (!seg) {
    fail("the stack sent a bad TCP header");
    return std::nullopt;
  }
  s.h = *seg;
  s.tcp_checksum_ok = static_cast<bool>(wire::parse_tcp(l4, ip->src, ip->dst, true));
  if (!s.tcp_checksum_ok) fail("the stack sent a wrong TCP checksum");
  const std::size_t at = ip->header_len + seg->header_len;
  s.payload.assign(bytes.begin() + static_cast<std::ptrdiff_t>(at),
                   bytes.begin() + static_cast<std::ptrdiff_t>(at + seg->payload_len));
  return s;
}

std::vector<captured_segment> tcp_rig::sent() {
  _layer->flush();
  std::vector<captured_segment> out;
  out.reserve(_captured.size());
  // Taken out first: a failure hook that aborts leaves nothing half-read.
  std::vector<tcp::out_packet> packets;
  packets.swap(_captured);
  for (auto& p : packets) {
    if (auto s = parse(p)) out.push_back(std::move(*s));
    rte_pktmbuf_free(p.m);
  }
  packets.clear();
  _captured.swap(packets);  // keeps the reserved capacity
  return out;
}

}  // namespace kbt::support
