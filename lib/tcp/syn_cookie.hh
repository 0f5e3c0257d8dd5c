#pragma once
// SYN cookies (RFC 4987 §3.6): a listener under a SYN flood answers a SYN
// with a SYN-ACK whose ISS encodes what it would otherwise have kept in a
// SYN queue entry, and keeps nothing. The ACK that completes the handshake
// acknowledges ISS + 1, so the cookie comes back and is checked there.
//
// Cookie layout (the 32-bit ISS), as FreeBSD's syncookie_generate() does it
// (keyed hash plus an MSS index) rather than Linux's (clear counter bits):
//
//   31                                         3 2     0
//  +--------------------------------------------+-------+
//  |        H >> 3  (29 bits of SipHash)        |mss_idx|
//  +--------------------------------------------+-------+
//
//   H       = low 32 bits of SipHash-2-4 under the jar's key over 24 bytes
//             local_ip (4) | remote_ip (4) | local_port (2) | remote_port (2) |
//             peer_isn (4) | counter (4) | mss_idx (4), network byte order.
//   counter = now / kPeriodNs (truncated to 32 bits).
//   mss_idx = index into kMssTable of the MSS we will use.
//
// Why so:
// - The MSS index travels in the clear (the receiver of the ACK must read it
//   before it can check anything) but is hashed too, so a peer cannot raise
//   its MSS by editing the low bits: any change of them breaks the hash.
// - The 29 hash bits bind the cookie to the 4-tuple, to the peer's ISN (so an
//   ACK must carry SEG.SEQ = peer ISN + 1, RFC 4987 §3.6) and to the time
//   counter. A blind attacker forging the final ACK guesses 29 bits (plus the
//   index, which it can choose): one chance in 2^29 per try.
// - The counter is not in the cookie; check() tries the current counter and
//   the one before (two hashes worst case). So a cookie made during period c
//   is accepted while now / kPeriodNs is c or c + 1: between 64 s (made at
//   the end of a period) and 128 s (made at its start) after it was sent,
//   which covers SYN-ACK retransmissions and an ACK lost on the way, and
//   nothing older. A counter "from the future" (check earlier than make) is
//   never accepted.
// - Eight MSS values take 3 bits, Linux's table (msstab[] in
//   net/ipv4/syncookies.c) plus 1200 (common behind tunnels) and a jumbo
//   9000 - 40. A peer offering less than 536 gets 536, the RFC 9293 §3.7.1
//   default every host must accept; a peer offering none is also at 536.
//
// A cookie has no room for window scale or SACK-permitted. When the peer
// sends timestamps (RFC 7323 §3), we put them in the low 6 bits of our
// SYN-ACK's TSval, as Linux does (cookie_init_timestamp()); the peer echoes
// them in the ACK's TSecr. Without timestamps the connection goes on without
// window scaling and SACK, which RFC 4987 §3.6 names as the cost of cookies.
//
// The key is the jar's own (random_siphash_key() at start-up), not the ISN
// generator's, so one leaked value says nothing about the other.
#include <array>
#include <cstdint>
#include <optional>

#include "tcp/config.hh"
#include "tcp/isn.hh"
#include "tcp/tuple.hh"
#include "wire/seq32.hh"

