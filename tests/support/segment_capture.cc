#include "segment_capture.hh"

#include <cstdio>
#include <cstdlib>

namespace kbt::support {
namespace {

void print_and_abort(void*, const char* what) {
  std::fprintf(stderr, "segment_capture: %s\n", what);
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

segment_capture::segment_capture(rig_failure_fn on_failure, void* fail_ctx)
    : _fail(on_failure != nullptr ? on_failure : &print_and_abort), _fail_ctx(fail_ctx) {
  _taken.reserve(tcp::segment_queue::kCapacity);
}

segment_capture::~segment_capture() {
  for (auto& p : _taken) rte_pktmbuf_free(p.m);
}

std::size_t segment_capture::take(void* ctx, std::span<const tcp::out_packet> pkts) noexcept {
  auto* c = static_cast<segment_capture*>(ctx);
  if (c->_mode == capture_mode::discard) {
    for (const auto& p : pkts) rte_pktmbuf_free(p.m);
    c->_discarded += pkts.size();
  } else {
    c->_taken.insert(c->_taken.end(), pkts.begin(), pkts.end());
  }
  return pkts.size();
}

// RFC 1122 §3.2.1.2 and RFC 9293 §3.1: a receiver silently discards a
// datagram whose header checksum or a segment whose checksum is wrong, so
// each is checked on its own and either failing is the stack's bug.
std::vector<captured_segment> segment_capture::segments() {
  std::vector<captured_segment> out;
  out.reserve(_taken.size());
  // Taken out first: a failure hook that aborts leaves nothing half-read.
  std::vector<tcp::out_packet> packets;
  packets.swap(_taken);
  for (auto& p : packets) {
    if (auto s = parse(p)) out.push_back(std::move(*s));
    rte_pktmbuf_free(p.m);
  }
  packets.clear();
  _taken.swap(packets);  // keeps the reserved capacity
  return out;
}

std::vector<segment_header> segment_capture::headers() {
  std::vector<segment_header> out;
  for (const captured_segment& s : segments()) out.push_back({s.h.flags, s.h.seq.value, s.h.ack.value});
  return out;
}

std::optional<captured_segment> segment_capture::parse(const tcp::out_packet& p) const {
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

}  // namespace kbt::support
