#pragma once
// In-process ports on DPDK's net_ring driver: an ethdev whose rx queue reads
// from one rte_ring and whose tx queue writes to another. A test (or a
// benchmark driver) puts frames on `to_port` and takes what the stack sent
// from `from_port`; two ports made with make_ring_pair are wired back to back
// so two stacks talk to each other without any device. The stack sees a
// normal ethdev, so the code under test is the code that runs on a NIC.
#include <rte_ring.h>

#include <cstdint>
#include <string>
#include <utility>

namespace kbt::dev {

struct ring_port {
  std::uint16_t port_id = 0;
  rte_ring* to_port = nullptr;    // frames the port will receive
  rte_ring* from_port = nullptr;  // frames the port transmitted
  bool owns_from_port = false;    // false in a pair: the peer receives on it and frees it
};

// Creates the rings and the ethdev (not yet configured: use open_port).
// Throws startup_error on failure. `name` must be unique in the process.
ring_port make_ring_port(const std::string& name, unsigned ring_size = 1024);

// Two ports joined back to back: what a transmits, b receives, and back.
std::pair<ring_port, ring_port> make_ring_pair(const std::string& name, unsigned ring_size = 1024);

// Closes the ethdev, frees any mbufs left in the rings, and frees the rings.
// For a pair, destroy each port; each frees only the ring it receives on.
void destroy_ring_port(ring_port& p) noexcept;

}  // namespace kbt::dev
