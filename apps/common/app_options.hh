#pragma once
// Flags every kbt app shares, added to the app's CLI11 parser, and the
// parsing step that turns --help into exit 0 and a bad flag into one line
// on stderr and exit 2.
#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <vector>

#include "api/stack.hh"

namespace kbt::apps {

struct common_options {
  std::string ip = "198.18.0.2/24";
  std::string gateway;
  unsigned stats_interval_s = 0;
  std::string syncookies = "auto";
  std::uint32_t max_conns = 1024;
  std::string pcap;  // --pcap FILE; empty: no capture
  std::uint64_t pcap_limit = 100000;
  std::uint16_t mtu = 1500;
  std::uint32_t tcp_buffer = 256 * 1024;
  unsigned mbufs = 0;  // per core; 0: from --max-conns (api::default_mbufs_per_core)
  std::string local_ports = "32768-60999";  // FIRST-LAST, for active opens
  std::string cc = "cubic";                 // --cc: newreno or cubic
  double ip_frag_timeout_s = 30;            // --ip-frag-timeout
};

// Adds --ip, --gateway, --stats-interval, --syncookies, --max-conns, --pcap,
// --pcap-limit, --mtu, --tcp-buffer, --mbufs, --local-ports, --cc and
// --ip-frag-timeout to `app`.
void add_common_options(CLI::App& app, common_options& opts);

// The --help footer every app prints: EAL arguments, then --, then flags.
std::string eal_footer(const std::string& program);

// Parses `args` (args[0] is the program). Returns an exit code when the
// program should stop now (0 after --help, 2 after an error it printed).
std::optional<int> parse(CLI::App& app, const std::vector<std::string>& args);

// Validates the shared flags into a stack configuration; throws
// base::startup_error with one line naming the flag on bad input.
api::stack_config to_stack_config(const common_options& opts, const std::string& program);

// Prints "program: message" to stderr: the one line a failed start-up gives.
void report_error(const std::string& program, const std::string& message);

}  // namespace kbt::apps
