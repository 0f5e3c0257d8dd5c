#include "ip/icmp_error.hh"

#include <rte_ip.h>

#include <algorithm>
#include <cstring>

#include "wire/icmp.hh"

namespace kbt::ip {

bool may_send_icmp_error(const rte_mbuf* frame, const wire::ipv4_repr& ip) noexcept {
  // The group bit of the destination MAC: broadcast and multicast frames.
  if ((rte_pktmbuf_mtod(frame, const std::uint8_t*)[0] & 0x01) != 0) return false;
  if (ip.fragment_offset != 0) return false;
  return true;
}

rte_mbuf* build_unreachable(rte_mempool* pool, const rte_mbuf* frame, std::size_t l2_len,
                            const wire::ipv4_repr& ip, std::uint8_t code,
                            wire::ipv4_addr us) noexcept {
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  if (m == nullptr) return nullptr;
  constexpr std::size_t kHeaders = wire::kIpv4MinHeaderLen + wire::kIcmpHeaderLen;
  const std::size_t quote = std::min<std::size_t>(
      {std::size_t{ip.total_length}, kIcmpErrorMaxLen - kHeaders,
       rte_pktmbuf_pkt_len(frame) - l2_len});
  auto* out = reinterpret_cast<std::byte*>(
      rte_pktmbuf_append(m, static_cast<std::uint16_t>(kHeaders + quote)));
  if (out == nullptr) {
    rte_pktmbuf_free(m);
    return nullptr;
  }
  wire::ipv4_repr r;
  r.src = us;
  r.dst = ip.src;
  r.protocol = wire::kIpProtoIcmp;
  r.tos = 0xc0;  // precedence internetwork control, as Linux's icmp_send
  r.total_length = static_cast<std::uint16_t>(kHeaders + quote);
  (void)wire::emit_ipv4_header(r, wire::tx_checksum::full, {out, wire::kIpv4MinHeaderLen});
  auto* icmp = reinterpret_cast<std::uint8_t*>(out + wire::kIpv4MinHeaderLen);
  icmp[0] = wire::kIcmpDestUnreachable;
  icmp[1] = code;
  std::fill(icmp + 2, icmp + 8, 0);  // checksum, then the unused word
  // rte_pktmbuf_read copies only what spans segments; else it points at it.
  const void* q = rte_pktmbuf_read(frame, static_cast<std::uint32_t>(l2_len),
                                   static_cast<std::uint32_t>(quote), icmp + 8);
  if (q != icmp + 8) std::memcpy(icmp + 8, q, quote);
  // rte_raw_cksum sums the words as they lie in memory: stored as it is.
  const auto ck = static_cast<std::uint16_t>(~rte_raw_cksum(icmp, wire::kIcmpHeaderLen + quote));
  std::memcpy(icmp + 2, &ck, 2);
  return m;
}

}  // namespace kbt::ip
