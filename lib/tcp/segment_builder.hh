#pragma once
// Every TCP segment kbt sends is built here, whatever sends it: a
// connection's data, ACKs, SYNs and FINs, a RST with no connection behind
// it, a cookie SYN-ACK, a TIME_WAIT record's ACK. One header layout, one
// checksum rule (the port's offload when it has a usable one, else in
// software over the whole chain) and one TSval clock.
//
// The network layer is a parameter (Family): the tuple type, the header in
// front of TCP and the pseudo-header the checksum covers. IPv4 is the one
// family today; IPv6 adds its own with the same members.
#include <rte_mbuf.h>

#include <cstdint>
#include <span>

#include "base/clock.hh"
#include "tcp/tuple.hh"
#include "wire/tcp.hh"

namespace kbt::tcp {

// RFC 7323 §5.4: TSval is a 1 ms clock, here the time since boot (so that it
// keeps growing across processes on one host, RFC 6191 §2), plus the
// connection's random offset, so that it leaks no clock. The one place the
// rule is written: connections, cookie SYN-ACKs and TIME_WAIT records use it.
struct ts_clock {
  static constexpr std::uint64_t kNsPerTick = 1'000'000;
  std::uint64_t origin_ns = 0;  // CLOCK_MONOTONIC at the loop clock's zero

  // The loop clock's `now` as time since boot, which TSval and the
  // ISN's clock M count (tcp_layer::set_clock_origin).
  constexpr std::uint64_t since_boot(base::instant now) const noexcept {
    return base::ns_since_start(now) + origin_ns;
  }
  constexpr std::uint32_t tsval(base::instant now, std::uint32_t offset) const noexcept {
    return static_cast<std::uint32_t>(since_boot(now) / kNsPerTick) + offset;
  }
};

// IPv4 under TCP (RFC 791; RFC 9293 §3.1 pseudo-header).
struct ipv4_family {
  using tuple = four_tuple;
  static constexpr std::uint16_t kHeaderLen = 20;
  // A 20-byte header, DF set (RFC 8899 §1: we do not fragment TCP), from
  // tuple.local_ip to tuple.remote_ip; its checksum left to the port when
  // `offload`.
  static void emit_header(const tuple& t, std::uint16_t l4_len, bool offload,
                          std::span<std::byte> out) noexcept;
  static std::uint16_t pseudo_header_sum(const tuple& t, std::uint16_t l4_len) noexcept;
  // The TCP checksum over the chain from `l4_offset` (its field zero).
  static std::uint16_t l4_checksum(const tuple& t, const rte_mbuf* m, std::uint32_t l4_offset,
                                   std::uint16_t l4_len) noexcept;
  static constexpr std::uint64_t kTxOffloadFlags =
      RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM;
};

template <class Family>
class basic_segment_builder {
 public:
  // `cksum_offload`: the port fills the network and TCP checksums (given
  // the pseudo-header sum in the TCP field, as DPDK's offload API asks).
  basic_segment_builder(rte_mempool* pool, bool cksum_offload) noexcept
      : _pool(pool), _offload(cksum_offload) {}

  // A packet from the network header on: `r`'s header and options, then
  // `payload` (an mbuf chain, or nullptr) chained behind without a copy.
  // Takes `payload` in every case; nullptr when out of mbufs (the caller
  // counts it).
  rte_mbuf* build(const typename Family::tuple& t, const wire::tcp_repr& r,
                  rte_mbuf* payload) const noexcept;

  bool offload() const noexcept { return _offload; }

 private:
  rte_mempool* _pool;
  bool _offload;
};

extern template class basic_segment_builder<ipv4_family>;
using segment_builder = basic_segment_builder<ipv4_family>;

}  // namespace kbt::tcp
