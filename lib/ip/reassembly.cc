// rte_ip_frag_table_del_expired_entries is experimental in DPDK 22.11.
#define ALLOW_EXPERIMENTAL_API 1
#include "ip/reassembly.hh"

#include <rte_ip.h>

#include <stdexcept>
#include <string>

namespace kbt::ip {
namespace {

// Associativity of the table's buckets: with max_flows buckets of 8 (and
// rte_ip_frag's two candidate buckets a key), a bucket is full long before
// the table is only when an attacker chooses the keys; max_entries is the bound.
constexpr std::uint32_t kBucketEntries = 8;

}  // namespace

reassembler::reassembler(const reassembly_config& config) {
  if (config.max_flows == 0) return;
  _table = rte_ip_frag_table_create(config.max_flows, kBucketEntries, config.max_flows,
                                    config.timeout_ns, config.socket_id);
  if (_table == nullptr) {
    throw std::runtime_error("cannot create the IPv4 reassembly table for " +
                             std::to_string(config.max_flows) + " datagrams");
  }
}

reassembler::~reassembler() {
  if (_table != nullptr) rte_ip_frag_table_destroy(_table);  // frees what it holds
  free_death_row();
}

std::uint32_t reassembler::free_death_row() noexcept {
  const std::uint32_t n = _death_row.cnt;
  if (n > 0) rte_ip_frag_free_death_row(&_death_row, 0);
  return n;
}

reassembler::result reassembler::add(rte_mbuf* m, std::size_t l2_len, const wire::ipv4_repr& ip,
                                     std::uint64_t now_ns) noexcept {
  // RFC 791 §3.2: at most 65,535 bytes in all. A fragment reaching past it
  // (the ping of death) could never be a datagram.
  if (std::size_t{ip.fragment_offset} + ip.total_length > 0xffff) {
    rte_pktmbuf_free(m);
    return {nullptr, fragment_outcome::too_big, 0};
  }
  // RFC 791 §3.2: every fragment but the last carries a multiple of 8 bytes;
  // an empty one carries nothing to place.
  if (_table == nullptr || ip.payload_len() == 0 ||
      (ip.more_fragments && ip.payload_len() % 8 != 0)) {
    rte_pktmbuf_free(m);
    return {nullptr, fragment_outcome::invalid, 0};
  }
  // Ethernet padding past the datagram would be taken for payload.
  const std::size_t frame_len = l2_len + ip.total_length;
  if (rte_pktmbuf_pkt_len(m) > frame_len) {
    rte_pktmbuf_trim(m, static_cast<std::uint16_t>(rte_pktmbuf_pkt_len(m) - frame_len));
  }
  // Datagrams past their time go first, so that the table never reuses a
  // stale entry while adding: every fragment dropped below is this one's fault.
  const std::uint32_t expired = expire(now_ns);
  m->l2_len = l2_len;
  m->l3_len = ip.header_len;
  auto* hdr = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, l2_len);
  rte_mbuf* whole = rte_ipv4_frag_reassemble_packet(_table, &_death_row, m, now_ns, hdr);
  const std::uint32_t dropped = free_death_row();
  if (whole != nullptr) {
    _held -= whole->nb_segs - 1;
    // rte_ip_frag leaves the checksum of the rebuilt header at zero.
    auto* h = rte_pktmbuf_mtod_offset(whole, rte_ipv4_hdr*, l2_len);
    h->hdr_checksum = 0;
    h->hdr_checksum = rte_ipv4_cksum(h);
    // The fragments' checksum verdicts describe none of the whole.
    whole->ol_flags &= ~(RTE_MBUF_F_RX_IP_CKSUM_MASK | RTE_MBUF_F_RX_L4_CKSUM_MASK);
    return {whole, fragment_outcome::reassembled, 0, expired};
  }
  if (dropped == 0) {
    ++_held;
    return {nullptr, fragment_outcome::held, 0, expired};
  }
  // Only this fragment: there was no entry for its datagram and no room
  // for one. More: its datagram was found inconsistent and freed whole.
  if (dropped == 1) return {nullptr, fragment_outcome::table_full, 0, expired};
  _held -= dropped - 1;
  return {nullptr, fragment_outcome::invalid, dropped - 1, expired};
}

std::uint32_t reassembler::expire(std::uint64_t now_ns) noexcept {
  if (_table == nullptr || _held == 0) return 0;
  // The death row takes a bounded number of datagrams per call: again
  // until nothing more is old enough (each round frees something or ends).
  std::uint32_t total = 0;
  for (;;) {
    rte_ip_frag_table_del_expired_entries(_table, &_death_row, now_ns);
    const std::uint32_t n = free_death_row();
    if (n == 0) break;
    total += n;
  }
  _held -= total;
  return total;
}

}  // namespace kbt::ip
