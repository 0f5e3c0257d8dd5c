#include "base/timer_wheel.hh"

#include <algorithm>
#include <limits>

// Invariants (b = _base, the first tick not yet processed):
//  * level 0, slot s: timers due at the one tick t in [b, b+63] with t % 64 == s;
//  * level k >= 1, slot s: timers to be re-filed at the first tick t >= b that
//    is a multiple of 64^k with digit k of t equal to s; every timer there is
//    due at or after t. place() files a timer at distance d in [64^k, 64^(k+1))
//    at slot digit_k(due), whose first such tick is due rounded down to 64^k:
//    after b, never after the due tick, and no earlier tick has that digit.
//  * _bitmap[k] bit s is set exactly when that slot's list is non-empty.
// Because the slots' ticks depend on b only through "first tick >= b", b can
// jump over ticks where nothing is filed without re-filing anything.

namespace kbt::base {

detail::tick_divider::tick_divider(std::uint64_t d) noexcept : _d(d == 0 ? 1 : d) {
  if (std::has_single_bit(_d)) {
    _shift = static_cast<unsigned>(std::countr_zero(_d));
    return;
  }
  // l = ceil(log2 d); m = ceil(2^(63+l) / d) < 2^64 as d is not a power of
  // two (which also means d does not divide 2^(63+l), hence the + 1).
  const auto l = static_cast<unsigned>(std::bit_width(_d));
  __extension__ using u128 = unsigned __int128;
  _mult = static_cast<std::uint64_t>((u128{1} << (63 + l)) / _d + 1);
  _shift = l - 1;
}

const char* timer_wheel::check(const timer_wheel_config& cfg) noexcept {
  if (cfg.tick.count() == 0) return "timer_wheel: tick must be > 0 (e.g. 1 ms)";
  if (cfg.levels < kMinLevels || cfg.levels > kMaxLevels) {
    return "timer_wheel: levels must be between 2 and 8 (6 covers 64^6 ticks)";
  }
  return nullptr;
}

timer_wheel::timer_wheel(const timer_wheel_config& cfg, void* ctx) noexcept
    : _tick_ns(cfg.tick.count() == 0 ? 1 : cfg.tick.count()),
      _div(_tick_ns),
      _ctx(ctx),
      _levels(std::clamp(cfg.levels, kMinLevels, kMaxLevels)) {
  assert(check(cfg) == nullptr);
  _span = std::uint64_t{1} << (kSlotBits * _levels);
  _max_base_tick = std::numeric_limits<std::uint64_t>::max() / _tick_ns;
  for (link& head : _slots) head.prev = head.next = &head;
  _deferred.prev = _deferred.next = &_deferred;
  set_base(std::min(ns_since_start(cfg.start) / _tick_ns, kTickLimit - 1));
}

void timer_wheel::set_base(std::uint64_t tick) noexcept {
  _base = tick;
  _base_ns = tick > _max_base_tick ? std::numeric_limits<std::uint64_t>::max() : tick * _tick_ns;
}

timer_wheel::~timer_wheel() {
  auto release = [](link& head) {
    link* node = head.next;
    while (node != &head) {
      link* const next = node->next;
      node->prev = node->next = nullptr;
      node = next;
    }
    head.prev = head.next = &head;
  };
  for (link& head : _slots) release(head);
  release(_deferred);
  _size = 0;
}

void timer_wheel::splice(link& from, link& to) noexcept {
  if (from.next == &from) {
    to.prev = to.next = &to;
    return;
  }
  to.next = from.next;
  to.prev = from.prev;
  to.next->prev = &to;
  to.prev->next = &to;
  from.prev = from.next = &from;
}

std::uint64_t timer_wheel::next_event_tick() const noexcept {
  std::uint64_t best = std::numeric_limits<std::uint64_t>::max();
  if (_bitmap[0] != 0) {
    const auto from = static_cast<int>(_base & kSlotMask);
    best = _base + static_cast<unsigned>(std::countr_zero(std::rotr(_bitmap[0], from)));
  }
  for (unsigned level = 1; level < _levels; ++level) {
    const unsigned shift = level * kSlotBits;
    // First tick >= _base at which a level-`level` slot can come round.
    const std::uint64_t unit = (_base + ((std::uint64_t{1} << shift) - 1)) >> shift;
    // Coarser levels come round no earlier than this one: nothing beats `best`.
    if ((unit << shift) >= best) break;
    const std::uint64_t map = _bitmap[level];
    if (map == 0) continue;
    const auto from = static_cast<int>(unit & kSlotMask);
    const auto skip = static_cast<unsigned>(std::countr_zero(std::rotr(map, from)));
    best = std::min(best, (unit + skip) << shift);
  }
  return best;
}

void timer_wheel::cascade(unsigned level, unsigned slot) noexcept {
  link& head = _slots[level * kSlots + slot];
  _bitmap[level] &= ~(std::uint64_t{1} << slot);
  link* node = head.next;
  head.prev->next = nullptr;  // ends the chain we walk below
  head.prev = head.next = &head;
  // Every timer here is due in [tick, tick + 64^level) (or beyond the horizon)
  // and lands at a lower level, or in another top-level slot: never back here.
  while (node != nullptr) {
    link* const next = node->next;
    place(static_cast<timer_node&>(*node));
    node = next;
  }
}

std::size_t timer_wheel::fire_list(link& pending, instant now) noexcept {
  std::size_t fired = 0;
  // Pop one node at a time, so a callback may cancel or re-arm any node still
  // in `pending` (cancel unlinks it from here like from any list).
  while (pending.next != &pending) {
    auto& node = static_cast<timer_node&>(*pending.next);
    pending.next = node.next;
    node.next->prev = &pending;
    node.prev = node.next = nullptr;
    --_size;
    ++fired;
    node._fn(node, now, _ctx);
  }
  return fired;
}

void timer_wheel::process_tick(std::uint64_t tick, instant now,
                               std::size_t& fired) noexcept {
  _base = tick;
  // Re-file the slots that come round at this tick, coarsest first; what they
  // hold for this very tick lands in level 0's slot for it.
  const unsigned top =
      std::min(_levels - 1, static_cast<unsigned>(std::countr_zero(tick)) / kSlotBits);
  for (unsigned level = top; level >= 1; --level) {
    const auto slot = static_cast<unsigned>((tick >> (level * kSlotBits)) & kSlotMask);
    if ((_bitmap[level] >> slot) & 1U) cascade(level, slot);
  }
  // The tick counts as processed before its callbacks run: a timer they arm
  // for this tick or earlier goes to _deferred (next advance), not back into
  // the slot we are emptying.
  _base = tick + 1;
  const auto slot = static_cast<unsigned>(tick & kSlotMask);
  if ((_bitmap[0] >> slot) & 1U) {
    link pending;
    splice(_slots[slot], pending);
    _bitmap[0] &= ~(std::uint64_t{1} << slot);
    fired += fire_list(pending, now);
  }
}

std::size_t timer_wheel::advance_slow(std::uint64_t target, instant now) noexcept {
  assert(!_in_advance && "timer_wheel::advance called from a timer callback");
  _in_advance = true;
  std::size_t fired = 0;
  if (_deferred.next != &_deferred) {
    // Detach first: what these callbacks defer waits for the next call.
    link pending;
    splice(_deferred, pending);
    fired += fire_list(pending, now);
  }
  // Visit only ticks where some slot is occupied; callbacks may file new
  // timers before `target`, which the next lookup picks up.
  while (_base <= target) {
    const std::uint64_t tick = next_event_tick();
    if (tick > target) break;
    process_tick(tick, now, fired);
  }
  set_base(std::max(_base, target + 1));
  _in_advance = false;
  return fired;
}

std::optional<instant> timer_wheel::next_expiry() const noexcept {
  if (_deferred.next != &_deferred) {
    // Already due: any advance() fires them; report the last processed tick.
    return instant_from_ns((_base == 0 ? 0 : _base - 1) * _tick_ns);
  }
  const std::uint64_t tick = next_event_tick();
  if (tick == std::numeric_limits<std::uint64_t>::max()) return std::nullopt;
  return instant_from_ns(tick * _tick_ns);
}

}  // namespace kbt::base
