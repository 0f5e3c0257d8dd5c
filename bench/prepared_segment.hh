#pragma once
// A segment built and parsed once, copied into a fresh mbuf per iteration as
// a NIC would hand it over: what the TCP benchmarks feed to tcp_layer.
#include <rte_mbuf.h>

#include <cstring>
#include <vector>

#include "eal_env.hh"
#include "segment_factory.hh"
#include "wire/ipv4.hh"
#include "wire/tcp.hh"

namespace kbt::bench {

struct prepared_segment {
  std::vector<std::uint8_t> bytes;  // IPv4 header first
  wire::ipv4_repr ip;
  wire::tcp_repr tcp;
};

inline prepared_segment prepare(const support::segment_spec& s) {
  prepared_segment p;
  p.bytes = support::build_ipv4_tcp(s);
  const auto span = std::as_bytes(std::span(p.bytes));
  p.ip = *wire::parse_ipv4_header(span);
  p.tcp = *wire::parse_tcp(span.subspan(20), p.ip.src, p.ip.dst);
  return p;
}

inline rte_mbuf* to_mbuf(const prepared_segment& p) {
  rte_mbuf* m = rte_pktmbuf_alloc(mbuf_pool());
  std::memcpy(rte_pktmbuf_append(m, static_cast<std::uint16_t>(p.bytes.size())), p.bytes.data(),
              p.bytes.size());
  return m;
}

}  // namespace kbt::bench
