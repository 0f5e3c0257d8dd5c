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

}  // namespace kbt::ip
