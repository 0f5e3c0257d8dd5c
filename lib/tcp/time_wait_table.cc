#include "tcp/time_wait_table.hh"

#include <rte_jhash.h>
#include <rte_prefetch.h>
#include <sys/mman.h>

#include <bit>
#include <cassert>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "tcp/isn.hh"

namespace kbt::tcp {

namespace {

// A slot: record index + 1 in the low bits, a hash tag in the high ones.
constexpr std::uint32_t kIndexBits = 25;
constexpr std::uint32_t kIndexMask = (1U << kIndexBits) - 1;
constexpr std::uint32_t kTagMask = ~kIndexMask;
static_assert(time_wait_table::kMaxCapacity <= kIndexMask);
// The home slot takes at most kIndexBits of the hash, so tag and home never share a bit.
static_assert(std::bit_ceil(std::uint64_t{2} * time_wait_table::kMaxCapacity) - 1 <= kIndexMask);

// fifo_prev of a record on the free list: lets check_invariants() and the
// debug asserts tell a live record from a free one.
// Freed with free(), no destructor run.
static_assert(std::is_trivially_destructible_v<time_wait_record>);

constexpr std::uint32_t kFreeMark = 0xfffffffeU;

// Records of a cluster prefetched before a backward shift. At load <= 1/2
// the rest of a cluster is short on average; this bounds the burst.
constexpr std::uint32_t kPrefetchAhead = 8;

constexpr std::uint32_t slot_of(std::uint32_t hash, std::uint32_t idx) noexcept {
  return (hash & kTagMask) | (idx + 1);
}

std::uint32_t checked_capacity(std::uint32_t capacity) {
  if (capacity == 0 || capacity > time_wait_table::kMaxCapacity) {
    throw std::invalid_argument("TIME_WAIT table capacity " + std::to_string(capacity) +
                                " is out of range: set max_time_wait to 1.." +
                                std::to_string(time_wait_table::kMaxCapacity));
  }
  return capacity;
}

std::uint32_t random_seed() {
  const siphash_key k = random_siphash_key();
  std::uint32_t seed = 0;
  std::memcpy(&seed, k.data(), sizeof seed);
  return seed;
}

constexpr std::size_t kHugePage = std::size_t{2} << 20;
constexpr std::size_t kCacheLine = 64;

constexpr std::size_t round_up(std::size_t n, std::size_t to) noexcept {
  return (n + to - 1) / to * to;
}

// `n` value-initialised objects (zeroes, for the types here: every page is
// written now and none faults in on the hot path) in memory to be freed
// with free(). Adds the bytes taken to `bytes`.
template <class T>
T* allocate_array(std::size_t n, std::size_t& bytes) {
  const std::size_t want = n * sizeof(T);
  const std::size_t align = want >= kHugePage ? kHugePage : kCacheLine;
  const std::size_t size = round_up(want, align);
  void* p = std::aligned_alloc(align, size);
  if (p == nullptr) throw std::bad_alloc();
  // Before the first touch, so the faults below take huge pages. Advice
  // only: without transparent huge pages it fails and changes nothing.
  if (align == kHugePage) static_cast<void>(madvise(p, size, MADV_HUGEPAGE));
  bytes += size;
  T* a = static_cast<T*>(p);
  std::uninitialized_value_construct_n(a, n);
  return a;
}

}  // namespace

void time_wait_table::free_deleter::operator()(void* p) const noexcept { std::free(p); }

time_wait_table::time_wait_table(std::uint32_t capacity, base::nanos lifetime,
                                 std::optional<std::uint32_t> hash_seed)
    : _capacity(checked_capacity(capacity)),
      _lifetime(lifetime),
      _slot_mask(static_cast<std::uint32_t>(std::bit_ceil(std::uint64_t{2} * capacity) - 1)),
      _seed(hash_seed ? *hash_seed : random_seed()),
      _records(allocate_array<time_wait_record>(capacity, _bytes)),
      _slots(allocate_array<std::uint32_t>(std::size_t{_slot_mask} + 1, _bytes)) {
  for (std::uint32_t i = 0; i < capacity; ++i) {
    _records[i].fifo_prev = kFreeMark;
    _records[i].fifo_next = i + 1 < capacity ? i + 1 : kNil;
  }
  _free = 0;
}

std::size_t time_wait_table::memory_bytes() const noexcept { return _bytes; }

std::uint32_t time_wait_table::hash_of(const four_tuple& t) const noexcept {
  // Copied out as words rather than read through a cast pointer: the ports
  // are uint16_t, and aliasing them as uint32_t is undefined.
  std::uint32_t w[3];
  static_assert(sizeof w == sizeof t);
  std::memcpy(w, &t, sizeof w);
  return rte_jhash_3words(w[0], w[1], w[2], _seed);
}

std::uint32_t time_wait_table::find_slot(const four_tuple& t, std::uint32_t h) const noexcept {
  const std::uint32_t tag = h & kTagMask;
  // Ends: at most half the slots are full, so an empty one always comes.
  for (std::uint32_t i = h & _slot_mask;; i = (i + 1) & _slot_mask) {
    const std::uint32_t s = _slots[i];
    if (s == 0) return i;
    // The record is read only when the tag matches (1 in 128 otherwise).
    if ((s & kTagMask) == tag && _records[(s & kIndexMask) - 1].tuple == t) return i;
  }
}

void time_wait_table::prefetch(const four_tuple& t) const noexcept {
  if (_size != 0) rte_prefetch0(&_slots[hash_of(t) & _slot_mask]);
}

std::uint32_t time_wait_table::index_of(const time_wait_record& r) const noexcept {
  const auto idx = static_cast<std::uint32_t>(&r - _records.get());
  assert(idx < _capacity && r.fifo_prev != kFreeMark);
  return idx;
}

time_wait_record* time_wait_table::find(const four_tuple& t) noexcept {
  if (_size == 0) return nullptr;  // no need to touch a cold slot
  const std::uint32_t s = _slots[find_slot(t, hash_of(t))];
  return s == 0 ? nullptr : &_records[(s & kIndexMask) - 1];
}

time_wait_record* time_wait_table::insert(const time_wait_record& r,
                                          base::instant now) noexcept {
  if (_size == _capacity) return nullptr;
  const std::uint32_t h = hash_of(r.tuple);
  const std::uint32_t slot = find_slot(r.tuple, h);
  if (_slots[slot] != 0) return nullptr;  // already in TIME_WAIT
  const std::uint32_t idx = _free;
  time_wait_record& rec = _records[idx];
  _free = rec.fifo_next;
  rec = r;
  rec.hash = h;
  rec.deadline = now + _lifetime;
  link_tail(idx);
  _slots[slot] = slot_of(h, idx);
  ++_size;
  return &rec;
}

void time_wait_table::restart(time_wait_record& r, base::instant now) noexcept {
  const std::uint32_t idx = index_of(r);
  r.deadline = now + _lifetime;
  // The newest deadline belongs at the tail, which keeps the FIFO sorted.
  if (idx != _tail) {
    unlink(idx);
    link_tail(idx);
  }
}

void time_wait_table::erase(time_wait_record& r) noexcept { remove(index_of(r)); }

void time_wait_table::link_tail(std::uint32_t idx) noexcept {
  time_wait_record& r = _records[idx];
  r.fifo_prev = _tail;
  r.fifo_next = kNil;
  if (_tail != kNil) {
    _records[_tail].fifo_next = idx;
  } else {
    _head = idx;
  }
  _tail = idx;
}

void time_wait_table::unlink(std::uint32_t idx) noexcept {
  const time_wait_record& r = _records[idx];
  if (r.fifo_prev != kNil) {
    _records[r.fifo_prev].fifo_next = r.fifo_next;
  } else {
    _head = r.fifo_next;
  }
  if (r.fifo_next != kNil) {
    _records[r.fifo_next].fifo_prev = r.fifo_prev;
  } else {
    _tail = r.fifo_prev;
  }
}

void time_wait_table::remove(std::uint32_t idx) noexcept {
  time_wait_record& r = _records[idx];
  // The slot is found by its exact value: the stored hash gives the home
  // and the tag, the index tells it apart; no tuple is compared.
  const std::uint32_t want = slot_of(r.hash, idx);
  std::uint32_t hole = r.hash & _slot_mask;
  while (_slots[hole] != want) hole = (hole + 1) & _slot_mask;
  // The shift below reads the hash of every record in the rest of the
  // cluster; asking for the first few together overlaps their cache misses
  // instead of paying them one after another.
  for (std::uint32_t j = (hole + 1) & _slot_mask, n = 0; n < kPrefetchAhead && _slots[j] != 0;
       j = (j + 1) & _slot_mask, ++n) {
    rte_prefetch0(&_records[(_slots[j] & kIndexMask) - 1].hash);
  }
  // Backward shift (TAOCP vol. 3 §6.4 Algorithm R): walk the cluster after
  // the hole; an entry may fill the hole only if the hole lies between its
  // home and its slot (cyclically), or a probe from its home would stop at
  // the hole and miss it. Then the hole moves to where that entry was.
  for (std::uint32_t j = (hole + 1) & _slot_mask; _slots[j] != 0; j = (j + 1) & _slot_mask) {
    const std::uint32_t s = _slots[j];
    const std::uint32_t home = _records[(s & kIndexMask) - 1].hash & _slot_mask;
    if (((j - home) & _slot_mask) >= ((j - hole) & _slot_mask)) {
      _slots[hole] = s;
      hole = j;
    }
  }
  _slots[hole] = 0;

  unlink(idx);
  r.fifo_prev = kFreeMark;
  r.fifo_next = _free;
  _free = idx;
  --_size;
}

bool time_wait_table::check_invariants() const noexcept {
  // Index: each full slot names a live record whose hash and tag agree, and
  // no empty slot lies between the record's home and its slot.
  std::size_t full = 0;
  for (std::uint32_t i = 0; i <= _slot_mask; ++i) {
    const std::uint32_t s = _slots[i];
    if (s == 0) continue;
    ++full;
    const std::uint32_t idx = (s & kIndexMask) - 1;
    if (idx >= _capacity) return false;
    const time_wait_record& r = _records[idx];
    if (r.fifo_prev == kFreeMark || r.hash != hash_of(r.tuple) || s != slot_of(r.hash, idx)) {
      return false;
    }
    for (std::uint32_t k = r.hash & _slot_mask; k != i; k = (k + 1) & _slot_mask) {
      if (_slots[k] == 0) return false;
    }
  }
  if (full != _size) return false;

  // FIFO: size records from head to tail, links agree, deadlines sorted, and
  // each is found in the index (with `full == size`, exactly once).
  std::size_t n = 0;
  std::uint32_t prev = kNil;
  for (std::uint32_t i = _head; i != kNil; i = _records[i].fifo_next) {
    if (i >= _capacity || ++n > _size) return false;
    const time_wait_record& r = _records[i];
    if (r.fifo_prev != prev) return false;
    if (prev != kNil && _records[prev].deadline > r.deadline) return false;
    if (_slots[find_slot(r.tuple, r.hash)] != slot_of(r.hash, i)) return false;
    prev = i;
  }
  if (n != _size || prev != _tail) return false;

  // Free list: the other capacity - size records.
  std::size_t free_count = 0;
  for (std::uint32_t i = _free; i != kNil; i = _records[i].fifo_next) {
    if (i >= _capacity || ++free_count > _capacity - _size) return false;
    if (_records[i].fifo_prev != kFreeMark) return false;
  }
  return free_count == _capacity - _size;
}

}  // namespace kbt::tcp
