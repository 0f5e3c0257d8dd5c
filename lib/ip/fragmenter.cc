#include "ip/fragmenter.hh"

#include <rte_ip.h>
#include <rte_ip_frag.h>

namespace kbt::ip {

std::size_t fragment_ipv4(rte_mbuf* m, std::uint16_t mtu, rte_mempool* pool,
                          std::span<rte_mbuf*, kMaxFragmentsOut> out) noexcept {
  auto* h = rte_pktmbuf_mtod(m, rte_ipv4_hdr*);
  h->fragment_offset &= rte_cpu_to_be_16(static_cast<std::uint16_t>(~RTE_IPV4_HDR_DF_FLAG));
  // The same pool serves the headers (direct) and the attachments (indirect).
  const std::int32_t n = rte_ipv4_fragment_packet(m, out.data(), kMaxFragmentsOut, mtu, pool, pool);
  rte_pktmbuf_free(m);  // the fragments hold references to its data
  if (n <= 0) return 0;
  for (std::int32_t i = 0; i < n; ++i) {
    rte_mbuf* f = out[static_cast<std::size_t>(i)];
    // rte_ipv4_fragment_packet leaves the header checksums to the caller.
    auto* fh = rte_pktmbuf_mtod(f, rte_ipv4_hdr*);
    fh->hdr_checksum = 0;
    fh->hdr_checksum = rte_ipv4_cksum(fh);
    f->ol_flags = 0;
  }
  return static_cast<std::size_t>(n);
}

}  // namespace kbt::ip
