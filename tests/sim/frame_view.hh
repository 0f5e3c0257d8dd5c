#pragma once
// The TCP header of an Ethernet/IPv4 frame, for tests that watch or filter
// what crosses the simulated wire.
#include <rte_mbuf.h>

#include <optional>

#include "wire/ether.hh"
#include "wire/ipv4.hh"
#include "wire/mbuf_bytes.hh"
#include "wire/tcp.hh"

namespace kbt::sim {

inline std::optional<wire::tcp_repr> tcp_of(const rte_mbuf* m) {
  const auto frame = wire::mbuf_bytes(m);
  if (frame.size() < wire::kEtherHeaderLen) return std::nullopt;
  const auto ip = wire::parse_ipv4_header(frame.subspan(wire::kEtherHeaderLen), false);
  if (!ip || ip->protocol != wire::kIpProtoTcp) return std::nullopt;
  const auto t = wire::parse_tcp(
      frame.subspan(wire::kEtherHeaderLen + ip->header_len, ip->payload_len()), ip->src,
      ip->dst, false);
  if (!t) return std::nullopt;
  return *t;
}

}  // namespace kbt::sim
