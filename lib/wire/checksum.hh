#pragma once
// The Internet checksum (RFC 1071) for IPv4, ICMP and TCP, as thin wrappers
// over DPDK's rte_raw_cksum / rte_ipv4_cksum / rte_ipv4_phdr_cksum /
// rte_ipv4_udptcp_cksum.
//
// Every 16-bit value here is in HOST order: the number you get from
// load_be<uint16_t>() on the checksum field and give to store_be(). (DPDK
// returns the same sums in memory order; the conversion happens inside.)
#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/addr.hh"
#include "wire/result.hh"

struct rte_mbuf;

namespace kbt::wire {

// How an emitter fills a checksum field.
enum class tx_checksum : std::uint8_t {
  // Computed in software; the packet is complete on return.
  full,
  // Left for the NIC (RTE_MBUF_F_TX_IP_CKSUM / RTE_MBUF_F_TX_TCP_CKSUM): the
  // IPv4 header checksum is left zero and the TCP checksum field holds the
  // pseudo-header sum only, as the DPDK offload contract requires.
  offload,
};

// The one's-complement sum of `bytes`, folded to 16 bits, NOT complemented
// (rte_raw_cksum). An odd trailing byte is padded with zero (RFC 1071 §4.1).
std::uint16_t ones_sum(std::span<const std::byte> bytes) noexcept;

// One's-complement addition of two folded sums (end-around carry).
constexpr std::uint16_t ones_add(std::uint16_t a, std::uint16_t b) noexcept {
  const std::uint32_t s = std::uint32_t{a} + b;
  return static_cast<std::uint16_t>((s & 0xffff) + (s >> 16));
}

// The value to store in a checksum field covering `bytes` (ICMP message,
// IPv4 header). The checksum field inside `bytes` must be zero.
inline std::uint16_t internet_checksum(std::span<const std::byte> bytes) noexcept {
  return static_cast<std::uint16_t>(~ones_sum(bytes));
}

// True when `bytes`, checksum field included, sums to 0xffff (RFC 1071 §1:
// the receiver's check). Works on a received header as it is.
inline bool checksum_ok(std::span<const std::byte> bytes) noexcept {
  return ones_sum(bytes) == 0xffff;
}

// IPv4 header checksum (RFC 791 §3.1) of `header` (ihl * 4 bytes), whose
// checksum field must be zero (rte_ipv4_cksum).
std::uint16_t ipv4_header_checksum(std::span<const std::byte> header) noexcept;

// The IPv4 pseudo-header sum (RFC 9293 §3.1: src, dst, zero, protocol, L4
// length), not complemented (rte_ipv4_phdr_cksum). This is what goes in the
// TCP checksum field when the NIC computes the rest. For TSO, DPDK wants
// l4_len = 0 here.
std::uint16_t ipv4_pseudo_header_sum(ipv4_addr src, ipv4_addr dst, std::uint8_t protocol,
                                     std::uint16_t l4_len) noexcept;

// The TCP/UDP checksum of `segment` (header + payload, checksum field zero)
// under the pseudo-header for (src, dst, protocol) (rte_ipv4_udptcp_cksum).
// As in DPDK, a UDP checksum of zero is sent as 0xffff (RFC 768).
// `segment` must be at most 65515 bytes (what fits in an IPv4 packet).
std::uint16_t ipv4_l4_checksum(ipv4_addr src, ipv4_addr dst, std::uint8_t protocol,
                               std::span<const std::byte> segment) noexcept;

// True when a received segment's checksum (field as received) is correct.
bool ipv4_l4_checksum_ok(ipv4_addr src, ipv4_addr dst, std::uint8_t protocol,
                         std::span<const std::byte> segment) noexcept;

enum class checksum_error : std::uint8_t {
  // The requested range runs past the end of the mbuf chain.
  out_of_range,
};

// The same over `l4_len` bytes at `l4_offset` in a (possibly chained) mbuf,
// so a segment whose payload sits in other segments is checksummed without
// copying. The checksum field must be zero. (Walks the chain like
// rte_raw_cksum_mbuf, minus its odd-offset carry bug; see checksum.cc.)
result<std::uint16_t, checksum_error> ipv4_l4_checksum(ipv4_addr src, ipv4_addr dst,
                                                       std::uint8_t protocol, const rte_mbuf* m,
                                                       std::uint32_t l4_offset,
                                                       std::uint16_t l4_len) noexcept;

// Verification on an mbuf, field as received. A range that runs past the
// chain cannot be verified and counts as bad.
bool ipv4_l4_checksum_ok(ipv4_addr src, ipv4_addr dst, std::uint8_t protocol, const rte_mbuf* m,
                         std::uint32_t l4_offset, std::uint16_t l4_len) noexcept;

// RFC 1624 eqn. 3: the new checksum after one 16-bit word covered by it
// changes from old_word to new_word, HC' = ~(~HC + ~m + m'). RFC 1624 §3
// replaces RFC 1141's HC + m + ~m', which can give the wrong zero (0x0000
// for 0xffff); this form agrees with a full recomputation.
constexpr std::uint16_t checksum_adjust(std::uint16_t old_checksum, std::uint16_t old_word,
                                        std::uint16_t new_word) noexcept {
  std::uint16_t sum =
      ones_add(static_cast<std::uint16_t>(~old_checksum), static_cast<std::uint16_t>(~old_word));
  sum = ones_add(sum, new_word);
  return static_cast<std::uint16_t>(~sum);
}

}  // namespace kbt::wire
