#pragma once
// IPv4 headers (RFC 791 §3.1). Parsing checks what a receiver must before
// trusting any field (RFC 1122 §3.2.1) and reports the first failure; the
// emitter writes the 20-byte header the stack sends (it never sends options).
#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/addr.hh"
#include "wire/checksum.hh"
#include "wire/result.hh"

namespace kbt::wire {

inline constexpr std::uint8_t kIpProtoIcmp = 1;
inline constexpr std::uint8_t kIpProtoTcp = 6;
inline constexpr std::uint8_t kIpProtoUdp = 17;

inline constexpr std::size_t kIpv4MinHeaderLen = 20;
inline constexpr std::size_t kIpv4MaxHeaderLen = 60;
inline constexpr std::uint8_t kIpv4DefaultTtl = 64;  // RFC 1700 / Linux default

namespace ipv4_field {
inline constexpr std::size_t kVersionIhl = 0;
inline constexpr std::size_t kTos = 1;
inline constexpr std::size_t kTotalLength = 2;
inline constexpr std::size_t kId = 4;
inline constexpr std::size_t kFlagsFragment = 6;  // 3 flag bits, 13-bit offset
inline constexpr std::size_t kTtl = 8;
inline constexpr std::size_t kProtocol = 9;
inline constexpr std::size_t kChecksum = 10;
inline constexpr std::size_t kSrc = 12;
inline constexpr std::size_t kDst = 16;
}  // namespace ipv4_field

inline constexpr std::uint16_t kIpv4FlagDf = 0x4000;
inline constexpr std::uint16_t kIpv4FlagMf = 0x2000;
inline constexpr std::uint16_t kIpv4FragmentMask = 0x1fff;  // in 8-byte units

enum class ipv4_error : std::uint8_t {
  // Parse: fewer than 20 bytes. Emit: the output buffer is shorter than 20.
  truncated,
  // The version field is not 4.
  bad_version,
  // IHL below 5, or the header it describes is longer than the buffer.
  bad_header_length,
  // Total length below the header length or beyond the buffer (on emit:
  // below 20). A buffer longer than the total length is fine: Ethernet pads
  // short frames to 60 bytes.
  bad_total_length,
  // The header checksum does not verify.
  bad_checksum,
};

struct ipv4_repr {
  ipv4_addr src;
  ipv4_addr dst;
  std::uint8_t protocol = 0;
  std::uint8_t ttl = kIpv4DefaultTtl;
  std::uint8_t tos = 0;  // DSCP and ECN, as one byte
  std::uint16_t id = 0;
  std::uint16_t total_length = 0;               // header + payload
  std::uint8_t header_len = kIpv4MinHeaderLen;  // IHL * 4; emit writes 20
  bool dont_fragment = false;
  bool more_fragments = false;
  std::uint16_t fragment_offset = 0;  // in bytes (the field times 8)

  constexpr bool has_options() const noexcept { return header_len > kIpv4MinHeaderLen; }
  constexpr bool is_fragment() const noexcept { return more_fragments || fragment_offset != 0; }
  constexpr std::uint16_t payload_len() const noexcept {
    return static_cast<std::uint16_t>(total_length - header_len);
  }
};

// A checked view: make() checks length, version, IHL and total length (not
// the checksum), after which every accessor is safe.
class ipv4_packet {
 public:
  static result<ipv4_packet, ipv4_error> make(std::span<const std::byte> bytes) noexcept;

  std::uint8_t version() const noexcept;
  std::size_t header_len() const noexcept;
  std::uint8_t tos() const noexcept;
  std::uint16_t total_length() const noexcept;
  std::uint16_t id() const noexcept;
  std::uint16_t flags_fragment() const noexcept;  // raw: flags and offset
  std::uint8_t ttl() const noexcept;
  std::uint8_t protocol() const noexcept;
  std::uint16_t checksum() const noexcept;
  ipv4_addr src() const noexcept;
  ipv4_addr dst() const noexcept;
  bool checksum_ok() const noexcept;
  std::span<const std::byte> header() const noexcept { return _bytes.first(header_len()); }
  std::span<const std::byte> options() const noexcept {
    return header().subspan(kIpv4MinHeaderLen);
  }
  // The payload up to total_length, without Ethernet padding.
  std::span<const std::byte> payload() const noexcept {
    return _bytes.subspan(header_len(), total_length() - header_len());
  }

 private:
  explicit ipv4_packet(std::span<const std::byte> bytes) noexcept : _bytes(bytes) {}
  std::span<const std::byte> _bytes;
};

// Checks, in order: truncated, bad_version, bad_header_length,
// bad_total_length, then bad_checksum if `verify_checksum` (false when the
// NIC has already checked it: RTE_MBUF_F_RX_IP_CKSUM_GOOD).
result<ipv4_repr, ipv4_error> parse_ipv4_header(std::span<const std::byte> packet,
                                                bool verify_checksum = true) noexcept;

// Writes a 20-byte header (no options) at the start of `out` and returns 20.
// The checksum is filled in (tx_checksum::full) or left zero for the NIC
// (tx_checksum::offload). repr.header_len is ignored.
result<std::size_t, ipv4_error> emit_ipv4_header(const ipv4_repr& repr, tx_checksum mode,
                                                 std::span<std::byte> out) noexcept;

}  // namespace kbt::wire
