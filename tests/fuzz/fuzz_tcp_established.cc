// TCP input against an established connection: the harness opens tuple 0
// itself (passive, with the peer options config[1] names; optionally an
// active open on tuple 1 as well), then plays the fuzzer's script of
// segments, clock steps and application calls (tcp_script.hh), so data,
// SACK, retransmission, window, urgent and close paths are a few bytes
// away. Cookies in automatic mode, as a server runs. Invariants in
// tcp_harness.cc.
#include <cstddef>
#include <cstdint>

#include "fuzz_check.hh"
#include "tcp_harness.hh"

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  (void)argc;
  kbt::fuzz::start_eal((*argv)[0]);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  kbt::fuzz::run_tcp_script(data, size,
                            {.setup = kbt::fuzz::harness_setup::established,
                             .cookies = kbt::tcp::syncookies_mode::automatic,
                             .name = "fuzz_tcp_established"});
  return 0;
}
