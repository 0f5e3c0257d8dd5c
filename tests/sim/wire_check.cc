#include "wire_check.hh"

#include <rte_ip.h>

#include <cstdio>
#include <cstring>

#include "wire/addr.hh"
#include "wire/checksum.hh"
#include "wire/endian.hh"
#include "wire/ether.hh"
#include "wire/icmp.hh"
#include "wire/ipv4.hh"
#include "wire/mbuf_bytes.hh"
#include "wire/tcp.hh"

namespace kbt::sim {
namespace {

constexpr std::size_t kIpChecksumAt = 10;
constexpr std::size_t kTcpChecksumAt = 16;
constexpr std::size_t kTcpMinHeader = 20;

// Sums of 16-bit words as they lie in memory (rte_raw_cksum's order): the
// order a NIC works in. Stored back with memcpy, they need no swapping.
std::uint16_t add(std::uint16_t a, std::uint16_t b) noexcept { return wire::ones_add(a, b); }

void store(std::byte* at, std::uint16_t memory_order) noexcept {
  std::memcpy(at, &memory_order, sizeof memory_order);
}

// A NIC: the field holds the pseudo-header sum (DPDK's contract); the
// hardware adds every L4 byte of the frame, wherever the chain splits it.
std::uint16_t nic_l4_sum(const rte_mbuf* m, std::uint32_t l4_off) noexcept {
  std::uint32_t pos = 0;
  std::uint16_t sum = 0;
  for (const rte_mbuf* s = m; s != nullptr; s = s->next) {
    const auto* p = rte_pktmbuf_mtod(s, const char*);
    std::uint32_t len = s->data_len;
    std::uint32_t skip = 0;
    if (pos + len <= l4_off) {
      pos += len;
      continue;
    }
    if (pos < l4_off) skip = l4_off - pos;
    std::uint16_t part = rte_raw_cksum(p + skip, len - skip);
    // Bytes that begin at an odd offset of the L4 data pair the other way.
    if (((pos + skip - l4_off) & 1U) != 0) part = static_cast<std::uint16_t>((part << 8) | (part >> 8));
    sum = add(sum, part);
    pos += len;
  }
  return sum;
}

// net_tap in DPDK 22.11: the pseudo-header from the IPv4 header, then each
// piece summed as if it started the L4 data: the 20-byte TCP header, the
// rest of the first mbuf, then every further mbuf.
std::uint16_t tap_l4_sum(const rte_mbuf* m, std::uint32_t l4_off) noexcept {
  const auto* ip = rte_pktmbuf_mtod_offset(m, const rte_ipv4_hdr*, m->l2_len);
  std::uint16_t sum = rte_ipv4_phdr_cksum(ip, 0);
  const auto* first = rte_pktmbuf_mtod(m, const char*);
  sum = add(sum, rte_raw_cksum(first + l4_off, kTcpMinHeader));
  if (m->data_len > l4_off + kTcpMinHeader) {
    sum = add(sum, rte_raw_cksum(first + l4_off + kTcpMinHeader,
                                 m->data_len - l4_off - kTcpMinHeader));
  }
  for (const rte_mbuf* s = m->next; s != nullptr; s = s->next) {
    sum = add(sum, rte_raw_cksum(rte_pktmbuf_mtod(s, const char*), s->data_len));
  }
  return sum;
}

std::string hex16(std::uint16_t v) {
  char b[8];
  std::snprintf(b, sizeof b, "0x%04x", v);
  return b;
}

std::string endpoints(const wire::ipv4_repr& ip) {
  return wire::to_string(ip.src) + " -> " + wire::to_string(ip.dst);
}

}  // namespace

const char* driver_of(tx_offload o) noexcept {
  switch (o) {
    case tx_offload::none: return "net_ring";
    case tx_offload::nic: return "sim_nic";
    case tx_offload::tap_22_11: return "net_tap";
  }
  return "?";
}

void perform_tx_offload(rte_mbuf* m, tx_offload o) noexcept {
  if (o == tx_offload::none) return;
  const std::uint64_t f = m->ol_flags;
  const std::uint32_t l3_off = m->l2_len;
  const std::uint32_t l4_off = m->l2_len + m->l3_len;
  auto* first = rte_pktmbuf_mtod(m, std::byte*);
  if ((f & RTE_MBUF_F_TX_IP_CKSUM) != 0 && m->data_len >= l3_off + m->l3_len) {
    store(first + l3_off + kIpChecksumAt, 0);
    const auto sum = rte_raw_cksum(first + l3_off, m->l3_len);
    store(first + l3_off + kIpChecksumAt, static_cast<std::uint16_t>(~sum));
  }
  if ((f & RTE_MBUF_F_TX_L4_MASK) != RTE_MBUF_F_TX_TCP_CKSUM ||
      m->data_len < l4_off + kTcpMinHeader) {
    return;
  }
  std::byte* field = first + l4_off + kTcpChecksumAt;
  std::uint16_t cksum = 0;
  if (o == tx_offload::nic) {
    cksum = static_cast<std::uint16_t>(~nic_l4_sum(m, l4_off));
  } else {
    store(field, 0);
    cksum = static_cast<std::uint16_t>(~tap_l4_sum(m, l4_off));
    if (cksum == 0) cksum = 0xffff;
  }
  store(field, cksum);
}

std::string checksum_fault(const rte_mbuf* m) {
  const auto frame = wire::mbuf_bytes(m);
  const auto eth = wire::parse_ether(frame);
  if (!eth || eth->ether_type != wire::kEthertypeIpv4) return {};
  const auto l3 = frame.subspan(eth->header_len());
  const auto ip = wire::parse_ipv4_header(l3, true);
  if (!ip) {
    return ip.error() == wire::ipv4_error::bad_checksum
               ? "bad IPv4 header checksum " +
                     hex16(wire::load_be<std::uint16_t>(l3.data() + kIpChecksumAt))
               : std::string{};  // malformed on purpose is not a checksum matter
  }
  const auto l4 = l3.subspan(ip->header_len, ip->payload_len());
  if (ip->protocol == wire::kIpProtoTcp) {
    const auto t = wire::parse_tcp(l4, ip->src, ip->dst, true);
    if (!t && t.error() == wire::tcp_error::bad_checksum) {
      return "bad TCP checksum " + hex16(wire::load_be<std::uint16_t>(l4.data() + kTcpChecksumAt)) +
             " (" + endpoints(*ip) + ", " + std::to_string(l4.size()) + " bytes)";
    }
  } else if (ip->protocol == wire::kIpProtoIcmp) {
    const auto i = wire::parse_icmp(l4);
    if (!i && i.error() == wire::icmp_error::bad_checksum) {
      return "bad ICMP checksum (" + endpoints(*ip) + ")";
    }
  }
  return {};
}

}  // namespace kbt::sim
