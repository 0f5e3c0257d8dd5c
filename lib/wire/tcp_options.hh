#pragma once
// TCP options (RFC 9293 §3.1, §3.7.1 MSS; RFC 7323 window scale and
// timestamps; RFC 2018 SACK). Parsing walks the option list once and keeps
// the options the stack uses; unknown kinds are skipped by their length.
// Emitting lays options out the way Linux's tcp_options_write() does, each
// one padded with NOPs to a 32-bit boundary, so captures of kbt and Linux
// traffic look alike and middleboxes see a familiar shape.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "wire/result.hh"
#include "wire/seq32.hh"

namespace kbt::wire {

inline constexpr std::uint8_t kTcpOptEol = 0;
inline constexpr std::uint8_t kTcpOptNop = 1;
inline constexpr std::uint8_t kTcpOptMss = 2;
inline constexpr std::uint8_t kTcpOptWindowScale = 3;
inline constexpr std::uint8_t kTcpOptSackPermitted = 4;
inline constexpr std::uint8_t kTcpOptSack = 5;
inline constexpr std::uint8_t kTcpOptTimestamps = 8;

// Option lengths, kind and length bytes included.
inline constexpr std::uint8_t kTcpOptLenMss = 4;
inline constexpr std::uint8_t kTcpOptLenWindowScale = 3;
inline constexpr std::uint8_t kTcpOptLenSackPermitted = 2;
inline constexpr std::uint8_t kTcpOptLenTimestamps = 10;
inline constexpr std::uint8_t kTcpOptLenSackBase = 2;
inline constexpr std::uint8_t kTcpOptLenSackBlock = 8;

inline constexpr std::size_t kTcpMaxOptionsLen = 40;  // data offset 15 minus the 20-byte header
// 2 + 4 * 8 = 34 bytes; with timestamps only 3 fit (RFC 2018 §3).
inline constexpr std::size_t kTcpMaxSackBlocks = 4;

struct tcp_timestamps {
  std::uint32_t tsval = 0;
  std::uint32_t tsecr = 0;
  constexpr bool operator==(const tcp_timestamps&) const noexcept = default;
};

// One SACK block: the bytes [left, right) have been received (RFC 2018 §3).
struct sack_block {
  seq32 left;
  seq32 right;
  constexpr bool operator==(const sack_block&) const noexcept = default;
};

struct tcp_options {
  std::optional<std::uint16_t> mss;
  // The shift count as received; RFC 7323 §2.3 says to use 14 for anything
  // larger, which is the TCP layer's call, not the parser's.
  std::optional<std::uint8_t> window_scale;
  bool sack_permitted = false;
  std::optional<tcp_timestamps> timestamps;
  std::array<sack_block, kTcpMaxSackBlocks> sack_blocks{};
  std::uint8_t sack_count = 0;  // valid entries in sack_blocks

  std::span<const sack_block> sacks() const noexcept {
    return {sack_blocks.data(), sack_count < kTcpMaxSackBlocks ? sack_count : kTcpMaxSackBlocks};
  }
};

enum class tcp_option_error : std::uint8_t {
  // An option's length byte is missing, or the option runs past the end of
  // the header. Emit: the output buffer is shorter than tcp_options_len().
  runs_past_end,
  // A length byte below 2 (which covers zero): the option cannot contain
  // its own kind and length, and the walk would never advance.
  bad_length,
  // MSS, window scale, SACK-permitted, timestamps or SACK with a length
  // their RFC does not allow (4, 3, 2, 10, 2 + 8n with 1 <= n <= 4).
  wrong_length,
};

// Parses the option bytes of a TCP header (everything after byte 20, up to
// the data offset). Stops at EOL; a later occurrence of an option wins.
result<tcp_options, tcp_option_error> parse_tcp_options(
    std::span<const std::byte> options) noexcept;

// The number of bytes emit_tcp_options() writes: a multiple of 4, at most
// 40. SACK blocks that do not fit beside the other options are left out
// (most recent first is the caller's order, RFC 2018 §4).
std::size_t tcp_options_len(const tcp_options& opts) noexcept;

// Writes the options in Linux's layout:
//   MSS | SACK-perm TS (or NOP NOP TS) | NOP NOP SACK-perm (without TS) |
//   NOP WS | NOP NOP SACK blocks
// and returns tcp_options_len(opts).
result<std::size_t, tcp_option_error> emit_tcp_options(const tcp_options& opts,
                                                       std::span<std::byte> out) noexcept;

}  // namespace kbt::wire
