#pragma once
// Link and network addresses as plain values. An ipv4_addr holds the address
// in host byte order so that prefix masks and comparisons read naturally;
// the wire views convert at the packet boundary.
#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kbt::wire {

struct mac_addr {
  std::array<std::uint8_t, 6> bytes{};

  static constexpr mac_addr broadcast() noexcept { return {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}; }
  constexpr bool is_broadcast() const noexcept { return *this == broadcast(); }
  constexpr bool is_multicast() const noexcept { return (bytes[0] & 0x01) != 0; }
  constexpr bool is_zero() const noexcept { return *this == mac_addr{}; }
  constexpr auto operator<=>(const mac_addr&) const noexcept = default;
};

struct ipv4_addr {
  std::uint32_t value = 0;  // host byte order

  static constexpr ipv4_addr from_octets(std::uint8_t a, std::uint8_t b, std::uint8_t c,
                                         std::uint8_t d) noexcept {
    return {(std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) | (std::uint32_t{c} << 8) |
            std::uint32_t{d}};
  }
  constexpr bool is_zero() const noexcept { return value == 0; }
  constexpr bool is_broadcast() const noexcept { return value == 0xffffffffU; }
  constexpr bool is_multicast() const noexcept { return (value >> 28) == 0xe; }
  constexpr auto operator<=>(const ipv4_addr&) const noexcept = default;
};

// An address with its prefix length, e.g. 198.18.0.2/24.
struct ipv4_prefix {
  ipv4_addr addr;
  std::uint8_t length = 32;

  constexpr std::uint32_t mask() const noexcept {
    return length == 0 ? 0 : ~std::uint32_t{0} << (32 - length);
  }
  constexpr bool contains(ipv4_addr a) const noexcept {
    return (a.value & mask()) == (addr.value & mask());
  }
  constexpr ipv4_addr subnet_broadcast() const noexcept { return {addr.value | ~mask()}; }
};

// A run of consecutive addresses, e.g. 198.18.0.10-198.18.0.13: the source
// addresses a load generator opens connections from. count 0 is empty.
// contains() is one subtraction and one compare (unsigned wrap-around makes
// an address below `first` huge), cheap enough to ask per packet.
struct ipv4_range {
  ipv4_addr first;
  std::uint32_t count = 0;

  constexpr bool empty() const noexcept { return count == 0; }
  constexpr bool contains(ipv4_addr a) const noexcept { return a.value - first.value < count; }
  // The i-th address, i < count.
  constexpr ipv4_addr at(std::uint32_t i) const noexcept { return {first.value + i}; }
  constexpr ipv4_addr last() const noexcept { return {first.value + count - 1}; }
  constexpr auto operator<=>(const ipv4_range&) const noexcept = default;
};

// Text forms, for command lines and logs (not for the hot path).
std::optional<ipv4_addr> parse_ipv4(std::string_view text) noexcept;
std::optional<ipv4_prefix> parse_ipv4_prefix(std::string_view text) noexcept;
std::string to_string(ipv4_addr a);
std::string to_string(mac_addr m);

}  // namespace kbt::wire
