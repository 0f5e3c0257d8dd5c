#include "wire/checksum.hh"

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

namespace kbt::wire {
namespace {

constexpr std::uint8_t kIpv4VersionIhl = 0x45;
constexpr std::uint8_t kProtocolUdp = 17;

// A 20-byte header carrying just what DPDK's pseudo-header helpers read:
// addresses, protocol and a total length that yields the L4 length.
rte_ipv4_hdr pseudo_source(ipv4_addr src, ipv4_addr dst, std::uint8_t protocol,
                           std::uint16_t l4_len) noexcept {
  rte_ipv4_hdr h{};
  h.version_ihl = kIpv4VersionIhl;
  h.total_length = rte_cpu_to_be_16(static_cast<std::uint16_t>(sizeof(rte_ipv4_hdr) + l4_len));
  h.next_proto_id = protocol;
  h.src_addr = rte_cpu_to_be_32(src.value);
  h.dst_addr = rte_cpu_to_be_32(dst.value);
  return h;
}

// DPDK sums 16-bit words as they lie in memory; the folded sum of swapped
// words is the swapped sum (RFC 1071 §2(B)), so one swap gives host order.
std::uint16_t to_host(std::uint16_t memory_order) noexcept {
  return rte_be_to_cpu_16(memory_order);
}

// The folded sum, in memory order, of `len` bytes at `off` in an mbuf chain.
// This is rte_raw_cksum_mbuf() with one fix: DPDK 22.11 byte-swaps the
// unfolded 32-bit sum of a segment that starts at an odd offset through a
// uint16_t cast, dropping its carries, so a chain split at an odd byte gets
// a wrong checksum (the odd splits of Checksum.TcpOnMbufMatchesByteBuffer
// fail with it). Folding each piece with rte_raw_cksum() before the swap
// keeps every carry.
bool chain_sum(const rte_mbuf* m, std::uint32_t off, std::uint32_t len,
               std::uint16_t& out) noexcept {
  if (std::uint64_t{off} + len > rte_pktmbuf_pkt_len(m)) return false;
  const rte_mbuf* seg = m;
  while (seg != nullptr && off >= rte_pktmbuf_data_len(seg)) {
    off -= rte_pktmbuf_data_len(seg);
    seg = seg->next;
  }
  std::uint16_t sum = 0;
  for (std::uint32_t done = 0; done < len; seg = seg->next, off = 0) {
    if (seg == nullptr) return false;  // pkt_len disagrees with the chain
    const std::uint32_t avail = rte_pktmbuf_data_len(seg) - off;
    const std::uint32_t n = avail < len - done ? avail : len - done;
    std::uint16_t part = rte_raw_cksum(rte_pktmbuf_mtod_offset(seg, const char*, off), n);
    // A piece that starts at an odd position pairs its bytes the other way
    // round (RFC 1071 §2(B) byte-order independence).
    if ((done & 1U) != 0) part = rte_bswap16(part);
    sum = ones_add(sum, part);
    done += n;
  }
  out = sum;
  return true;
}

}  // namespace

std::uint16_t ones_sum(std::span<const std::byte> bytes) noexcept {
  return to_host(rte_raw_cksum(bytes.data(), bytes.size()));
}

std::uint16_t ipv4_header_checksum(std::span<const std::byte> header) noexcept {
  // rte_ipv4_cksum reads the IHL from byte 0; check it agrees with the span
  // so a corrupt IHL cannot make it read past the buffer.
  if (header.size() >= sizeof(rte_ipv4_hdr) &&
      (std::to_integer<std::size_t>(header[0]) & 0x0f) * 4 == header.size()) {
    const auto* h = reinterpret_cast<const rte_ipv4_hdr*>(header.data());  // packed: align 1
    return to_host(rte_ipv4_cksum(h));
  }
  return internet_checksum(header);
}

std::uint16_t ipv4_pseudo_header_sum(ipv4_addr src, ipv4_addr dst, std::uint8_t protocol,
                                     std::uint16_t l4_len) noexcept {
  const rte_ipv4_hdr h = pseudo_source(src, dst, protocol, l4_len);
  return to_host(rte_ipv4_phdr_cksum(&h, 0));
}

std::uint16_t ipv4_l4_checksum(ipv4_addr src, ipv4_addr dst, std::uint8_t protocol,
                               std::span<const std::byte> segment) noexcept {
  const rte_ipv4_hdr h =
      pseudo_source(src, dst, protocol, static_cast<std::uint16_t>(segment.size()));
  return to_host(rte_ipv4_udptcp_cksum(&h, segment.data()));
}

bool ipv4_l4_checksum_ok(ipv4_addr src, ipv4_addr dst, std::uint8_t protocol,
                         std::span<const std::byte> segment) noexcept {
  const std::uint16_t phdr =
      ipv4_pseudo_header_sum(src, dst, protocol, static_cast<std::uint16_t>(segment.size()));
  return ones_add(phdr, ones_sum(segment)) == 0xffff;
}

result<std::uint16_t, checksum_error> ipv4_l4_checksum(ipv4_addr src, ipv4_addr dst,
                                                       std::uint8_t protocol, const rte_mbuf* m,
                                                       std::uint32_t l4_offset,
                                                       std::uint16_t l4_len) noexcept {
  std::uint16_t raw = 0;
  if (!chain_sum(m, l4_offset, l4_len, raw)) return unexpected{checksum_error::out_of_range};
  const std::uint16_t sum =
      ones_add(ipv4_pseudo_header_sum(src, dst, protocol, l4_len), to_host(raw));
  auto cksum = static_cast<std::uint16_t>(~sum);
  // RFC 768: a computed UDP checksum of zero is sent as all ones, as
  // rte_ipv4_udptcp_cksum does.
  if (cksum == 0 && protocol == kProtocolUdp) cksum = 0xffff;
  return cksum;
}

bool ipv4_l4_checksum_ok(ipv4_addr src, ipv4_addr dst, std::uint8_t protocol, const rte_mbuf* m,
                         std::uint32_t l4_offset, std::uint16_t l4_len) noexcept {
  std::uint16_t raw = 0;
  if (!chain_sum(m, l4_offset, l4_len, raw)) return false;
  return ones_add(ipv4_pseudo_header_sum(src, dst, protocol, l4_len), to_host(raw)) == 0xffff;
}

}  // namespace kbt::wire
