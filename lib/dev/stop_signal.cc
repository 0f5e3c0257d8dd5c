#include "dev/stop_signal.hh"

#include <csignal>

namespace kbt::dev {
namespace {
// Lock-free so that setting it is async-signal-safe.
std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void on_stop_signal(int) { g_stop.store(true, std::memory_order_relaxed); }
}  // namespace

void install_stop_signals() noexcept {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool stop_requested() noexcept { return g_stop.load(std::memory_order_relaxed); }
void request_stop() noexcept { g_stop.store(true, std::memory_order_relaxed); }
void reset_stop() noexcept { g_stop.store(false, std::memory_order_relaxed); }

}  // namespace kbt::dev
