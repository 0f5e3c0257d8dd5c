#pragma once
// The switches of tcp_harness.cc that are read from the environment, and
// its trace: what a person replaying a reproducer wants, not the fuzzer.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "base/clock.hh"
#include "tcp_script.hh"
#include "wire/tcp.hh"

namespace kbt::fuzz {

// KBT_FUZZ_TRACE=1: every segment in and out, clock step and application
// call on stderr, for reading a reproducer.
inline bool tracing() {
  static const bool on = std::getenv("KBT_FUZZ_TRACE") != nullptr;
  return on;
}

inline void trace_segment(const char* dir, std::size_t tuple, const wire::tcp_repr& t,
                          base::instant now) {
  if (!tracing()) return;
  std::fprintf(stderr, "%10.6f %s t%zu flags=%02x seq=%u ack=%u len=%u wnd=%u",
               static_cast<double>(base::ns_since_start(now) - kStartNs) / 1e9, dir, tuple,
               t.flags, t.seq.value, t.ack.value, t.payload_len, t.window);
  if (t.options.mss) std::fprintf(stderr, " mss=%u", *t.options.mss);
  if (t.options.window_scale) std::fprintf(stderr, " ws=%u", *t.options.window_scale);
  if (t.options.sack_permitted) std::fprintf(stderr, " sackok");
  if (t.options.timestamps) {
    std::fprintf(stderr, " ts=%u/%u", t.options.timestamps->tsval, t.options.timestamps->tsecr);
  }
  for (const auto& b : t.options.sacks()) {
    std::fprintf(stderr, " sack=%u-%u", b.left.value, b.right.value);
  }
  std::fprintf(stderr, "\n");
}

}  // namespace kbt::fuzz
