#pragma once
// The two simulated hosts every simulation test uses: A (198.18.0.1) and
// B (198.18.0.2), on locally administered MACs; and the time units.
#include <cstdint>

#include "wire/addr.hh"

namespace kbt::sim {

inline constexpr wire::mac_addr kMacA{{0x02, 0, 0, 0, 0, 0x0a}};
inline constexpr wire::mac_addr kMacB{{0x02, 0, 0, 0, 0, 0x0b}};
inline constexpr auto kIpA = wire::ipv4_addr::from_octets(198, 18, 0, 1);
inline constexpr auto kIpB = wire::ipv4_addr::from_octets(198, 18, 0, 2);
inline constexpr std::uint64_t kSec = 1'000'000'000;
inline constexpr std::uint64_t kMs = 1'000'000;

}  // namespace kbt::sim
