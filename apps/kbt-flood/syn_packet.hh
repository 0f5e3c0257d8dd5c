#pragma once
// The SYNs kbt-flood sends: an IPv4 header and a TCP SYN with the options a
// Linux client offers (MSS, SACK-permitted, timestamps, window scale), so a
// target's SYN-cookie path sees what real clients send (RFC 4987 §3.6:
// cookies must then carry the window scale and SACK in the timestamp).
#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/addr.hh"

namespace kbt::flood {

struct syn_spec {
  wire::ipv4_addr src;
  wire::ipv4_addr dst;
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::uint32_t seq = 0;
  std::uint32_t tsval = 0;
  std::uint16_t ip_id = 0;
};

// IPv4 header (20) + TCP header with options (40).
inline constexpr std::size_t kSynPacketLen = 60;

// Writes the SYN, checksums included, at the start of `out` (at least
// kSynPacketLen bytes) and returns its length, or 0 when `out` is short.
std::size_t write_syn(const syn_spec& s, std::span<std::byte> out) noexcept;

// The spoofed source addresses: every address of a prefix but the ones the
// flood must not use as a source (its own and the target's), drawn from a
// 64-bit random value. A /32 gives that one address.
class source_range {
 public:
  source_range(wire::ipv4_prefix p, wire::ipv4_addr avoid_a, wire::ipv4_addr avoid_b) noexcept
      : _base(p.addr.value & p.mask()), _host_mask(~p.mask()), _avoid_a(avoid_a), _avoid_b(avoid_b) {}

  wire::ipv4_addr pick(std::uint64_t random) const noexcept {
    wire::ipv4_addr a{_base | (static_cast<std::uint32_t>(random) & _host_mask)};
    // Stepping past an address to avoid keeps the draw a single step; the
    // two neighbours get twice the share, which a flood does not mind.
    if (a == _avoid_a || a == _avoid_b) a.value = _base | ((a.value + 1) & _host_mask);
    if (a == _avoid_a || a == _avoid_b) a.value = _base | ((a.value + 1) & _host_mask);
    return a;
  }
  std::uint64_t size() const noexcept { return std::uint64_t{_host_mask} + 1; }

 private:
  std::uint32_t _base;
  std::uint32_t _host_mask;
  wire::ipv4_addr _avoid_a;
  wire::ipv4_addr _avoid_b;
};

// xorshift64* (Vigna 2016): a few cycles per draw, enough for source
// addresses, ports and sequence numbers that only need to look unrelated.
class fast_random {
 public:
  explicit fast_random(std::uint64_t seed) noexcept : _s(seed != 0 ? seed : 0x9e3779b97f4a7c15ULL) {}
  std::uint64_t next() noexcept {
    _s ^= _s >> 12;
    _s ^= _s << 25;
    _s ^= _s >> 27;
    return _s * 0x2545f4914f6cdd1dULL;
  }

 private:
  std::uint64_t _s;
};

}  // namespace kbt::flood
