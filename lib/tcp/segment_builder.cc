#include "tcp/segment_builder.hh"

#include "wire/checksum.hh"
#include "wire/endian.hh"
#include "wire/ipv4.hh"

namespace kbt::tcp {

void ipv4_family::emit_header(const tuple& t, std::uint16_t l4_len, bool offload,
                              std::span<std::byte> out) noexcept {
  wire::ipv4_repr ip;
  ip.src = t.local_ip;
  ip.dst = t.remote_ip;
  ip.protocol = wire::kIpProtoTcp;
  ip.total_length = static_cast<std::uint16_t>(kHeaderLen + l4_len);
  ip.dont_fragment = true;
  (void)wire::emit_ipv4_header(ip, offload ? wire::tx_checksum::offload : wire::tx_checksum::full,
                               out);
}

std::uint16_t ipv4_family::pseudo_header_sum(const tuple& t, std::uint16_t l4_len) noexcept {
  return wire::ipv4_pseudo_header_sum(t.local_ip, t.remote_ip, wire::kIpProtoTcp, l4_len);
}

std::uint16_t ipv4_family::l4_checksum(const tuple& t, const rte_mbuf* m, std::uint32_t l4_offset,
                                       std::uint16_t l4_len) noexcept {
  return wire::ipv4_l4_checksum(t.local_ip, t.remote_ip, wire::kIpProtoTcp, m, l4_offset, l4_len)
      .value_or(0);
}

template <class Family>
rte_mbuf* basic_segment_builder<Family>::build(const typename Family::tuple& t,
                                               const wire::tcp_repr& r,
                                               rte_mbuf* payload) const noexcept {
  rte_mbuf* h = rte_pktmbuf_alloc(_pool);
  const auto tcp_hlen = static_cast<std::uint16_t>(wire::tcp_header_len(r));
  const auto hdr_len = static_cast<std::uint16_t>(Family::kHeaderLen + tcp_hlen);
  // Read before chaining: rte_pktmbuf_chain leaves the tail's pkt_len at
  // its first segment's data_len.
  const std::uint32_t plen = payload != nullptr ? rte_pktmbuf_pkt_len(payload) : 0;
  auto* p = h != nullptr ? reinterpret_cast<std::byte*>(rte_pktmbuf_append(h, hdr_len)) : nullptr;
  if (p == nullptr || (payload != nullptr && rte_pktmbuf_chain(h, payload) != 0)) {
    rte_pktmbuf_free(h);
    rte_pktmbuf_free(payload);
    return nullptr;
  }
  const auto l4_len = static_cast<std::uint16_t>(tcp_hlen + plen);
  const std::span<std::byte> out(p, hdr_len);
  Family::emit_header(t, l4_len, _offload, out);
  // The TCP checksum covers the pseudo-header, the header and the payload
  // that hangs off the chain. A segment that is a header alone (an ACK, a
  // RST, a cookie SYN-ACK: most of what a SYN flood or a keep-alive load
  // makes) is summed as it is written; with payload the header is written
  // with the field left for later, then the field is filled once for the
  // whole chain.
  const bool sum_header = !_offload && payload == nullptr;
  (void)wire::emit_tcp(r, t.local_ip, t.remote_ip, {},
                       sum_header ? wire::tx_checksum::full : wire::tx_checksum::offload,
                       out.subspan(Family::kHeaderLen));
  std::byte* cks = p + Family::kHeaderLen + wire::tcp_field::kChecksum;
  if (_offload) {
    wire::store_be<std::uint16_t>(cks, Family::pseudo_header_sum(t, l4_len));
    h->ol_flags = Family::kTxOffloadFlags;
    h->l3_len = Family::kHeaderLen;
    h->l4_len = tcp_hlen;
  } else if (!sum_header) {
    wire::store_be<std::uint16_t>(cks, 0);
    wire::store_be<std::uint16_t>(cks, Family::l4_checksum(t, h, Family::kHeaderLen, l4_len));
  }
  return h;
}

template class basic_segment_builder<ipv4_family>;

}  // namespace kbt::tcp
