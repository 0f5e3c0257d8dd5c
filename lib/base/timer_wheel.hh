#pragma once
// One core's timer wheel: a hierarchical timing wheel (Varghese & Lauck) that
// drives TCP's retransmission, delayed-ACK, persist, keepalive and TIME_WAIT
// timers for up to millions of connections per core.
//
// Shape:
//  * Time is counted in ticks of `tick` (default 1 ms). A timer armed for
//    `expiry` is due at tick ceil(expiry / tick), so it never fires
//    before expiry and fires at most one tick (plus the caller's advance
//    granularity) after it.
//  * `levels` wheels of 64 slots; level k slots are 64^k ticks wide, so the
//    wheel covers 64^levels ticks (6 levels at 1 ms: ~795 days). A timer is
//    filed by its distance from the current tick (as in Linux's classic
//    tvec wheel) and moved one level down when its slot comes round
//    ("cascade"): at most levels-1 moves over its life. Timers beyond the
//    horizon are filed in the farthest top-level slot and re-filed when it
//    comes round, so they are never lost and never fire early.
//  * A 64-bit occupancy bitmap per level lets advance() jump straight to the
//    next occupied slot (rotate + countr_zero), so a 10-minute jump of a
//    simulator's clock costs O(levels) per occupied slot, not per tick.
//  * Nodes are intrusive (embedded in the TCB / TIME_WAIT record), so arm,
//    re-arm and cancel are O(1) and nothing is allocated after construction.
//
// Not thread-safe by design: one core owns a wheel, as it owns its connections.
#include <bit>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>

#include "base/clock.hh"

namespace kbt::base {

class timer_node;
class timer_wheel;

// The callback is a plain function pointer stored in the node rather than a
// `uint8_t kind` dispatched by a switch:
//  * the wheel stays ignorant of who owns timers (TCP, TIME_WAIT records,
//    apps, tests), so core/ does not need an enum that grows with each user;
//  * it costs what a switch's jump table costs: one indirect branch, well
//    predicted because a core has a handful of distinct targets;
//  * the node is 32 bytes either way: a 1-byte kind would be padded to 8.
// `now` is the value passed to advance() (the engine's clock), not the
// timer's due time; `wheel.expiry(node)` gives the latter. `ctx` is the
// wheel's context pointer (typically the per-core engine).
using timer_fn = void (*)(timer_node& node, instant now, void* ctx) noexcept;

namespace detail {
// The intrusive hook: slot heads are bare links (16 bytes), nodes derive from it.
struct timer_link {
  timer_link* prev = nullptr;
  timer_link* next = nullptr;
};

// Division by the tick without a hardware divide, which costs 15-90 cycles
// and would otherwise dominate arm(): Granlund & Montgomery's multiply by a
// rounded-up reciprocal (Thm 4.2 with N = 63), exact for dividends below
// 2^63 (292 years of ns); larger ones take the plain division.
class tick_divider {
 public:
  explicit tick_divider(std::uint64_t d) noexcept;
  [[nodiscard]] std::uint64_t floor(std::uint64_t n) const noexcept {
    if (n >> 63 != 0) [[unlikely]] return n / _d;
    if (_mult == 0) return n >> _shift;  // power-of-two tick
    __extension__ using u128 = unsigned __int128;
    return static_cast<std::uint64_t>((u128{n} * _mult) >> 64) >> _shift;
  }
  [[nodiscard]] std::uint64_t ceil(std::uint64_t n) const noexcept {
    const std::uint64_t q = floor(n);
    return q + (q * _d != n ? 1 : 0);
  }

 private:
  std::uint64_t _d;
  std::uint64_t _mult = 0;
  unsigned _shift = 0;
};
}  // namespace detail

// Embed one per timer in the owner. An owner with several timers derives from
// several `tagged_timer<Tag>` (see owner_of below). A node must be cancelled
// (or have fired) before it is destroyed, and belongs to one wheel at a time.
class timer_node : private detail::timer_link {
 public:
  constexpr timer_node() noexcept = default;
  explicit constexpr timer_node(timer_fn fn) noexcept : _fn(fn) {}
  ~timer_node() { assert(!armed() && "timer_node destroyed while armed: cancel it first"); }
  timer_node(const timer_node&) = delete;
  timer_node& operator=(const timer_node&) = delete;

  [[nodiscard]] bool armed() const noexcept { return next != nullptr; }
  // The tick at which the timer is (or was last) due.
  [[nodiscard]] std::uint64_t expiry_tick() const noexcept { return _expiry_tick; }
  [[nodiscard]] timer_fn callback() const noexcept { return _fn; }
  void set_callback(timer_fn fn) noexcept { _fn = fn; }

