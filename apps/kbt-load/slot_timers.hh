#pragma once
// When each of a core's load slots next needs a look (a scheduled request,
// a connect, a timeout): one timer per slot on a wheel of 1 µs ticks, so
// that a poll costs the slots whose time has come and not all of them.
// (A scan of every slot whenever the earliest one was due made kbt-load's
// poll O(connections): with 50,000 open-loop slots one fell due every
// 25 µs, and the scan took half the client's time.)
//
// A slot is woken at the earliest time asked for since it last woke; a
// wake that finds nothing to do costs one look. Nothing allocates after
// construction.
#include <cstdint>
#include <memory>
#include <vector>

#include "base/timer_wheel.hh"

namespace kbt::load {

class slot_timers {
 public:
  static constexpr std::uint64_t kTickNs = 1'000;  // wheel resolution: a wake is at most 1 µs late

  explicit slot_timers(std::uint32_t count) : _s(std::make_unique<state>(count)) {}
  // Movable (the handler is made and then moved into place); the wheel's
  // context pointer is the state, which stays where it is.
  slot_timers(slot_timers&&) noexcept = default;
  slot_timers& operator=(slot_timers&&) noexcept = default;

  // Slot `i` wakes at `t`, or earlier if it was already to wake earlier.
  void wake_at(std::uint32_t i, std::uint64_t t) noexcept {
    node& n = _s->nodes[i];
    if (n.armed() && base::ns_since_start(_s->wheel.expiry(n)) <= t) return;
    _s->wheel.arm(n, base::instant_from_ns(t));
  }
  // Calls f(i) once for each slot whose wake time has come by `now_ns`;
  // f may ask for the slot's next wake (or any other's). Returns how many.
  template <class F>
  std::size_t run_due(std::uint64_t now_ns, F&& f) {
    _s->due.clear();
    _s->wheel.advance(base::instant_from_ns(now_ns));
    // Each node fires at most once per advance (nothing re-arms inside it),
    // so `due` never outgrows the room reserved for every slot.
    for (const std::uint32_t i : _s->due) f(i);
    return _s->due.size();
  }
  void cancel_all() noexcept { _s->cancel_all(); }
  bool armed(std::uint32_t i) const noexcept { return _s->nodes[i].armed(); }
  std::size_t armed_count() const noexcept { return _s->wheel.size(); }

 private:
  struct node : base::timer_node {
    std::uint32_t index = 0;
  };
  struct state {
    explicit state(std::uint32_t n)
        : wheel(base::timer_wheel_config{
                    .tick = base::nanos{kTickNs}, .levels = 6, .start = base::instant{}}, this),
          nodes(std::make_unique<node[]>(n)),
          count(n) {
      for (std::uint32_t i = 0; i < n; ++i) {
        nodes[i].index = i;
        nodes[i].set_callback(&on_fire);
      }
      due.reserve(n);
    }
    ~state() { cancel_all(); }  // before the nodes go
    state(const state&) = delete;
    state& operator=(const state&) = delete;
    void cancel_all() noexcept {
      for (std::uint32_t i = 0; i < count; ++i) wheel.cancel(nodes[i]);
    }

    base::timer_wheel wheel;
    std::unique_ptr<node[]> nodes;
    std::uint32_t count;
    std::vector<std::uint32_t> due;  // the slots the running advance fired
  };
  static void on_fire(base::timer_node& n, base::instant, void* ctx) noexcept {
    static_cast<state*>(ctx)->due.push_back(base::owner_of<node>(n).index);
  }

  std::unique_ptr<state> _s;
};

}  // namespace kbt::load
