// TCP input against a listener on port 80 with SYN cookies never: arbitrary
// segments (and clock steps and application calls) on a few tuples, as a
// tcp_script (tcp_script.hh); invariants in tcp_harness.cc.
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
                            {.setup = kbt::fuzz::harness_setup::listener,
                             .cookies = kbt::tcp::syncookies_mode::never,
                             .name = "fuzz_tcp_listen_cookies_never"});
  return 0;
}
