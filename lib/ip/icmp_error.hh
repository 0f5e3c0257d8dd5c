#pragma once
// ICMP destination unreachable (RFC 792) for a datagram we cannot deliver:
// protocol unreachable for a protocol kbt does not speak, port unreachable
// for UDP (kbt has no UDP sockets), as RFC 1122 §3.2.2.1 asks of a host.
#include <rte_mbuf.h>

#include <cstddef>
#include <cstdint>

#include "wire/addr.hh"
#include "wire/ipv4.hh"

namespace kbt::ip {

inline constexpr std::uint8_t kIcmpCodeProtocolUnreachable = 2;
inline constexpr std::uint8_t kIcmpCodePortUnreachable = 3;
// RFC 1812 §4.3.2.3: quote as much of the datagram as fits in 576 bytes
// (Linux does the same); RFC 792 asks for the header and 8 bytes at least.
inline constexpr std::size_t kIcmpErrorMaxLen = 576;

// RFC 1122 §3.2.2: no error about a datagram sent as a link-layer broadcast
// or multicast, or about a fragment other than the first. (ICMP errors and
// martian sources never get this far: the engine handles ICMP itself and
// drops martians first.) `frame` is the Ethernet frame the datagram came in.
bool may_send_icmp_error(const rte_mbuf* frame, const wire::ipv4_repr& ip) noexcept;

// Builds, in a new mbuf from `pool` starting at its IPv4 header (for
// engine::send_ipv4), a destination unreachable with `code` from `us` to
// the datagram's source, quoting the datagram at `l2_len` of `frame`.
// nullptr when the pool is empty.
rte_mbuf* build_unreachable(rte_mempool* pool, const rte_mbuf* frame, std::size_t l2_len,
                            const wire::ipv4_repr& ip, std::uint8_t code,
                            wire::ipv4_addr us) noexcept;

}  // namespace kbt::ip
