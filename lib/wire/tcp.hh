#pragma once
// TCP segment headers (RFC 9293 §3.1). tcp_segment is the checked view;
// tcp_repr is what the TCP layer works with, so it never touches raw bytes.
// Sequence numbers come out as seq32 so they are compared modulo 2^32.
#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/addr.hh"
#include "wire/checksum.hh"
#include "wire/result.hh"
#include "wire/seq32.hh"
#include "wire/tcp_options.hh"

namespace kbt::wire {

inline constexpr std::size_t kTcpMinHeaderLen = 20;
inline constexpr std::size_t kTcpMaxHeaderLen = 60;  // data offset is 4 bits of 32-bit words

// The flag bits of header byte 13 (RFC 9293 §3.1; ECE and CWR from RFC 3168).
namespace tcp_flag {
inline constexpr std::uint8_t kFin = 0x01;
inline constexpr std::uint8_t kSyn = 0x02;
inline constexpr std::uint8_t kRst = 0x04;
inline constexpr std::uint8_t kPsh = 0x08;
inline constexpr std::uint8_t kAck = 0x10;
inline constexpr std::uint8_t kUrg = 0x20;
inline constexpr std::uint8_t kEce = 0x40;
inline constexpr std::uint8_t kCwr = 0x80;
}  // namespace tcp_flag

namespace tcp_field {
inline constexpr std::size_t kSrcPort = 0;
inline constexpr std::size_t kDstPort = 2;
inline constexpr std::size_t kSeq = 4;
inline constexpr std::size_t kAck = 8;
inline constexpr std::size_t kDataOffset = 12;  // high 4 bits; the rest reserved
inline constexpr std::size_t kFlags = 13;
inline constexpr std::size_t kWindow = 14;
inline constexpr std::size_t kChecksum = 16;
inline constexpr std::size_t kUrgent = 18;
inline constexpr std::size_t kOptions = 20;
}  // namespace tcp_field

enum class tcp_error : std::uint8_t {
  // Parse: fewer than 20 bytes. Emit: the output buffer is shorter than
  // the header with its options.
  truncated,
  // Data offset below 5, or the header it describes is longer than the segment.
  bad_data_offset,
  // The checksum over pseudo-header, header and payload does not verify.
  bad_checksum,
  // An option is malformed (see tcp_option_error; parse_tcp_options() says which).
  bad_option,
};

struct tcp_repr {
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  seq32 seq;
  seq32 ack;
  std::uint8_t flags = 0;    // tcp_flag bits
  std::uint16_t window = 0;  // as on the wire: not yet scaled (RFC 7323 §2.3)
  std::uint16_t urgent = 0;
  tcp_options options;
  // Set by parse; emit computes its own from the options and returns it.
  std::uint8_t header_len = kTcpMinHeaderLen;
  std::uint16_t payload_offset = 0;  // from the start of the segment (== header_len)
  std::uint16_t payload_len = 0;

  constexpr bool has(std::uint8_t flag) const noexcept { return (flags & flag) != 0; }
  // Sequence space the segment occupies: payload, plus one each for SYN
  // and FIN (RFC 9293 §3.4 "SEG.LEN").
  constexpr std::uint32_t seg_len() const noexcept {
    return std::uint32_t{payload_len} + (has(tcp_flag::kSyn) ? 1U : 0U) +
           (has(tcp_flag::kFin) ? 1U : 0U);
  }
};

// A checked view: make() checks length and data offset (not checksum or
// options), after which every accessor is safe.
class tcp_segment {
 public:
  static result<tcp_segment, tcp_error> make(std::span<const std::byte> bytes) noexcept;

  std::uint16_t src_port() const noexcept;
  std::uint16_t dst_port() const noexcept;
  seq32 seq() const noexcept;
  seq32 ack() const noexcept;
  std::size_t header_len() const noexcept;
  std::uint8_t flags() const noexcept;
  std::uint16_t window() const noexcept;
  std::uint16_t checksum() const noexcept;
  std::uint16_t urgent() const noexcept;
  std::span<const std::byte> options() const noexcept {
    return _bytes.subspan(kTcpMinHeaderLen, header_len() - kTcpMinHeaderLen);
  }
  std::span<const std::byte> payload() const noexcept { return _bytes.subspan(header_len()); }
  bool checksum_ok(ipv4_addr src, ipv4_addr dst) const noexcept;

 private:
  explicit tcp_segment(std::span<const std::byte> bytes) noexcept : _bytes(bytes) {}
  std::span<const std::byte> _bytes;
};

// `segment` is the IPv4 payload (header + data, no Ethernet padding); src
// and dst are the IPv4 addresses for the pseudo-header. Checks, in order:
// truncated, bad_data_offset, bad_checksum (if `verify_checksum`; false when
// the NIC reported RTE_MBUF_F_RX_L4_CKSUM_GOOD), bad_option.
result<tcp_repr, tcp_error> parse_tcp(std::span<const std::byte> segment, ipv4_addr src,
                                      ipv4_addr dst, bool verify_checksum = true) noexcept;

// The header length emit_tcp() writes for `repr`: 20 + tcp_options_len().
std::size_t tcp_header_len(const tcp_repr& repr) noexcept;

// Writes the header and options (Linux layout, see tcp_options.hh) at the
// start of `out` and returns the header length. `payload` is what follows
// the header on the wire, wherever it lies (another mbuf segment, say); it
// is read only for tx_checksum::full. With tx_checksum::offload the field
// holds the pseudo-header sum for the NIC to finish. Header plus payload
// must fit in an IPv4 packet (65515 bytes).
result<std::size_t, tcp_error> emit_tcp(const tcp_repr& repr, ipv4_addr src, ipv4_addr dst,
                                        std::span<const std::byte> payload, tx_checksum mode,
                                        std::span<std::byte> out) noexcept;

}  // namespace kbt::wire
