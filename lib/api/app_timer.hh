#pragma once
// Application timers on the core's timer wheel (base/timer_wheel.hh, the
// one TCP's own timers use, advanced once per loop iteration at 1 ms
// resolution): schedule a callback after N ms on the current core, cancel
// it. The nodes come from a per-core pool sized at start-up
// (stack_config::app_timers_per_core): scheduling allocates nothing, and
// when the pool is spent it refuses (an empty timer_id), counted.
//
//   api::timer_id t = api::schedule(ctx, 500, [](api::core_context& ctx, void* arg) {
//     ...  // on the same core, 500 ms or up to one tick later
//   }, arg);
//   api::cancel(ctx, t);  // false when it already fired or was cancelled
//
// A callback runs inside the core's loop, like the handler's callbacks; it
// may use connections, schedule (its own node is free again by then) and
// cancel. Timers pending when the stack stops are dropped unrun.
#include <cstdint>
#include <vector>

#include "core/counters.hh"
#include "base/timer_wheel.hh"

namespace kbt::api {

struct core_context;

using timer_callback = void (*)(core_context& ctx, void* arg);

// Names one scheduled timer: pool slot + 1 (low 32 bits) and the slot's
// generation (high 32), so a stale id cancels nothing. 0: none (refused).
using timer_id = std::uint64_t;

struct timer_counters {
  base::counter scheduled;
  base::counter fired;
  base::counter cancelled;
  base::counter refused;  // the pool was spent (or the stack runs without TCP)
};

class app_timers {
 public:
  // `capacity` nodes, allocated now. The wheel is the core's; `ctx` is
  // handed to every callback.
  app_timers(std::uint32_t capacity, base::timer_wheel* wheel, core_context* ctx);
  ~app_timers();
  app_timers(const app_timers&) = delete;
  app_timers& operator=(const app_timers&) = delete;

  timer_id schedule(base::instant now, std::uint64_t after_ms, timer_callback fn,
                    void* arg) noexcept;
  bool cancel(timer_id id) noexcept;

  std::uint32_t capacity() const noexcept { return static_cast<std::uint32_t>(_nodes.size()); }
  std::uint32_t pending() const noexcept { return capacity() - static_cast<std::uint32_t>(_free.size()); }
  const timer_counters& counters() const noexcept { return _counters; }

 private:
  struct node : base::timer_node {
    node() noexcept : base::timer_node(&app_timers::fire) {}
    app_timers* owner = nullptr;
    timer_callback fn = nullptr;
    void* arg = nullptr;
    std::uint32_t generation = 0;
    std::uint32_t slot = 0;
  };
  static void fire(base::timer_node& n, base::instant now, void* wheel_ctx) noexcept;
  node* find(timer_id id) noexcept;
  void give_back(node& n) noexcept;

  base::timer_wheel* _wheel;
  core_context* _ctx;
  std::vector<node> _nodes;
  std::vector<std::uint32_t> _free;  // slots, used as a stack
  timer_counters _counters;
};

}  // namespace kbt::api
