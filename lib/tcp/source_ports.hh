#pragma once
// The local ends of a core's active opens: its source addresses in turn
// (ip/source_range.hh), each with the whole port range, and for each a
// pool port whose replies land on this core (port_pool.hh). One place maps
// an address to its share of the pool, for the open that takes a port and
// for the connection or TIME_WAIT record that gives it back.
#include <cstdint>
#include <memory>
#include <optional>

#include "base/rss_table.hh"
#include "tcp/port_pool.hh"
#include "wire/addr.hh"

namespace kbt::tcp {

class source_ports {
 public:
  struct endpoint {
    wire::ipv4_addr ip;
    std::uint16_t port = 0;
  };

  // `rss` nullptr: this core owns every flow (a one-queue RSS table of its
  // own). `sources` empty: `local_ip` alone. Throws as port_pool does.
  source_ports(const base::rss_table* rss, std::uint16_t core, std::uint16_t first,
               std::uint16_t last, wire::ipv4_range sources, wire::ipv4_addr local_ip);

  // Round robin over the source addresses: the next one in turn, or the
  // first after it with a port left for this destination (one try each).
  std::optional<endpoint> take(wire::ipv4_addr remote_ip, std::uint16_t remote_port) noexcept;
  // A port from take() on `local_ip` goes back to that address's share.
  void give_back(wire::ipv4_addr local_ip, std::uint16_t port) noexcept {
    _pool.give_back(port, local_ip.value - _sources.first.value);
  }

  const port_pool& pool() const noexcept { return _pool; }
  wire::ipv4_range sources() const noexcept { return _sources; }

 private:
  std::unique_ptr<base::rss_table> _own_rss;  // when the caller gives none
  wire::ipv4_range _sources;
  std::uint32_t _next = 0;  // the index the next take() tries first
  port_pool _pool;
};

}  // namespace kbt::tcp
