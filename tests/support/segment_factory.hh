#pragma once
// IPv4 + TCP packets built from a short description, with valid checksums:
// what the peer sends to tcp_layer::input in unit tests, benchmarks and fuzz
// targets. The one place such segments are made.
#include <rte_mbuf.h>

#include <cstdint>
#include <span>
#include <vector>

#include "wire/addr.hh"
#include "wire/ipv4.hh"
#include "wire/tcp.hh"

namespace kbt::support {

struct segment_spec {
  wire::ipv4_addr src;
  wire::ipv4_addr dst;
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::uint8_t flags = wire::tcp_flag::kAck;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint16_t window = 65535;
  std::uint16_t urgent = 0;
  wire::tcp_options options;
  std::span<const std::byte> payload;
  // Option bytes as they go on the wire, in place of `options` when not
  // empty (zeros pad them to a word): how a fuzzer sends malformed ones.
  std::span<const std::uint8_t> raw_options;
};

// The packet's bytes, IPv4 header first (no Ethernet header).
std::vector<std::uint8_t> build_ipv4_tcp(const segment_spec& s);

// What the peer sends, by kind (RFC 9293 §3.1 flags); addresses and ports
// are the caller's (tcp_rig::input fills them in).
segment_spec syn(std::uint32_t seq, const wire::tcp_options& o = {});
segment_spec syn_ack(std::uint32_t seq, std::uint32_t ack, const wire::tcp_options& o = {});
segment_spec ack(std::uint32_t seq, std::uint32_t ack, const wire::tcp_options& o = {});
segment_spec data(std::uint32_t seq, std::uint32_t ack, std::span<const std::byte> payload,
                  const wire::tcp_options& o = {});
segment_spec fin(std::uint32_t seq, std::uint32_t ack, const wire::tcp_options& o = {});
segment_spec rst(std::uint32_t seq);

// A segment built and parsed once, copied into a fresh mbuf each time it is
// fed, as a NIC would hand it over (benchmarks feed the same one many times).
struct prepared_segment {
  std::vector<std::uint8_t> bytes;  // IPv4 header first
  wire::ipv4_repr ip;
  wire::tcp_repr tcp;
};

// Builds `s` and parses it back as the engine does (checksums verified);
// `ok` is false when the parse fails (a malformed raw option).
prepared_segment prepare(const segment_spec& s, bool* ok = nullptr);
// A fresh mbuf from `pool` holding the bytes; nullptr when the pool is
// empty or they do not fit one mbuf.
rte_mbuf* to_mbuf(std::span<const std::uint8_t> bytes, rte_mempool* pool) noexcept;
inline rte_mbuf* to_mbuf(const prepared_segment& p, rte_mempool* pool) noexcept {
  return to_mbuf(std::span(p.bytes), pool);
}

}  // namespace kbt::support
