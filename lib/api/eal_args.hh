#pragma once
// Every kbt program takes DPDK EAL arguments, then `--`, then its own flags.
// With no `--` at all, every argument is the program's own and the EAL runs
// on the embedded default: a TAP device on one core without hugepages, so a
// first run needs no DPDK set-up.
#include <string>
#include <vector>

namespace kbt::api {

struct command_line {
  std::vector<std::string> eal;  // argv[0] first, ready for rte_eal_init
  std::vector<std::string> app;  // argv[0] first, ready for the app's parser
  bool eal_defaulted = false;    // true when no EAL arguments were given
};

// The EAL arguments used when none are given: one lcore, no hugepages, no PCI
// scan, no shared config, and a TAP interface named `tap_iface`.
std::vector<std::string> embedded_eal_default(const std::string& tap_iface = "kbt0");

command_line split_command_line(int argc, const char* const* argv);

}  // namespace kbt::api
