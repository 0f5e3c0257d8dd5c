#include "ip/arp_io.hh"

#include "wire/ether.hh"
#include "wire/mbuf_bytes.hh"

namespace kbt::ip {

bool build_arp_request(rte_mbuf* m, const local_link& us, wire::ipv4_addr target) noexcept {
  constexpr auto len = static_cast<std::uint16_t>(wire::kEtherHeaderLen + wire::kArpLen);
  if (rte_pktmbuf_append(m, len) == nullptr) return false;
  const auto bytes = wire::mbuf_bytes(m);
  wire::ether_repr eth;
  eth.dst = wire::mac_addr::broadcast();
  eth.src = us.mac;
  eth.ether_type = wire::kEthertypeArp;
  const auto l2 = wire::emit_ether(eth, bytes);
  wire::arp_repr arp;
  arp.op = wire::arp_op::request;
  arp.sender_mac = us.mac;
  arp.sender_ip = us.ip;
  arp.target_ip = target;  // target MAC stays zero: it is what we ask for
  return l2 && wire::emit_arp(arp, bytes.subspan(*l2));
}

void arp_request_to_reply(rte_mbuf* m, std::size_t l2_len, const wire::arp_repr& req,
                          const local_link& us) noexcept {
  const auto bytes = wire::mbuf_bytes(m);
  wire::store_mac(bytes.data() + wire::ether_field::kDst, req.sender_mac);
  wire::store_mac(bytes.data() + wire::ether_field::kSrc, us.mac);
  wire::arp_repr reply;
  reply.op = wire::arp_op::reply;
  reply.sender_mac = us.mac;
  reply.sender_ip = us.ip;
  reply.target_mac = req.sender_mac;
  reply.target_ip = req.sender_ip;
  // The request parsed, so the ARP body is there and has room for the reply.
  (void)wire::emit_arp(reply, bytes.subspan(l2_len));
}

}  // namespace kbt::ip
