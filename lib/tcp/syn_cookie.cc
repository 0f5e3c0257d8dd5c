#include "tcp/syn_cookie.hh"

#include <sodium/crypto_shorthash_siphash24.h>

#include "wire/endian.hh"

namespace kbt::tcp {

using wire::seq32;

namespace {

// The time counter of the layout: 64-second periods since the engine's clock
// started. Truncation to 32 bits wraps after ~8700 years.
std::uint32_t counter_at(base::instant now) noexcept {
  return static_cast<std::uint32_t>(base::ns_since_start(now) / syn_cookie_jar::kPeriodNs);
}

}  // namespace

std::uint32_t syn_cookie_jar::hash(const four_tuple& t, seq32 peer_isn, std::uint32_t counter,
                                   std::uint32_t mss_idx) const noexcept {
  std::byte in[24];
  wire::store_be<std::uint32_t>(in, t.local_ip.value);
  wire::store_be<std::uint32_t>(in + 4, t.remote_ip.value);
  wire::store_be<std::uint16_t>(in + 8, t.local_port);
  wire::store_be<std::uint16_t>(in + 10, t.remote_port);
  wire::store_be<std::uint32_t>(in + 12, peer_isn.value);
  wire::store_be<std::uint32_t>(in + 16, counter);
  wire::store_be<std::uint32_t>(in + 20, mss_idx);
  unsigned char out[crypto_shorthash_siphash24_BYTES];
  // Cannot fail: libsodium's SipHash returns 0 unconditionally.
  crypto_shorthash_siphash24(out, reinterpret_cast<const unsigned char*>(in), sizeof(in), _key.data());
  // SipHash's output is a little-endian 64-bit word; its low 32 bits are
  // the first four bytes.
  return std::uint32_t{out[0]} | (std::uint32_t{out[1]} << 8) | (std::uint32_t{out[2]} << 16) |
         (std::uint32_t{out[3]} << 24);
}

std::uint8_t syn_cookie_jar::mss_index(std::uint16_t peer_mss) noexcept {
  // Largest entry <= peer_mss: the table is sorted, so scan from the top.
  for (std::uint8_t i = kMssTable.size() - 1; i > 0; --i) {
    if (kMssTable[i] <= peer_mss) return i;
  }
  return 0;
}

seq32 syn_cookie_jar::make(const four_tuple& t, seq32 peer_isn, std::uint16_t peer_mss,
                           base::instant now) const noexcept {
  const std::uint32_t idx = mss_index(peer_mss);
  const std::uint32_t h = hash(t, peer_isn, counter_at(now), idx);
  return seq32{(h & ~kMssIndexMask) | idx};
}

std::optional<std::uint16_t> syn_cookie_jar::check(const four_tuple& t, seq32 seg_seq,
                                                   seq32 seg_ack,
                                                   base::instant now) const noexcept {
  // RFC 4987 §3.6: the ACK acknowledges ISS + 1 and, carrying no data
  // before it, sits at the peer's ISN + 1.
  const seq32 peer_isn = seg_seq - 1;
  const std::uint32_t cookie = (seg_ack - 1).value;
  const std::uint32_t idx = cookie & kMssIndexMask;
  const std::uint32_t want = cookie & ~kMssIndexMask;
  const std::uint32_t counter = counter_at(now);
  // The current period first: a handshake normally completes within one RTT.
  if ((hash(t, peer_isn, counter, idx) & ~kMssIndexMask) == want) return kMssTable[idx];
  // The previous period, unless the clock has not run one yet (counter - 1
  // would wrap to a period ~8700 years ahead).
  if (counter > 0 && (hash(t, peer_isn, counter - 1, idx) & ~kMssIndexMask) == want) {
    return kMssTable[idx];
  }
  return std::nullopt;
}

std::uint32_t syn_cookie_jar::encode_ts(std::uint32_t ts_now, std::optional<std::uint8_t> wscale,
                                        bool sack_permitted) noexcept {
  std::uint32_t bits = kTsNoWscale;
  if (wscale) bits = *wscale > kMaxWscale ? kMaxWscale : *wscale;
  if (sack_permitted) bits |= kTsSackBit;
  std::uint32_t ts = (ts_now & ~kTsOptionMask) | bits;
  // Never ahead of the clock: step back one 64-unit block instead. Modulo
  // 2^32 like every TSval (PAWS compares them so, RFC 7323 §5.3), so it
  // wraps near 0 too.
  if (bits > (ts_now & kTsOptionMask)) ts -= kTsOptionMask + 1;
  return ts;
}

std::optional<syn_cookie_options> syn_cookie_jar::decode_ts(std::uint32_t tsecr) noexcept {
  const std::uint32_t bits = tsecr & kTsOptionMask;
  if ((bits & kTsReservedBit) != 0) return std::nullopt;  // never set by encode_ts()
  syn_cookie_options o;
  const std::uint32_t ws = bits & kTsNoWscale;
  if (ws != kTsNoWscale) o.wscale = static_cast<std::uint8_t>(ws);
  o.sack_permitted = (bits & kTsSackBit) != 0;
  return o;
}

}  // namespace kbt::tcp
