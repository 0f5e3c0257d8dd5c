#include "api/app_timer.hh"

#include <algorithm>

#include "api/connection.hh"

namespace kbt::api {

app_timers::app_timers(std::uint32_t capacity, base::timer_wheel* wheel, core_context* ctx)
    : _wheel(wheel), _ctx(ctx), _nodes(capacity) {
  _free.reserve(capacity);
  for (std::uint32_t i = capacity; i > 0; --i) {
    _nodes[i - 1].owner = this;
    _nodes[i - 1].slot = i - 1;
    _free.push_back(i - 1);
  }
}

app_timers::~app_timers() {
  // Pending timers are dropped: the wheel must not keep nodes that die here.
  for (node& n : _nodes) {
    if (n.armed()) _wheel->cancel(n);
  }
}

timer_id app_timers::schedule(base::instant now, std::uint64_t after_ms, timer_callback fn,
                              void* arg) noexcept {
  if (_wheel == nullptr || _free.empty() || fn == nullptr) {
    _counters.refused.add();
    return 0;
  }
  node& n = _nodes[_free.back()];
  _free.pop_back();
  n.fn = fn;
  n.arg = arg;
  // At most 2^40 ms (34 years), so that the sum in ns cannot wrap.
  constexpr std::uint64_t kMaxMs = std::uint64_t{1} << 40;
  _wheel->arm(n, now + std::chrono::milliseconds(std::min(after_ms, kMaxMs)));
  _counters.scheduled.add();
  return (std::uint64_t{n.generation} << 32) | (std::uint64_t{n.slot} + 1);
}

app_timers::node* app_timers::find(timer_id id) noexcept {
  const auto low = static_cast<std::uint32_t>(id);
  if (low == 0 || low > _nodes.size()) return nullptr;
  node& n = _nodes[low - 1];
  if (n.generation != static_cast<std::uint32_t>(id >> 32) || !n.armed()) return nullptr;
  return &n;
}

// The slot is free again; its next timer gets a new generation, so the old
// id names nothing.
void app_timers::give_back(node& n) noexcept {
  ++n.generation;
  n.fn = nullptr;
  n.arg = nullptr;
  _free.push_back(n.slot);
}

bool app_timers::cancel(timer_id id) noexcept {
  node* n = find(id);
  if (n == nullptr) return false;
  _wheel->cancel(*n);
  give_back(*n);
  _counters.cancelled.add();
  return true;
}

void app_timers::fire(base::timer_node& tn, base::instant now, void*) noexcept {
  node& n = static_cast<node&>(tn);
  app_timers& self = *n.owner;
  const timer_callback fn = n.fn;
  void* const arg = n.arg;
  // Free before the call, so that the callback may schedule again.
  self.give_back(n);
  self._counters.fired.add();
  self._ctx->now = now;
  fn(*self._ctx, arg);
}

}  // namespace kbt::api
