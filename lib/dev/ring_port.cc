#include "dev/ring_port.hh"

#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "base/startup_error.hh"

namespace kbt::dev {
namespace {

rte_ring* new_ring(const std::string& name, unsigned size) {
  // Single producer and single consumer: one core on each side.
  rte_ring* r = rte_ring_create(name.c_str(), size, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
  if (r == nullptr) {
    throw base::startup_error("ring " + name + ": " + rte_strerror(rte_errno));
  }
  return r;
}

std::uint16_t new_port(const std::string& name, rte_ring* rx, rte_ring* tx) {
  const int id = rte_eth_from_rings(name.c_str(), &rx, 1, &tx, 1, SOCKET_ID_ANY);
  if (id < 0) throw base::startup_error("ring port " + name + ": " + rte_strerror(rte_errno));
  return static_cast<std::uint16_t>(id);
}

void drain_and_free(rte_ring* r) noexcept {
  if (r == nullptr) return;
  void* obj = nullptr;
  while (rte_ring_dequeue(r, &obj) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(obj));
  rte_ring_free(r);
}

}  // namespace

ring_port make_ring_port(const std::string& name, unsigned ring_size) {
  ring_port p;
  p.to_port = new_ring(name + "_in", ring_size);
  p.from_port = new_ring(name + "_out", ring_size);
  p.owns_from_port = true;
  p.port_id = new_port(name, p.to_port, p.from_port);
  return p;
}

std::pair<ring_port, ring_port> make_ring_pair(const std::string& name, unsigned ring_size) {
  ring_port a;
  ring_port b;
  // Each port owns the ring it receives on; the peer transmits into it.
  a.to_port = new_ring(name + "_to_a", ring_size);
  b.to_port = new_ring(name + "_to_b", ring_size);
  a.from_port = b.to_port;
  b.from_port = a.to_port;
  a.port_id = new_port(name + "_a", a.to_port, a.from_port);
  b.port_id = new_port(name + "_b", b.to_port, b.from_port);
  return {a, b};
}

void destroy_ring_port(ring_port& p) noexcept {
  rte_eth_dev_stop(p.port_id);
  rte_eth_dev_close(p.port_id);
  drain_and_free(p.to_port);
  if (p.owns_from_port) drain_and_free(p.from_port);
  p.to_port = nullptr;
  p.from_port = nullptr;
}

}  // namespace kbt::dev
