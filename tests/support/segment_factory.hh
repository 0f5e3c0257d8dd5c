#pragma once
// IPv4 + TCP packets built from a short description, with valid checksums:
// what unit tests, benchmarks and fuzz seeds feed to tcp_layer::input.
#include <cstdint>
#include <span>
#include <vector>

#include "wire/addr.hh"
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
};

// The packet's bytes, IPv4 header first (no Ethernet header).
std::vector<std::uint8_t> build_ipv4_tcp(const segment_spec& s);

}  // namespace kbt::support
