#include "api/telemetry.hh"

#include <rte_telemetry.h>

#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/stack.hh"
#include "tcp/counters.hh"
#include "tcp/state.hh"

namespace kbt::api {
namespace {

// Telemetry callbacks carry no context pointer in DPDK 22.11, so the stack
// they describe is process-wide. The mutex only orders a reader against
// the stack's teardown; no packet path takes it.
std::mutex g_mutex;
const stack* g_stack = nullptr;

void add_u64(void* ctx, const char* name, std::uint64_t v) {
  rte_tel_data_add_dict_u64(static_cast<rte_tel_data*>(ctx), name, v);
}

// One core's counters (or the sum of all when `core` < 0) into `d`.
void fill_counters(const stack& s, int core, rte_tel_data* d) {
  rte_tel_data_start_dict(d);
  core::counters_snapshot snap;
  const unsigned first = core < 0 ? 0 : static_cast<unsigned>(core);
  const unsigned last = core < 0 ? s.cores() : first + 1;
  for (unsigned i = first; i < last; ++i) snap.add(s.core_counters_of(i));
  snap.for_each([d](std::string_view name, std::uint64_t v) {
    add_u64(d, std::string(name).c_str(), v);
  });
  for (std::size_t r = 0; r < core::kDropReasons; ++r) {
    const std::string name =
        std::string("drop_").append(core::to_string(static_cast<core::drop_reason>(r)));
    add_u64(d, name.c_str(), snap.drops[r]);
  }
  // (telemetry names take no dots, hence tcp_<counter>)
  const auto tcp_sum = s.tcp_totals(first, last);
  for (const auto& [name, v] : tcp_sum) add_u64(d, name.c_str(), v);
}

int cmd_stats(const char*, const char*, rte_tel_data* d) {
  const std::lock_guard lock(g_mutex);
  if (g_stack == nullptr) return -1;
  const stack& s = *g_stack;
  fill_counters(s, -1, d);
  add_u64(d, "cores", s.cores());
  for (unsigned i = 0; i < s.cores(); ++i) {
    rte_tel_data* per_core = rte_tel_data_alloc();
    if (per_core == nullptr) return -1;
    fill_counters(s, static_cast<int>(i), per_core);
    const std::string name = "core" + std::to_string(i);
    rte_tel_data_add_dict_container(d, name.c_str(), per_core, 0);
  }
  return 0;
}

int cmd_states(const char*, const char*, rte_tel_data* d) {
  const std::lock_guard lock(g_mutex);
  if (g_stack == nullptr) return -1;
  const stack& s = *g_stack;
  rte_tel_data_start_dict(d);
  for (std::size_t st = 0; st < tcp::kStateCount; ++st) {
    std::uint64_t n = 0;
    for (unsigned i = 0; i < s.cores(); ++i) {
      if (const tcp::tcp_counters* t = s.tcp_counters_of(i); t != nullptr) n += t->states[st].get();
    }
    const std::string name(tcp::to_string(static_cast<tcp::tcp_state>(st)));
    add_u64(d, name.c_str(), n);
  }
  return 0;
}

}  // namespace

void telemetry_attach(const stack* s) {
  static std::once_flag once;
  std::call_once(once, [] {
    rte_telemetry_register_cmd("/kbt/stats", cmd_stats,
                               "Every kbt counter, summed and per core. No parameters");
    rte_telemetry_register_cmd("/kbt/tcp/states", cmd_states,
                               "kbt TCP connections in each of the eleven states. No parameters");
  });
  const std::lock_guard lock(g_mutex);
  g_stack = s;
}

void telemetry_detach(const stack* s) noexcept {
  const std::lock_guard lock(g_mutex);
  if (g_stack == s) g_stack = nullptr;
}

}  // namespace kbt::api
