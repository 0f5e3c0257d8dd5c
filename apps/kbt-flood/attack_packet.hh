#pragma once
// The packets of kbt-flood's other attack kinds (--kind), beside the SYNs of
// syn_packet.hh: bare TCP segments with the flags a resilience test throws
// at a listener (ACK, RST, FIN, SYN-ACK, PSH-ACK with data, none belonging
// to a connection), and first fragments of UDP datagrams that never
// complete, which hold a reassembly slot on the target until its timeout.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "wire/addr.hh"

namespace kbt::flood {

enum class attack_kind : std::uint8_t { syn, ack, rst, fin, syn_ack, psh_ack, frag };

// "syn", "ack", "rst", "fin", "syn-ack", "psh-ack", "frag"; nullopt otherwise.
std::optional<attack_kind> parse_attack_kind(std::string_view name) noexcept;
std::string_view to_string(attack_kind k) noexcept;

struct attack_spec {
  wire::ipv4_addr src;
  wire::ipv4_addr dst;
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint32_t tsval = 0;
  std::uint16_t ip_id = 0;
  std::uint16_t payload_len = 0;   // data after the header (for frag: rounded up to 8)
  std::uint64_t payload_seed = 0;  // the payload's bytes are drawn from it
};

// The largest payload --payload-max allows: every packet fits one mbuf and
// a 1,500-byte MTU (20 + 20 + 1,400 with room for options).
inline constexpr std::uint16_t kMaxAttackPayload = 1400;
inline constexpr std::size_t kMaxAttackPacketLen = 60 + kMaxAttackPayload;

// Writes the packet of `kind` (an IPv4 header and what follows, checksums
// included) at the start of `out` and returns its length, or 0 when `out`
// is short or the payload is over kMaxAttackPayload.
std::size_t write_attack(attack_kind kind, const attack_spec& s, std::span<std::byte> out) noexcept;

}  // namespace kbt::flood
