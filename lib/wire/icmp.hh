#pragma once
// ICMPv4 (RFC 792). The stack answers echo requests and sends nothing else
// of its own, so the repr carries type, code, the second header word as echo
// identifier/sequence, and the data; the checksum covers the whole message.
#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/result.hh"

namespace kbt::wire {

inline constexpr std::uint8_t kIcmpEchoReply = 0;
inline constexpr std::uint8_t kIcmpDestUnreachable = 3;
inline constexpr std::uint8_t kIcmpEchoRequest = 8;
inline constexpr std::uint8_t kIcmpTimeExceeded = 11;

inline constexpr std::size_t kIcmpHeaderLen = 8;

namespace icmp_field {
inline constexpr std::size_t kType = 0;
inline constexpr std::size_t kCode = 1;
inline constexpr std::size_t kChecksum = 2;
inline constexpr std::size_t kEchoId = 4;  // "rest of header" for other types
inline constexpr std::size_t kEchoSeq = 6;
inline constexpr std::size_t kData = 8;
}  // namespace icmp_field

enum class icmp_error : std::uint8_t {
  // Parse: fewer than 8 bytes. Emit: the output buffer cannot hold the message.
  truncated,
  // The checksum over the whole message does not verify.
  bad_checksum,
  // echo_request_to_reply() was given something other than an echo request.
  not_echo_request,
};

struct icmp_repr {
  std::uint8_t type = 0;
  std::uint8_t code = 0;
  std::uint16_t echo_id = 0;        // for echo; the first half of "rest of header" otherwise
  std::uint16_t echo_seq = 0;       // for echo; the second half otherwise
  std::span<const std::byte> data;  // everything after the 8-byte header

  constexpr bool is_echo_request() const noexcept { return type == kIcmpEchoRequest; }
  constexpr std::size_t message_len() const noexcept { return kIcmpHeaderLen + data.size(); }
};

// A checked view over an ICMP message (the whole IPv4 payload).
class icmp_packet {
 public:
  static result<icmp_packet, icmp_error> make(std::span<const std::byte> bytes) noexcept;

  std::uint8_t type() const noexcept;
  std::uint8_t code() const noexcept;
  std::uint16_t checksum() const noexcept;
  std::uint16_t echo_id() const noexcept;
  std::uint16_t echo_seq() const noexcept;
  std::uint32_t rest_of_header() const noexcept;
  std::span<const std::byte> data() const noexcept { return _bytes.subspan(kIcmpHeaderLen); }
  bool checksum_ok() const noexcept;

 private:
  explicit icmp_packet(std::span<const std::byte> bytes) noexcept : _bytes(bytes) {}
  std::span<const std::byte> _bytes;
};

// `message` is the IPv4 payload (ipv4_packet::payload(), padding excluded).
// Checks truncated, then bad_checksum if `verify_checksum`.
result<icmp_repr, icmp_error> parse_icmp(std::span<const std::byte> message,
                                         bool verify_checksum = true) noexcept;

// Writes header and data (copied; it may overlap `out`) with the checksum
// filled in; returns the message length.
result<std::size_t, icmp_error> emit_icmp(const icmp_repr& repr, std::span<std::byte> out) noexcept;

// Turns an echo request into the echo reply IN PLACE (RFC 792: type 8 -> 0,
// identifier, sequence and data unchanged), updating the checksum
// incrementally (RFC 1624) instead of summing the data again. The engine
// answers ping by rewriting the received mbuf.
result<void, icmp_error> echo_request_to_reply(std::span<std::byte> message) noexcept;

}  // namespace kbt::wire
