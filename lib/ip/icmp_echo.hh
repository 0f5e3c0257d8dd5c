#pragma once
// Answering ping (RFC 792 echo, RFC 1122 §3.2.2.6) by rewriting the request
// mbuf into the reply, so the payload is never copied.
#include <rte_mbuf.h>

#include <cstddef>

#include "wire/ipv4.hh"

namespace kbt::ip {

// `m` holds an Ethernet frame whose IPv4 header (already validated, described
// by `ip`) starts at `l2_len` and whose ICMP message is a valid echo request.
// Swaps the addresses, resets the TTL, recomputes the IPv4 checksum and turns
// the ICMP type into an echo reply. IP options, if any, are dropped from the
// reply (RFC 1122 allows it for record-route; we keep none). With
// `ip_cksum_offload` the IPv4 header checksum is left to the NIC.
void echo_request_to_reply(rte_mbuf* m, std::size_t l2_len, const wire::ipv4_repr& ip,
                           bool ip_cksum_offload) noexcept;

// The same for an echo request that reassembly rebuilt as a chain too long
// for one mbuf (ping -s 8000): `m` is the Ethernet frame, its IPv4 header
// (without options: false otherwise) in the first segment, checksum valid.
// Checks the ICMP checksum over the whole chain and that it is an echo
// request; false if not, `m` unchanged. The reply's header checksum is
// computed in full (it will be fragmented, which needs the bytes).
bool echo_chain_to_reply(rte_mbuf* m, std::size_t l2_len) noexcept;

}  // namespace kbt::ip
