#pragma once
// Opening a DPDK port for kbt: one rx and one tx queue per worker core,
// checksum offloads negotiated with what the port offers, and a symmetric RSS
// key when there is more than one queue so both directions of a flow land on
// the same core. Start-up code: errors throw base::startup_error.
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <cstdint>
#include <span>
#include <string>

#include "wire/addr.hh"
#include "wire/ether.hh"

namespace kbt::dev {

struct port_config {
  std::uint16_t port_id = 0;
  std::uint16_t queues = 1;      // one rx + one tx queue per worker core
  std::uint16_t rx_desc = 1024;
  std::uint16_t tx_desc = 1024;
  // IP MTU. Frames longer than an mbuf arrive and leave as chains.
  std::uint16_t mtu = 1500;
};

// The data room of an rx mbuf for `mtu`: the engine parses a frame from one
// mbuf, so the whole frame (Ethernet header, a VLAN tag and the CRC some
// drivers leave) must fit after the headroom. 1500 keeps DPDK's default.
inline std::uint16_t mbuf_data_room(std::uint16_t mtu) noexcept {
  const std::size_t frame = RTE_PKTMBUF_HEADROOM + wire::kEtherMaxHeaderLen + mtu + RTE_ETHER_CRC_LEN;
  return static_cast<std::uint16_t>(frame > RTE_MBUF_DEFAULT_BUF_SIZE ? frame : RTE_MBUF_DEFAULT_BUF_SIZE);
}

// What the port agreed to do for us. The engine fills checksums in software
// for whatever is false here.
struct port_offloads {
  bool rx_ipv4_cksum = false;
  bool rx_tcp_cksum = false;
  bool tx_ipv4_cksum = false;
  bool tx_tcp_cksum = false;
  bool rss = false;
};

struct port_info {
  std::uint16_t port_id = 0;
  std::uint16_t queues = 0;
  std::string driver;
  wire::mac_addr mac;
  port_offloads offloads;
};

// The first port the EAL probed, or a startup_error saying how to provide one.
std::uint16_t first_port();

// Configures, sets up the queues (queue i takes its mbufs from pools[i]) and
// starts the port. Throws startup_error with the DPDK reason on failure.
port_info open_port(const port_config& config, std::span<rte_mempool* const> pools);

// Stops and closes the port; safe to call once after open_port succeeded.
void close_port(std::uint16_t port_id) noexcept;

}  // namespace kbt::dev
