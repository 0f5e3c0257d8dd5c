#include "dev/offload_defects.hh"

#include "dev/port.hh"

namespace kbt::dev {

port_offloads without_known_defects(std::string_view driver, port_offloads wanted) noexcept {
  if (driver == "net_tap") {
    // DPDK 22.11 drivers/net/tap/rte_eth_tap.c (tap_write_mbufs) "offloads"
    // the TCP and UDP checksums by summing each mbuf of a chain on its own
    // with __rte_raw_cksum(), as if every piece began at an even offset. A
    // piece of odd length other than the last shifts the bytes after it by
    // one, and the sum comes out wrong: Linux drops the segment
    // (TcpInCsumErrors), and a retransmission carries the same bytes, so the
    // connection hangs. kbt's data segments are exactly such chains (a header
    // mbuf, then the send buffer's pieces), and the PMD sums in software on
    // this core anyway, so the engine's own chain-aware sum costs no more.
    // The IPv4 header sum is computed right there and stays offloaded.
    wanted.tx_tcp_cksum = false;
  }
  return wanted;
}

}  // namespace kbt::dev
