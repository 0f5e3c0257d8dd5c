#pragma once
// Martian addresses: the IPv4 sources a host must not accept (RFC 1122
// §3.2.1.3, RFC 1812 §5.3.7) and, the same set, the destinations kbt never
// sends to. RFC 1122 §3.2.1.3: "A host MUST silently discard an incoming
// datagram containing an IP source address that is invalid by the rules of
// this section." Answering one instead reflects a reply (a SYN-ACK, an echo
// reply, an ARP request for it) to an address no host can hold, or back to
// ourselves (a land attack).
//
// A pure function of the address and our interface's prefix, inline and
// constexpr: the engine asks once per received IPv4 packet and ARP frame,
// and the tests check the table at compile time as well.
#include <cstdint>

#include "wire/addr.hh"

namespace kbt::ip {

enum class address_class : std::uint8_t {
  unicast,           // a host's address: accepted
  own,               // our own address, arriving from the wire (land attack)
  this_network,      // 0.0.0.0/8
  loopback,          // 127.0.0.0/8
  multicast,         // 224.0.0.0/4
  reserved,          // 240.0.0.0/4, 255.255.255.255 among them
  subnet_network,    // our subnet's address with the host part all zeros
  subnet_broadcast,  // our subnet's directed broadcast (host part all ones)
};

constexpr address_class classify(wire::ipv4_addr a, const wire::ipv4_prefix& us) noexcept {
  // We never receive our own frames from the wire, so a packet that claims
  // our address as its source is forged: answering a SYN from ourselves to
  // ourselves makes the reply a new SYN for the same tuple (the land attack).
  if (a == us.addr) return address_class::own;
  const std::uint32_t top = a.value >> 24;
  // RFC 1122 §3.2.1.3 (a) {0, 0} and (b) {0, Host-number}: "this network",
  // legal as a source only while a host is still learning its own address
  // (BOOTP, DHCP); there is no host to answer. RFC 1812 §5.3.7: network 0.
  if (top == 0) return address_class::this_network;
  // RFC 1122 §3.2.1.3 (g) {127, any}: internal host loopback; it "MUST NOT
  // appear outside a host". RFC 1812 §5.3.7: network 127.
  if (top == 127) return address_class::loopback;
  // RFC 1122 §3.2.1.3: a source address is "one of its own IP addresses (but
  // not a broadcast or multicast address)"; RFC 1812 §5.3.7: a source that
  // "is not a unicast address" is invalid. Class D names a group, not a sender.
  if ((a.value >> 28) == 0xe) return address_class::multicast;
  // Class E, reserved (RFC 1812 §5.3.7, RFC 1112 §4), which holds
  // RFC 1122 §3.2.1.3 (c) {-1, -1}, the limited broadcast 255.255.255.255.
  if ((a.value >> 28) == 0xf) return address_class::reserved;
  // Our own subnet's special addresses. RFC 1122 §3.2.1.3 (d)/(e): the
  // directed broadcast {Network, -1} / {Network, Subnet, -1}; and host number
  // 0, which §3.2.1.3 forbids outside the special cases and §3.3.6 names the
  // obsolete 4.2BSD broadcast form. Only below /31: RFC 3021 makes both
  // addresses of a /31 hosts, and a /32 has no host part at all.
  if (us.length < 31 && us.contains(a)) {
    const std::uint32_t host_bits = ~us.mask();
    const std::uint32_t host = a.value & host_bits;
    if (host == 0) return address_class::subnet_network;
    if (host == host_bits) return address_class::subnet_broadcast;
  }
  return address_class::unicast;
}

// The same, for a host that also holds the addresses of `also_own` (source
// addresses, ip/source_range.hh): those are its own as well.
constexpr address_class classify(wire::ipv4_addr a, const wire::ipv4_prefix& us,
                                 const wire::ipv4_range& also_own) noexcept {
  return also_own.contains(a) ? address_class::own : classify(a, us);
}

constexpr bool is_martian(address_class c) noexcept { return c != address_class::unicast; }

}  // namespace kbt::ip
