#include "ip/icmp_echo.hh"

#include <rte_ip.h>

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

bool echo_chain_to_reply(rte_mbuf* m, std::size_t l2_len) noexcept {
  if (m->data_len < l2_len + wire::kIpv4MinHeaderLen + 8) return false;
  auto* h = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, l2_len);
  if (rte_ipv4_hdr_len(h) != wire::kIpv4MinHeaderLen || h->next_proto_id != wire::kIpProtoIcmp) {
    return false;
  }
  const std::uint32_t total = rte_be_to_cpu_16(h->total_length);
  if (total < wire::kIpv4MinHeaderLen + 8 || rte_pktmbuf_pkt_len(m) < l2_len + total) return false;
  const std::uint32_t icmp_len = total - wire::kIpv4MinHeaderLen;
  // RFC 792: the checksum covers the whole message, across every segment.
  std::uint16_t sum = 0;
  if (rte_raw_cksum_mbuf(m, static_cast<std::uint32_t>(l2_len) + wire::kIpv4MinHeaderLen, icmp_len,
                         &sum) != 0 ||
      sum != 0xffff) {
    return false;
  }
  auto* icmp = reinterpret_cast<std::uint8_t*>(h) + wire::kIpv4MinHeaderLen;
  if (icmp[0] != wire::kIcmpEchoRequest || icmp[1] != 0) return false;

  auto bytes = wire::mbuf_bytes(m);
  std::array<std::byte, 6> tmp;
  std::memcpy(tmp.data(), bytes.data() + wire::ether_field::kDst, 6);
  std::memcpy(bytes.data() + wire::ether_field::kDst, bytes.data() + wire::ether_field::kSrc, 6);
  std::memcpy(bytes.data() + wire::ether_field::kSrc, tmp.data(), 6);
  const rte_be32_t src = h->src_addr;
  h->src_addr = h->dst_addr;
  h->dst_addr = src;
  h->time_to_live = wire::kIpv4DefaultTtl;
  h->fragment_offset = 0;
  h->hdr_checksum = 0;
  h->hdr_checksum = rte_ipv4_cksum(h);
  // RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'): only the type word changes,
  // from 0x0800 to 0x0000, so the payload need not be summed again.
  std::uint16_t old_ck;
  std::memcpy(&old_ck, icmp + 2, 2);
  std::uint32_t s = static_cast<std::uint16_t>(~rte_be_to_cpu_16(old_ck)) + 0xf7ffU;  // ~0x0800
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  const auto new_ck = rte_cpu_to_be_16(static_cast<std::uint16_t>(~s));
  icmp[0] = 0;
  std::memcpy(icmp + 2, &new_ck, 2);
  m->ol_flags = 0;
  return true;
}

}  // namespace kbt::ip
