#pragma once
// Connections in TIME-WAIT as compact records instead of whole TCBs.
//
// RFC 9293 §3.10.7.4 (TIME-WAIT STATE in each step) needs very little of a
// closed connection: RCV.NXT to acknowledge a retransmitted FIN and to judge
// segments, SND.NXT to build that ACK and an RST, and with timestamps
// TS.Recent for PAWS (RFC 7323 §5.3) and for RFC 6191's decision whether a new
// SYN may reuse the tuple. Buffers, timers and congestion state are gone. A
// 56-byte record per connection lets a busy server hold the 2*MSL of closed
// connections (RFC 9293 §3.4.2) that a full TCB per connection would not fit,
// as Linux does with inet_timewait_sock.
//
// Layout, all allocated (and touched, so the hot path never page-faults) by
// the constructor, nothing after. Arrays of 2 MiB or more are 2 MiB aligned
// and marked MADV_HUGEPAGE: lookups land at random in tens of megabytes,
// and with 4 KiB pages nearly each one would also miss the TLB.
// - records: one array of `capacity` records; the unused ones form a free
//   list threaded through fifo_next.
// - index: open addressing over uint32 slots, a power of two >= 2*capacity
//   (load <= 1/2: ~1.5 probes for a hit, ~2.5 for a miss), linear probing,
//   deletion by backward shift (Knuth, TAOCP vol. 3 §6.4 Algorithm R), so no
//   tombstones and no periodic rehash. A slot holds the record index + 1 in
//   bits 0-24 (0 = empty) and the top 7 bits of the tuple's hash in bits
//   25-31, so a probe skips 127 of 128 non-matching slots without reading
//   their record (a cache miss in a table of a million). The home slot uses
//   the hash's low bits (at most 25 of them), disjoint from the tag bits.
// - hash: rte_jhash_3words over the tuple with a random seed per table, as
//   Linux's inet_ehashfn() keys jhash with a boot-time secret, so a peer
//   choosing its ports cannot aim them all at one probe sequence.
// - expiry: a doubly-linked FIFO through the records. Every record lives the
//   same lifetime, so appending on insert() and moving to the tail on
//   restart() keeps the FIFO in deadline order: the head is always next to
//   expire, and expire() costs O(records expired). This needs now to be
//   non-decreasing across calls (the engine clock is); were it to step back,
//   records would only expire late by the step, never early.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "base/clock.hh"
#include "tcp/tuple.hh"
#include "wire/seq32.hh"

namespace kbt::tcp {

// One connection in TIME_WAIT, all the protocol still needs (RFC 9293
// §3.10.7.4 TIME-WAIT, RFC 6191, RFC 7323):
struct time_wait_record {
  four_tuple tuple;             // 12
  wire::seq32 snd_nxt;          // our next sequence number (just past our FIN)
  wire::seq32 rcv_nxt;          // just past the peer's FIN
  std::uint32_t ts_recent = 0;  // RFC 7323 TS.Recent (valid when ts_ok)
  std::uint32_t ts_offset = 0;  // our TSval offset (TSval = now_ms + ts_offset)
  std::uint16_t window = 0;     // the window field we last sent (already scaled down)
  bool ts_ok = false;
  bool port_from_pool = false;  // an active open's local port, to hand back on expiry
  // RFC 5961 §7: the ms clock (low 32 bits) when an ACK last answered an
  // invalid segment on this tuple, 0: never (Linux's tw_last_oow_ack_time).
  std::uint32_t last_invalid_ack_ms = 0;

  // The table's bookkeeping: insert() and restart() set these, whatever the
  // caller passed in; callers may read deadline, never write any of them.
  std::uint32_t hash = 0;         // of `tuple`: deletion finds slots without rehashing
  std::uint32_t fifo_prev = 0;    // expiry FIFO neighbours (record indices)
  std::uint32_t fifo_next = 0;    // ... also the free-list link of an unused record
  base::instant deadline{};  // expires when now >= this: last (re)start + lifetime
};

// 56 today. A cache line at most: a find() hit reads one record, and a
// million of them must stay well inside 128 MiB with the index.
static_assert(sizeof(time_wait_record) <= 64);

class time_wait_table {
 public:
  // 2^24 records: the 25 index bits of a slot hold index + 1 for all of them.
  static constexpr std::uint32_t kMaxCapacity = 1U << 24;

