#pragma once
// IPv4 reassembly (RFC 791 §3.2, RFC 1122 §3.3.2) over DPDK's rte_ip_frag:
// one table per core, no locks. Memory is bounded by the number of datagrams
// being reassembled at once (max_flows, each at most RTE_LIBRTE_IP_FRAG_MAX_FRAG
// fragments) and by the time one may take (timeout, Linux's ipfrag_time).
// Every fragment ends in exactly one outcome, which the caller counts.
#include <rte_ip_frag.h>
#include <rte_mbuf.h>

#include <cstddef>
#include <cstdint>

#include "wire/ipv4.hh"

namespace kbt::ip {

struct reassembly_config {
  // Datagrams in reassembly at once. 0: reassembly off (fragments dropped).
  std::uint32_t max_flows = 256;
  // Linux net.ipv4.ipfrag_time: 30 s from a datagram's first fragment.
  std::uint64_t timeout_ns = 30'000'000'000ULL;
  int socket_id = SOCKET_ID_ANY;
};

enum class fragment_outcome : std::uint8_t {
  reassembled,  // this fragment completed a datagram: returned as one chain
  held,         // kept in the table, waiting for the others
  table_full,   // no room for a new datagram: dropped
  invalid,      // overlapping, too many pieces, sizes that disagree: dropped with its datagram
  too_big,      // offset + length past 65,535 bytes (ping of death): dropped
};

class reassembler {
 public:
  // Throws std::runtime_error when the table cannot be created (start-up only).
  explicit reassembler(const reassembly_config& config);
  ~reassembler();
  reassembler(const reassembler&) = delete;
  reassembler& operator=(const reassembler&) = delete;

  struct result {
    rte_mbuf* datagram = nullptr;  // with `reassembled`: the whole frame, a chain
    fragment_outcome outcome = fragment_outcome::held;
    std::uint32_t others_dropped = 0;  // with `invalid`: fragments held before and freed now
    std::uint32_t expired = 0;  // fragments of other datagrams freed for their age first
  };

  // `m` is a single-segment Ethernet frame whose IPv4 header at `l2_len` was
  // validated and described by `ip`, a fragment (MF or an offset). Takes
  // ownership. A reassembled datagram has its header's checksum recomputed.
  result add(rte_mbuf* m, std::size_t l2_len, const wire::ipv4_repr& ip,
             std::uint64_t now_ns) noexcept;

  // Frees the fragments of datagrams older than the timeout; returns how many.
  std::uint32_t expire(std::uint64_t now_ns) noexcept;

  // Fragments held now (a gauge, for tests and the stats line).
  std::uint64_t fragments_held() const noexcept { return _held; }

 private:
  std::uint32_t free_death_row() noexcept;

  rte_ip_frag_tbl* _table = nullptr;
  rte_ip_frag_death_row _death_row{};
  std::uint64_t _held = 0;
};

}  // namespace kbt::ip
