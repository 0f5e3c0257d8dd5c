// The rig's own check (wire_check.hh): a TAP-style offload of a chain with
// an odd piece before the last is wrong and the check says so; the same
// chain through a NIC-style offload, or a chain of even pieces, is right.
#include "wire_check.hh"

#include <gtest/gtest.h>
#include <rte_mbuf.h>

#include <initializer_list>
#include <vector>

#include "sim_env.hh"
#include "sim_hosts.hh"
#include "wire/checksum.hh"
#include "wire/endian.hh"
#include "wire/ether.hh"
#include "wire/ipv4.hh"
#include "wire/tcp.hh"

namespace kbt::sim {
namespace {

// Ethernet + IPv4 + 20-byte TCP header in one mbuf, then one mbuf per
// payload piece, marked for IPv4 and TCP checksum offload as the stack
// marks its segments.
rte_mbuf* offloaded_segment(std::initializer_list<std::uint16_t> pieces) {
  rte_mempool* pool = shared_pool();
  rte_mbuf* h = rte_pktmbuf_alloc(pool);
  std::uint16_t payload = 0;
  for (auto p : pieces) payload = static_cast<std::uint16_t>(payload + p);
  constexpr std::uint16_t kHeaders = wire::kEtherHeaderLen + 20 + 20;
  auto* out = reinterpret_cast<std::byte*>(rte_pktmbuf_append(h, kHeaders));
  if (out == nullptr) return h;  // the checksum check then fails the test
  wire::ether_repr e{.dst = kMacB, .src = kMacA, .ether_type = wire::kEthertypeIpv4};
  (void)wire::emit_ether(e, {out, wire::kEtherHeaderLen});
  wire::ipv4_repr ip;
  ip.src = kIpA;
  ip.dst = kIpB;
  ip.protocol = wire::kIpProtoTcp;
  ip.total_length = static_cast<std::uint16_t>(40 + payload);
  (void)wire::emit_ipv4_header(ip, wire::tx_checksum::offload,
                               {out + wire::kEtherHeaderLen, 20});
  wire::tcp_repr t;
  t.src_port = 1234;
  t.dst_port = 80;
  t.flags = wire::tcp_flag::kAck;
  t.window = 100;
  (void)wire::emit_tcp(t, ip.src, ip.dst, {}, wire::tx_checksum::offload,
                       {out + wire::kEtherHeaderLen + 20, 20});
  // As the stack does once the payload hangs off the header: the pseudo-
  // header sum over the whole L4 length, for the NIC to finish.
  wire::store_be<std::uint16_t>(
      out + wire::kEtherHeaderLen + 20 + wire::tcp_field::kChecksum,
      wire::ipv4_pseudo_header_sum(ip.src, ip.dst, wire::kIpProtoTcp,
                                   static_cast<std::uint16_t>(20 + payload)));
  h->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM;
  h->l2_len = wire::kEtherHeaderLen;
  h->l3_len = 20;
  h->l4_len = 20;
  std::uint8_t next = 1;
  for (auto p : pieces) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    auto* d = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, p));
    if (d == nullptr) break;
    for (std::uint16_t i = 0; i < p; ++i) d[i] = next++;
    EXPECT_EQ(rte_pktmbuf_chain(h, m), 0);
  }
  return h;
}

std::string fault_after(std::initializer_list<std::uint16_t> pieces, tx_offload o) {
  rte_mbuf* m = offloaded_segment(pieces);
  perform_tx_offload(m, o);
  rte_mbuf* flat = rte_pktmbuf_copy(m, shared_pool(), 0, UINT32_MAX);
  rte_pktmbuf_free(m);
  const std::string fault = checksum_fault(flat);
  rte_pktmbuf_free(flat);
  return fault;
}

TEST(WireCheck, TapOffloadOfAnOddPieceBeforeTheLastIsCaughtAsBadChecksum) {
  EXPECT_NE(fault_after({3, 100}, tx_offload::tap_22_11), "");
  EXPECT_NE(fault_after({201, 201, 201}, tx_offload::tap_22_11), "");
}

TEST(WireCheck, TapOffloadOfEvenPiecesOrAnOddLastPieceIsRight) {
  EXPECT_EQ(fault_after({100, 3}, tx_offload::tap_22_11), "");
  EXPECT_EQ(fault_after({1448}, tx_offload::tap_22_11), "");
}

TEST(WireCheck, NicOffloadIsRightWhereverTheChainSplits) {
  for (auto pieces : {std::initializer_list<std::uint16_t>{3, 100},
                      std::initializer_list<std::uint16_t>{201, 201, 201},
                      std::initializer_list<std::uint16_t>{1, 1, 1, 1, 1},
                      std::initializer_list<std::uint16_t>{1448}}) {
    EXPECT_EQ(fault_after(pieces, tx_offload::nic), "");
  }
}

TEST(WireCheck, AnOffloadLeftUndoneIsABadChecksum) {
  // The stack asked for an offload the port does not do: neither sum is filled.
  EXPECT_NE(fault_after({3, 100}, tx_offload::none), "");
}

}  // namespace
}  // namespace kbt::sim
