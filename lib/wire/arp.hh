#pragma once
// ARP (RFC 826) for Ethernet and IPv4 only: the one combination the stack
// resolves. Anything else is rejected with its own error so it can be
// counted apart from damaged packets.
#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/addr.hh"
#include "wire/result.hh"

namespace kbt::wire {

inline constexpr std::size_t kArpLen = 28;  // Ethernet/IPv4: 8 + 2 * (6 + 4)

inline constexpr std::uint16_t kArpHtypeEthernet = 1;
inline constexpr std::uint16_t kArpPtypeIpv4 = 0x0800;
inline constexpr std::uint8_t kArpHlenEthernet = 6;
inline constexpr std::uint8_t kArpPlenIpv4 = 4;

namespace arp_field {
inline constexpr std::size_t kHtype = 0;
inline constexpr std::size_t kPtype = 2;
inline constexpr std::size_t kHlen = 4;
inline constexpr std::size_t kPlen = 5;
inline constexpr std::size_t kOper = 6;
inline constexpr std::size_t kSha = 8;
inline constexpr std::size_t kSpa = 14;
inline constexpr std::size_t kTha = 18;
inline constexpr std::size_t kTpa = 24;
}  // namespace arp_field

enum class arp_op : std::uint16_t {
  request = 1,
  reply = 2,
};

enum class arp_error : std::uint8_t {
  // Parse: fewer than 28 bytes. Emit: the output buffer is shorter than 28.
  truncated,
  // Hardware type is not Ethernet (1) or hardware length is not 6.
  bad_hardware,
  // Protocol type is not IPv4 (0x0800) or protocol length is not 4.
  bad_protocol,
  // Operation is neither request (1) nor reply (2), e.g. RARP (3, 4).
  bad_operation,
};

struct arp_repr {
  arp_op op = arp_op::request;
  mac_addr sender_mac;
  ipv4_addr sender_ip;
  mac_addr target_mac;  // zero in a request (RFC 826 leaves it unspecified)
  ipv4_addr target_ip;
};

// A checked view over an ARP packet of at least kArpLen bytes. The accessors
// read the fields as they are; parse_arp() also checks them.
class arp_packet {
 public:
  static result<arp_packet, arp_error> make(std::span<const std::byte> bytes) noexcept;

  std::uint16_t htype() const noexcept;
  std::uint16_t ptype() const noexcept;
  std::uint8_t hlen() const noexcept;
  std::uint8_t plen() const noexcept;
  std::uint16_t oper() const noexcept;
  mac_addr sender_mac() const noexcept;
  ipv4_addr sender_ip() const noexcept;
  mac_addr target_mac() const noexcept;
  ipv4_addr target_ip() const noexcept;

 private:
  explicit arp_packet(std::span<const std::byte> bytes) noexcept : _bytes(bytes) {}
  std::span<const std::byte> _bytes;
};

// Checks, in order: truncated, bad_hardware, bad_protocol, bad_operation.
// Bytes past the 28 (Ethernet minimum-frame padding) are ignored.
result<arp_repr, arp_error> parse_arp(std::span<const std::byte> packet) noexcept;

// Writes the 28-byte packet at the start of `out`; returns kArpLen.
result<std::size_t, arp_error> emit_arp(const arp_repr& repr, std::span<std::byte> out) noexcept;

}  // namespace kbt::wire