 private:
  friend class timer_wheel;
  std::uint64_t _expiry_tick = 0;
  timer_fn _fn = nullptr;
};
static_assert(sizeof(timer_node) == 32, "two timer nodes per cache line");

// A distinct base per timer role, so one owner can hold several nodes and get
// back to itself with a static_cast (no offsetof, no pointer arithmetic):
//   struct tcb : tagged_timer<rto_tag>, tagged_timer<delack_tag> { ... };
//   tcb& t = owner_of<tcb, rto_tag>(node);
template <class Tag>
class tagged_timer : public timer_node {
 public:
  using timer_node::timer_node;
};

// Owner of a node embedded as base `tagged_timer<Tag>` of Owner.
template <class Owner, class Tag>
[[nodiscard]] Owner& owner_of(timer_node& node) noexcept {
  return static_cast<Owner&>(static_cast<tagged_timer<Tag>&>(node));
}

// Owner that derives from timer_node directly (one timer, e.g. a TIME_WAIT record).
template <class Owner>
[[nodiscard]] Owner& owner_of(timer_node& node) noexcept {
  return static_cast<Owner&>(node);
}

struct timer_wheel_config {
  nanos tick{1'000'000};  // resolution; > 0
  unsigned levels = 6;    // kMinLevels..kMaxLevels; horizon = 64^levels ticks
  instant start{};        // clock reading at construction
};

class timer_wheel {
 public:
  static constexpr unsigned kSlotBits = 6;
  static constexpr unsigned kSlots = 1U << kSlotBits;  // one uint64_t bitmap per level
  // Two levels at least, so that level 0 only ever holds timers due at their
  // slot's tick (clamped far-future timers always sit at a level >= 1).
  static constexpr unsigned kMinLevels = 2;
  static constexpr unsigned kMaxLevels = 8;  // 2^48 ticks; more would not help anyone

  // nullptr if `cfg` is usable, else what to fix. The constructor clamps a
  // bad config to the nearest usable one (and asserts in debug builds).
  [[nodiscard]] static const char* check(const timer_wheel_config& cfg) noexcept;

  explicit timer_wheel(const timer_wheel_config& cfg = {}, void* ctx = nullptr) noexcept;
  // Unarms every node still armed, so owners may die after the wheel.
  ~timer_wheel();
  timer_wheel(const timer_wheel&) = delete;  // slot heads point at themselves
  timer_wheel& operator=(const timer_wheel&) = delete;

  // Arms `node` to fire once at the first advance(now) with now >= expiry
  // (rounded up to a tick). Re-arming an armed node moves it. If the due tick
  // has already been processed (expiry in the past, or "now" from inside a
  // callback), the node fires on the NEXT advance() call, whatever its now:
  // never inside the advance() that is running, so a callback re-arming
  // itself for "now" cannot loop forever.
  void arm(timer_node& node, instant expiry) noexcept;
  // Unarms `node`; a no-op if it is not armed.
  void cancel(timer_node& node) noexcept;

  // Processes every tick up to floor(now / tick), in order: timers of an
  // earlier tick fire before those of a later one (same tick: any order).
  // Callbacks may arm and cancel any node, themselves included; a node armed
  // for a tick that this call has yet to reach fires in this call. `now`
  // must not go backwards (an earlier value processes nothing). Not reentrant.
  // Returns the number of timers fired.
  std::size_t advance(instant now) noexcept;

  [[nodiscard]] std::size_t size() const noexcept { return _size; }
  [[nodiscard]] bool empty() const noexcept { return _size == 0; }

  // Time at or before which the next advance has work to do; nullopt when no
  // timer is armed. Never later than the earliest due timer, but may be
  // earlier: if the next work is a cascade, this is the cascade's tick (each
  // timer causes at most levels-1 such early wake-ups). A simulator can step
  // `now = max(now, *next_expiry())` and never overshoot a timer.
  [[nodiscard]] std::optional<instant> next_expiry() const noexcept;

  // When `node` is (or was last) due: its tick's start, >= the armed expiry.
  [[nodiscard]] instant expiry(const timer_node& node) const noexcept {
    return instant_from_ns(node._expiry_tick * _tick_ns);
  }
  [[nodiscard]] nanos tick() const noexcept { return nanos{_tick_ns}; }
  [[nodiscard]] unsigned levels() const noexcept { return _levels; }
  // Timers further than this from the current tick are clamped and re-filed.
  [[nodiscard]] nanos horizon() const noexcept { return nanos{_span * _tick_ns}; }
  // The first tick not yet processed.
  [[nodiscard]] std::uint64_t next_tick() const noexcept { return _base; }
  [[nodiscard]] void* context() const noexcept { return _ctx; }

 private:
  using link = detail::timer_link;
  static constexpr std::uint64_t kSlotMask = kSlots - 1;
  // Cap on ticks so that tick + horizon never wraps (2^62 ticks ~ 146 years of ns).
  static constexpr std::uint64_t kTickLimit = std::uint64_t{1} << 62;

