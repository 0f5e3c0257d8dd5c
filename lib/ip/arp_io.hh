#pragma once
// Building and answering ARP frames (RFC 826) for one interface address.
#include <rte_mbuf.h>

#include <cstddef>

#include "wire/addr.hh"
#include "wire/arp.hh"

namespace kbt::ip {

struct local_link {
  wire::mac_addr mac;
  wire::ipv4_addr ip;
};

// Writes a broadcast ARP request for `target` into the empty mbuf `m`. With
// target == us.ip it is the announcement of RFC 5227 §2.3 (gratuitous ARP).
// Returns false (m untouched) when the mbuf has no room.
bool build_arp_request(rte_mbuf* m, const local_link& us, wire::ipv4_addr target) noexcept;

// Turns the received request `req` (its ARP header at offset `l2_len` of `m`)
// into our reply, in place: RFC 826 "swap the hardware and protocol fields,
// put the local hardware address in, set the opcode to reply". Any 802.1Q tag
// stays, so the reply leaves on the VLAN the request came from.
void arp_request_to_reply(rte_mbuf* m, std::size_t l2_len, const wire::arp_repr& req,
                          const local_link& us) noexcept;

}  // namespace kbt::ip
