#pragma once
// Fragmenting an outgoing IPv4 datagram larger than the link MTU (RFC 791
// §3.2, RFC 1122 §3.3.3), as Linux does for an echo reply to a large ping.
// Over rte_ipv4_fragment_packet: the payload is not copied, each fragment is a
// header mbuf and indirect mbufs attached to the original's segments.
#include <rte_mbuf.h>

#include <cstddef>
#include <cstdint>
#include <span>

namespace kbt::ip {

// Fragments per datagram at most: 65,535 bytes in fragments of 8-byte
// multiples above a 576-byte MTU (RFC 791's minimum a host must accept).
inline constexpr std::size_t kMaxFragmentsOut = 128;

// `m` starts at its IPv4 header. Clears DF (we choose to fragment our own
// datagram), splits it into fragments of at most `mtu` bytes with their
// header checksums computed, and frees `m`. Returns how many fragments are in
// `out` (their owner is now the caller), or 0 when it failed (no mbufs, too
// many pieces): then nothing is left to free.
std::size_t fragment_ipv4(rte_mbuf* m, std::uint16_t mtu, rte_mempool* pool,
                          std::span<rte_mbuf*, kMaxFragmentsOut> out) noexcept;

}  // namespace kbt::ip