  static void link_tail(link& head, link& node) noexcept {
    node.prev = head.prev;
    node.next = &head;
    head.prev->next = &node;
    head.prev = &node;
  }
  // Unlinks without marking unarmed; clears the slot's bit if it empties.
  void unlink(timer_node& node) noexcept;
  // Files an armed-state node whose _expiry_tick >= _base into its slot.
  void place(timer_node& node) noexcept;
  [[nodiscard]] std::uint64_t due_tick(instant expiry) const noexcept {
    const std::uint64_t t = _div.ceil(ns_since_start(expiry));
    return t < kTickLimit ? t : kTickLimit;
  }
  // Sets _base and the fast path's _base_ns (saturated) together.
  void set_base(std::uint64_t tick) noexcept;
  [[nodiscard]] std::uint64_t next_event_tick() const noexcept;
  std::size_t advance_slow(std::uint64_t target, instant now) noexcept;
  void process_tick(std::uint64_t tick, instant now, std::size_t& fired) noexcept;
  void cascade(unsigned level, unsigned slot) noexcept;
  // Moves all nodes of `from` to the (empty) list `to`.
  static void splice(link& from, link& to) noexcept;
  std::size_t fire_list(link& pending, instant now) noexcept;

  link _slots[kMaxLevels * kSlots];  // level-major; heads are circular lists
  std::uint64_t _bitmap[kMaxLevels] = {};
  link _deferred;                    // due before _base: fire on the next advance()
  std::uint64_t _base = 0;           // first tick not yet processed
  std::uint64_t _base_ns = 0;        // _base * _tick_ns: below it advance() has nothing to do
  std::uint64_t _tick_ns = 1;
  detail::tick_divider _div{1};
  std::uint64_t _span = 0;           // 64^levels ticks
  std::uint64_t _max_base_tick = 0;  // beyond it _base_ns saturates
  std::size_t _size = 0;
  void* _ctx = nullptr;
  unsigned _levels = 0;
  bool _in_advance = false;
};

inline void timer_wheel::unlink(timer_node& node) noexcept {
  link* const p = node.prev;
  link* const n = node.next;
  if (p == n) {
    // The node was alone in its list, so `p` is the list head. If that head
    // is a slot (not _deferred or a list being fired), its slot is now empty.
    const link* const first = _slots;
    if (std::less_equal<const link*>{}(first, p) &&
        std::less<const link*>{}(p, first + kMaxLevels * kSlots)) {
      const auto index = static_cast<unsigned>(p - first);
      _bitmap[index >> kSlotBits] &= ~(std::uint64_t{1} << (index & kSlotMask));
    }
  }
  p->next = n;
  n->prev = p;
}

inline void timer_wheel::place(timer_node& node) noexcept {
  std::uint64_t tick = node._expiry_tick;
  const std::uint64_t delta = tick - _base;
  // Level k holds distances in [64^k, 64^(k+1)); bit_width - 1 is floor(log2).
  auto level = static_cast<unsigned>(std::bit_width(delta | 1U) - 1) / kSlotBits;
  if (level >= _levels) {
    // Beyond the horizon: park in the farthest slot; cascade re-files it.
    level = _levels - 1;
    tick = _base + _span - 1;
  }
  const auto slot = static_cast<unsigned>((tick >> (level * kSlotBits)) & kSlotMask);
  link_tail(_slots[level * kSlots + slot], node);
  _bitmap[level] |= std::uint64_t{1} << slot;
}

inline void timer_wheel::arm(timer_node& node, instant expiry) noexcept {
  assert(node._fn != nullptr && "arm: timer_node has no callback");
  const std::uint64_t tick = due_tick(expiry);
  if (node.armed()) {
    // The delayed-ACK pattern re-arms within the same tick most of the time;
    // the node is then already where it belongs (slot, deferred or firing list).
    if (node._expiry_tick == tick) return;
    unlink(node);
  } else {
    ++_size;
  }
  node._expiry_tick = tick;
  if (tick < _base) {
    link_tail(_deferred, node);
  } else {
    place(node);
  }
}

inline void timer_wheel::cancel(timer_node& node) noexcept {
  if (!node.armed()) return;
  unlink(node);
  node.prev = nullptr;
  node.next = nullptr;
  --_size;
}

inline std::size_t timer_wheel::advance(instant now) noexcept {
  const std::uint64_t now_ns = ns_since_start(now);
  // Fast path: the engine polls far more often than once per tick.
  if (now_ns < _base_ns && _deferred.next == &_deferred) return 0;
  std::uint64_t target = _div.floor(now_ns);
  if (target >= kTickLimit) target = kTickLimit - 1;
  return advance_slow(target, now);
}

}  // namespace kbt::base
