#pragma once
// Offloads that a PMD advertises but gets wrong, and what kbt does instead.
// open_port() asks each port for what it offers, then takes away here what
// is known to be broken for that driver, so the engine computes those sums
// itself. The simulator applies the same table to the driver it emulates.
#include <string_view>

namespace kbt::dev {

struct port_offloads;

// The offloads `wanted` less those that `driver` (rte_eth_dev_info's
// driver_name, e.g. "net_tap") is known to mishandle.
port_offloads without_known_defects(std::string_view driver, port_offloads wanted) noexcept;

}  // namespace kbt::dev
