#pragma once
// What a frame looks like once it has left a port, and what the host that
// receives it checks: the simulator's stand-in for a NIC's transmit
// offloads and for the receiving kernel's checksum verification.
//
// Every frame an endpoint transmits goes through both (sim_world::collect):
// the offloads it asked for are carried out the way the emulated driver
// does them, right or wrong, and then every IPv4 header, TCP and ICMP
// checksum in the frame is verified as Linux would on receipt
// (IpInHdrErrors, TcpInCsumErrors, IcmpInCsumErrors). A wrong one fails the
// test that sent it.
#include <rte_mbuf.h>

#include <cstdint>
#include <string>

namespace kbt::sim {

// The transmit offloads a simulated port offers, and how it performs them.
enum class tx_offload : std::uint8_t {
  none,  // no checksum offload: the stack computes every sum (net_ring)
  nic,   // IPv4 and TCP checksum done right over any chain, as NIC hardware does
  // DPDK 22.11's net_tap: the TCP sum taken piece by piece of a chain, each
  // as if it began at an even offset (drivers/net/tap/rte_eth_tap.c), so an
  // odd-length piece before the last gives a wrong sum.
  tap_22_11,
};

// The DPDK driver name a port of this kind reports (for dev::without_known_defects).
const char* driver_of(tx_offload o) noexcept;

// Carries out the checksum offloads `m`'s ol_flags ask for, as `o` does,
// writing into the header mbuf only (the payload of a zero-copy segment is
// shared with the sender's send buffer). No-op for tx_offload::none or a
// frame that asks for nothing.
void perform_tx_offload(rte_mbuf* m, tx_offload o) noexcept;

// Empty when every checksum in the (single-segment) Ethernet frame `m` is
// right, or what is wrong, e.g. "bad TCP checksum 0x1234 (198.18.0.1:80 ->
// ...)". Frames that are not IPv4 (ARP) have nothing to check.
std::string checksum_fault(const rte_mbuf* m);

}  // namespace kbt::sim