  // Start-up: capacity records + an index, all allocated here once, none
  // later. Throws std::invalid_argument if capacity is 0 or > kMaxCapacity
  // (16M). hash_seed: the index's jhash seed; random (getrandom(2), which
  // throws std::runtime_error if the kernel cannot supply it) when absent.
  // Tests and benchmarks pass one to be reproducible.
  time_wait_table(std::uint32_t capacity, base::nanos lifetime,
                  std::optional<std::uint32_t> hash_seed = std::nullopt);

  // nullptr when absent.
  [[nodiscard]] time_wait_record* find(const four_tuple& t) noexcept;
  // Starts loading the slot find(t) reads first, so that a find() a little
  // later does not wait for memory: the slot array is megabytes, and every
  // segment without a connection (a SYN of a flood) looks here.
  void prefetch(const four_tuple& t) const noexcept;

  // Copies `r` in with deadline now + lifetime. nullptr when full or the
  // tuple is already present.
  time_wait_record* insert(const time_wait_record& r, base::instant now) noexcept;

  // 2MSL anew (RFC 9293 §3.10.7.4: a retransmitted FIN restarts the 2 MSL
  // timeout): deadline now + lifetime. `r` is a record of this table.
  void restart(time_wait_record& r, base::instant now) noexcept;

  // Early end (RFC 6191 reuse by a new SYN, an RST honoured against RFC
  // 1337's advice). `r` is a record of this table; it is gone afterwards.
  void erase(time_wait_record& r) noexcept;

  // Removes up to `max` records whose deadline is <= now, oldest first,
  // calling f(const time_wait_record&) for each before it goes (to hand back
  // a pooled port, count, ...); returns how many. Bounded work per call so
  // one poll never stalls. f must not call into this table.
  template <class F>
  std::size_t expire(base::instant now, std::size_t max, F&& f) noexcept {
    std::size_t n = 0;
    while (n < max && _head != kNil) {
      const std::uint32_t idx = _head;
      const time_wait_record& r = _records[idx];
      if (r.deadline > now) break;
      // The next to expire: its record is cold (written a lifetime ago).
      if (r.fifo_next != kNil) __builtin_prefetch(&_records[r.fifo_next]);
      f(r);
      remove(idx);
      ++n;
    }
    return n;
  }

  // The oldest record (next to expire) or nullptr; lets a caller reclaim the
  // oldest on purpose (e.g. to make room when full rather than let a closing
  // connection skip TIME_WAIT).
  [[nodiscard]] time_wait_record* oldest() noexcept {
    return _head == kNil ? nullptr : &_records[_head];
  }

  [[nodiscard]] std::size_t size() const noexcept { return _size; }
  [[nodiscard]] std::uint32_t capacity() const noexcept { return _capacity; }
  // Everything this table allocated (records + index), as allocated: rounded
  // to cache lines, or to 2 MiB for arrays of 2 MiB and more.
  [[nodiscard]] std::size_t memory_bytes() const noexcept;
  [[nodiscard]] base::nanos lifetime() const noexcept { return _lifetime; }

  // For tests, O(capacity): every live record is in the index exactly once
  // and reachable from its home slot, the FIFO links agree both ways and run
  // in deadline order, the free list holds exactly the rest.
  [[nodiscard]] bool check_invariants() const noexcept;

 private:
  static constexpr std::uint32_t kNil = 0xffffffffU;

  std::uint32_t hash_of(const four_tuple& t) const noexcept;
  // The slot holding `t` (hash h), or the empty slot where it would go.
  std::uint32_t find_slot(const four_tuple& t, std::uint32_t h) const noexcept;
  std::uint32_t index_of(const time_wait_record& r) const noexcept;
  void link_tail(std::uint32_t idx) noexcept;
  void unlink(std::uint32_t idx) noexcept;
  // Out of the index (backward shift), out of the FIFO, onto the free list.
  void remove(std::uint32_t idx) noexcept;

  std::uint32_t _capacity;
  base::nanos _lifetime;
  std::uint32_t _slot_mask;  // slots - 1
  std::uint32_t _seed;
  std::size_t _bytes = 0;  // both allocations, as rounded (set while they are made)
  // The arrays come from aligned_alloc (see the constructor), so free().
  struct free_deleter {
    void operator()(void* p) const noexcept;
  };
  std::unique_ptr<time_wait_record[], free_deleter> _records;
  std::unique_ptr<std::uint32_t[], free_deleter> _slots;
  std::size_t _size = 0;
  std::uint32_t _free = kNil;  // free-list head
  std::uint32_t _head = kNil;  // oldest (next to expire)
  std::uint32_t _tail = kNil;  // newest
};

}  // namespace kbt::tcp
