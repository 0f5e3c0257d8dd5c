#include "ip/icmp_echo.hh"

#include <array>
#include <cstring>

#include "wire/ether.hh"
#include "wire/icmp.hh"
#include "wire/mbuf_bytes.hh"

namespace kbt::ip {

void echo_request_to_reply(rte_mbuf* m, std::size_t l2_len, const wire::ipv4_repr& ip,
                           bool ip_cksum_offload) noexcept {
  auto bytes = wire::mbuf_bytes(m);
  // Swap the Ethernet addresses.
  std::array<std::byte, 6> tmp;
  std::memcpy(tmp.data(), bytes.data() + wire::ether_field::kDst, 6);
  std::memcpy(bytes.data() + wire::ether_field::kDst, bytes.data() + wire::ether_field::kSrc, 6);
  std::memcpy(bytes.data() + wire::ether_field::kSrc, tmp.data(), 6);

  if (ip.has_options()) {
    // Close the gap the options leave so the reply has a 20-byte header.
    const std::size_t gap = ip.header_len - wire::kIpv4MinHeaderLen;
    std::memmove(bytes.data() + gap, bytes.data(), l2_len + wire::kIpv4MinHeaderLen);
    rte_pktmbuf_adj(m, static_cast<std::uint16_t>(gap));
    bytes = wire::mbuf_bytes(m);
  }
  // Trim Ethernet padding past the IP datagram.
  const std::size_t icmp_len = ip.payload_len();
  const std::size_t frame_len = l2_len + wire::kIpv4MinHeaderLen + icmp_len;
  if (bytes.size() > frame_len) {
    rte_pktmbuf_trim(m, static_cast<std::uint16_t>(bytes.size() - frame_len));
    bytes = wire::mbuf_bytes(m);
  }

  wire::ipv4_repr reply = ip;
  reply.src = ip.dst;
  reply.dst = ip.src;
  reply.ttl = wire::kIpv4DefaultTtl;
  reply.header_len = wire::kIpv4MinHeaderLen;
  reply.total_length = static_cast<std::uint16_t>(wire::kIpv4MinHeaderLen + icmp_len);
  reply.more_fragments = false;
  reply.fragment_offset = 0;
  // The rx flags (checksum verdicts, RSS hash) mean nothing on the way out.
  m->ol_flags = 0;
  if (ip_cksum_offload) {
    m->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
    m->l2_len = l2_len;
    m->l3_len = wire::kIpv4MinHeaderLen;
  }
  (void)wire::emit_ipv4_header(
      reply, ip_cksum_offload ? wire::tx_checksum::offload : wire::tx_checksum::full,
      bytes.subspan(l2_len));
  (void)wire::echo_request_to_reply(bytes.subspan(l2_len + wire::kIpv4MinHeaderLen, icmp_len));
}

}  // namespace kbt::ip
