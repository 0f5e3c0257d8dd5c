#pragma once
// A clean stop on SIGINT/SIGTERM: the handler only sets a flag; every per-core
// loop polls it once per iteration and returns, so the port is stopped and the
// mbufs are freed by ordinary code, not from inside a signal handler.
#include <atomic>

namespace kbt::dev {

void install_stop_signals() noexcept;

// True once SIGINT or SIGTERM arrived (or request_stop() was called).
bool stop_requested() noexcept;
void request_stop() noexcept;
// For tests that run several engines in one process, one after another.
void reset_stop() noexcept;

}  // namespace kbt::dev
