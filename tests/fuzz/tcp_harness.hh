#pragma once
// Runs one tcp_script (tcp_script.hh) against a fresh tcp_layer and checks
// the invariants after every step (tcp_harness.cc says which). The three
// TCP targets differ only in the harness_options they pass.
#include <cstddef>
#include <cstdint>

#include "tcp/config.hh"

namespace kbt::fuzz {

enum class harness_setup : std::uint8_t {
  listener,     // a listener on port 80 and nothing else
  established,  // ... and a connection on tuple 0 the harness opened itself
};

struct harness_options {
  harness_setup setup = harness_setup::listener;
  tcp::syncookies_mode cookies = tcp::syncookies_mode::automatic;
  const char* name = "tcp";  // for the summary printed at exit
};

// One input: build, run, tear down, compare the mempool with before.
void run_tcp_script(const std::uint8_t* data, std::size_t size, const harness_options& o);

}  // namespace kbt::fuzz
