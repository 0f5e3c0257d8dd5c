#pragma once
// DPDK telemetry commands for a running stack, readable with
// dpdk-telemetry.py (or any client of the telemetry socket) while the
// application runs:
//   /kbt/stats       every counter, summed and per core
//   /kbt/tcp/states  connections in each of the eleven TCP states
// The telemetry thread reads the per-core counters (relaxed atomics) and
// never touches anything a core writes without them.
namespace kbt::api {

class stack;

// The commands answer for `s` from now on (registered once per process).
void telemetry_attach(const stack* s);
// They answer "no stack" from now on; waits for a reader in progress.
void telemetry_detach(const stack* s) noexcept;

}  // namespace kbt::api
