#pragma once
// The message of a start-up failure in an ethdev call: which port, which
// step, and DPDK's reason (its calls return -errno).
#include <rte_errno.h>

#include <cstdint>
#include <string>

namespace kbt::dev {

inline std::string port_error(std::uint16_t port_id, const char* step, int rc) {
  return "port " + std::to_string(port_id) + ": " + step + " failed: " + rte_strerror(-rc);
}

}  // namespace kbt::dev