namespace kbt::tcp {

// What a cookie (and the timestamp low bits) carries about the peer's SYN.
struct syn_cookie_options {
  std::uint16_t mss = 536;             // from the MSS table
  std::optional<std::uint8_t> wscale;  // peer's window scale, only when TS echoed
  bool sack_permitted = false;         // only when TS echoed
};

// What a valid cookie ACK gives back of the handshake it completes.
struct cookie_grant {
  std::uint16_t mss = 536;      // the peer's, from the cookie's table
  bool ts_ok = false;           // timestamps on both sides
  bool ws_ok = false;           // window scaling on both sides (needs ts_ok)
  bool sack_ok = false;         // SACK on both sides (needs ts_ok)
  std::uint8_t snd_wscale = 0;  // the peer's shift, when ws_ok
};

class syn_cookie_jar {
 public:
  static constexpr std::uint64_t kPeriodNs = 64 * kSec;  // counter ticks every 64 s
  static constexpr std::array<std::uint16_t, 8> kMssTable = {536,  1200, 1300, 1400,
                                                             1440, 1452, 1460, 8960};
  // Low bits of the cookie that carry the MSS index.
  static constexpr std::uint32_t kMssIndexMask = 7;
  // Low bits of a TSval that carry the options (encode_ts()/decode_ts()).
  static constexpr std::uint32_t kTsOptionBits = 6;
  static constexpr std::uint32_t kTsOptionMask = (1U << kTsOptionBits) - 1;
  static constexpr std::uint32_t kTsNoWscale = 0xf;  // bits 0-3 when the peer sent none
  static constexpr std::uint32_t kTsSackBit = 1U << 4;
  static constexpr std::uint32_t kTsReservedBit = 1U << 5;  // always 0 in our encoding
  // RFC 7323 §2.3: a shift above 14 is used as 14.
  static constexpr std::uint8_t kMaxWscale = 14;

  explicit syn_cookie_jar(const siphash_key& key) noexcept : _key(key) {}

  // Our ISS for a SYN from `t` (t is from OUR point of view: local = us) with
  // the peer's ISN `peer_isn` and the MSS it offered (536 when none): the
  // largest table MSS <= peer_mss (index 0 when smaller).
  [[nodiscard]] wire::seq32 make(const four_tuple& t, wire::seq32 peer_isn, std::uint16_t peer_mss,
                                 base::instant now) const noexcept;

  // Validates the ACK completing a cookie handshake: `seg_seq` and `seg_ack`
  // are the ACK segment's seq and ack numbers (so peer_isn = seg_seq - 1 and
  // cookie = seg_ack - 1). Returns the table MSS on success; nullopt when
  // forged/tampered, for another tuple, or older than two periods.
  [[nodiscard]] std::optional<std::uint16_t> check(const four_tuple& t, wire::seq32 seg_seq,
                                                   wire::seq32 seg_ack,
                                                   base::instant now) const noexcept;

  // Linux-style timestamp encoding: the SYN-ACK's TSval carries the peer's
  // window scale and SACK-permitted in its low 6 bits: bits 0-3 wscale (0xf =
  // peer sent no window scale; above 14 is sent as 14, RFC 7323 §2.3), bit 4
  // SACK-permitted, bit 5 zero. Returns a TSval <= ts_now (modulo 2^32: if
  // replacing the low bits would go above ts_now, 64 is subtracted) so the
  // SYN-ACK never runs ahead of our clock: later segments take their TSval
  // from the clock, and RFC 7323 §5.4 wants the values the peer sees to be
  // monotone non-decreasing (its PAWS check, §5.3, would drop a segment
  // whose TSval went back below the SYN-ACK's).
  [[nodiscard]] static std::uint32_t encode_ts(std::uint32_t ts_now,
                                               std::optional<std::uint8_t> wscale,
                                               bool sack_permitted) noexcept;

  // Decodes the echoed TSecr of the final ACK into wscale/sack (mss left at
  // its default; the caller fills it from check()). nullopt if the low bits
  // are not a valid encoding: bit 5 set. Bits 0-3: 0..14 a shift, 15 none.
  [[nodiscard]] static std::optional<syn_cookie_options> decode_ts(std::uint32_t tsecr) noexcept;

  // Index of the largest table MSS <= peer_mss; 0 when peer_mss < 536.
  [[nodiscard]] static std::uint8_t mss_index(std::uint16_t peer_mss) noexcept;

 private:
  // H of the layout above: the low 32 bits of SipHash-2-4.
  std::uint32_t hash(const four_tuple& t, wire::seq32 peer_isn, std::uint32_t counter,
                     std::uint32_t mss_idx) const noexcept;

  siphash_key _key;
};

}  // namespace kbt::tcp
