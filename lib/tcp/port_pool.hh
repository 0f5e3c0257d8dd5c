#pragma once
// Source ports for active opens, chosen so that the peer's replies land on
// the core that connected (Seastar's RSS-aware connect()), without trying
// ports one by one.
//
// Why it works: Toeplitz is linear over GF(2), so
//   hash(remote, local, rport, p) = hash(remote, local, rport, 0) ^ t(p),
// with t(p) = hash(0, 0, 0, p) fixed per port. The RETA looks only at the low
// bits (mask = reta_size - 1), so with c = hash(remote, local, rport, 0):
//   reply lands on reta[(c ^ t(p)) & mask].
// Ports fall into reta_size classes k(p) = t(p) & mask, computed once. A port
// of class k suits core q for this destination iff reta[k ^ (c & mask)] == q:
// take() walks the RETA entries owned by q (at most reta_size steps) and pops
// from class i ^ (c & mask) for each such entry i. No hashing per port.
//
// Each core keeps its own pool with every port in it. For one destination the
// classes that suit different cores are disjoint, so two cores never pick the
// same port for the same destination and tuples never collide across cores;
// within a core a port is out until give_back(). Freed ports go to the tail
// of their class's FIFO, so a port just released is the last to be reused.
//
// Several source addresses (ip/source_range.hh): each has its own free lists
// and taken bits over the same port range, since a port in use from one
// address is free from another (the 4-tuple names a connection). Source s
// is addressed by its index; the caller maps it to its address, which take()
// is given for the hash. The classes, a property of the port alone, are
// shared. About 4 bytes per port per source.
//
// One core owns a pool: no locks. Nothing allocates after construction.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "base/rss_table.hh"
#include "wire/addr.hh"

namespace kbt::tcp {

class port_pool {
 public:
  // RFC 6335 §6 suggests 49152-65535; Linux's default ip_local_port_range is
  // 32768-60999, which keeps clear of the IANA range's listeners and gives
  // more ports. We follow Linux.
  static constexpr std::uint16_t kFirst = 32768;
  static constexpr std::uint16_t kLast = 60999;

  // Start-up: precomputes every port's class. Copies what it needs of `rss`
  // (key and this core's RETA entries), so `rss` need not outlive the pool.
  // Throws std::invalid_argument if first is 0, first > last, core is not
  // one of rss's queues, or sources is 0.
  port_pool(const base::rss_table& rss, std::uint16_t core, std::uint16_t first = kFirst,
            std::uint16_t last = kLast, std::uint32_t sources = 1);

  // A free local port such that the reply to (local_ip:port -> remote_ip:
  // remote_port) lands on this core; nullopt when none is left for that
  // destination. Rotates over the suitable classes so that successive
  // connections spread over the port range. `source` (< sources()) is the
  // index of `local_ip`; one out of range gets nullopt.
  [[nodiscard]] std::optional<std::uint16_t> take(wire::ipv4_addr local_ip,
                                                  wire::ipv4_addr remote_ip,
                                                  std::uint16_t remote_port,
                                                  std::uint32_t source = 0) noexcept;
  // Returns a port from take() on `source` to the tail of its class once its
  // connection is done (after TIME_WAIT: the caller decides). A port or
  // source outside the range, or not taken (a double give_back), is ignored
  // and counted.
  void give_back(std::uint16_t port, std::uint32_t source = 0) noexcept;

  [[nodiscard]] bool is_taken(std::uint16_t port, std::uint32_t source = 0) const noexcept;
  // Free ports in all classes and sources, whatever the destination.
  [[nodiscard]] std::size_t available() const noexcept { return _free; }
  // Free ports of one source.
  [[nodiscard]] std::size_t available(std::uint32_t source) const noexcept {
    return source < _sources ? _source_free[source] : 0;
  }
  [[nodiscard]] std::uint32_t sources() const noexcept { return _sources; }
  [[nodiscard]] std::uint16_t core() const noexcept { return _core; }
  [[nodiscard]] std::uint16_t first() const noexcept { return _first; }
  [[nodiscard]] std::uint16_t last() const noexcept { return _last; }
  // give_back() calls ignored because the port was not taken or not ours.
  [[nodiscard]] std::uint64_t ignored_give_backs() const noexcept { return _ignored; }

 private:
  static constexpr std::uint16_t kNone = 0xffff;  // no port: first >= 1 keeps indices below it

  void push_tail(std::uint32_t source, std::uint16_t klass, std::uint16_t index) noexcept;

  // Per-source arrays are one vector each, source s at s * (its length).
  base::rss_table _rss;                 // key and mask for c; a per-core copy
  std::vector<std::uint16_t> _owned;   // RETA indices that map to _core
  std::vector<std::uint16_t> _class;   // per port index (port - first): t(p) & mask
  std::vector<std::uint16_t> _next;    // per source and port index: next in its class's FIFO
  std::vector<std::uint16_t> _head;    // per source and class: first free port index, or kNone
  std::vector<std::uint16_t> _tail;    // per source and class: last free port index, or kNone
  std::vector<std::uint64_t> _taken;   // per source: bit per port index
  std::vector<std::uint32_t> _source_free;  // per source: its free ports
  std::vector<std::uint32_t> _cursor;  // per source: where in _owned the next take() starts
  std::size_t _ports = 0;              // last - first + 1
  std::size_t _classes = 0;            // the RETA's size
  std::size_t _words = 0;              // of _taken per source
  std::size_t _free = 0;
  std::uint64_t _ignored = 0;
  std::uint32_t _sources;
  std::uint16_t _core;
  std::uint16_t _first;
  std::uint16_t _last;
};

}  // namespace kbt::tcp
