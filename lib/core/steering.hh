#pragma once
// Cross-core queues. Packets that a single-queue (or wrongly hashing) port
// delivers to a core that does not own the flow are handed to the owner
// through a steering_fabric; commands between cores (connect on behalf of
// another core, stats snapshot requests) go through a command_queue.
//
// Every queue is a boost::lockfree::spsc_queue: one producer thread, one
// consumer thread, so a push or a pop is an acquire load of the other side's
// index and a release store of one's own: no lock, no CAS loop, wait-free.
// The fabric therefore has one queue per ordered pair of cores, and each core
// must call push() only as `from` and drain() only as `to`.
#include <rte_mbuf.h>

#include <boost/lockfree/spsc_queue.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <type_traits>
#include <vector>

namespace kbt::core {

class steering_fabric {
 public:
  // Start-up: cores x cores queues of `capacity` mbufs each (a power of two),
  // all allocated here. Throws std::invalid_argument on 0 cores or a bad
  // capacity.
  explicit steering_fabric(std::uint16_t cores, std::uint32_t capacity = 4096);
  // Frees the mbufs still queued: call it after the cores have stopped.
  ~steering_fabric();
  steering_fabric(const steering_fabric&) = delete;
  steering_fabric& operator=(const steering_fabric&) = delete;

  // From core `from` to core `to` (from != to): false when that queue is full
  // (the caller frees and counts the mbuf). Only core `from` may call it.
  [[nodiscard]] bool push(std::uint16_t from, std::uint16_t to, rte_mbuf* m) noexcept;
  // Up to out.size() mbufs for core `to`, from every other core's queue in
  // turn; returns the count. Each source first gets an equal share of `out`
  // and whatever is left goes to those with more; the source served first
  // rotates per call, so no core's packets starve. Order is kept per source.
  // Only core `to` may call it.
  std::size_t drain(std::uint16_t to, std::span<rte_mbuf*> out) noexcept;

  [[nodiscard]] std::uint16_t cores() const noexcept { return _cores; }
  [[nodiscard]] std::uint32_t capacity() const noexcept { return _capacity; }

 private:
  using ring = boost::lockfree::spsc_queue<rte_mbuf*>;
  // Own cache lines, so two cores' queues never false-share.
  struct alignas(64) lane {
    explicit lane(std::uint32_t capacity) : q(capacity) {}
    ring q;
  };
  // The consumer's round-robin position; written by core `to` only.
  struct alignas(64) consumer {
    std::uint16_t next_source = 0;
  };

  [[nodiscard]] ring& queue(std::uint16_t from, std::uint16_t to) noexcept {
    return _lanes[std::size_t{from} * _cores + to]->q;
  }

  std::vector<std::unique_ptr<lane>> _lanes;  // [from * cores + to]; null when from == to
  std::unique_ptr<consumer[]> _consumers;     // per `to`
  std::uint16_t _cores;
  std::uint32_t _capacity;
};

// A fixed-capacity queue of small commands between two cores: one producer
// thread, one consumer thread. The storage is inline (no heap), so a
// command_queue lives wherever its owner puts it; give it its own cache
// lines (alignas(64) owner) if it sits next to hot data.
template <class T, std::size_t Capacity>
class command_queue {
  static_assert(std::is_trivially_copyable_v<T> && std::is_default_constructible_v<T>,
                "commands are plain values: copied in and out, never throwing");
  static_assert(Capacity > 0);

 public:
  // Producer side: false when full.
  [[nodiscard]] bool push(const T& command) noexcept { return _q.push(command); }
  // Consumer side: false when empty.
  [[nodiscard]] bool pop(T& command) noexcept { return _q.pop(command); }
  // Consumer side: commands waiting.
  [[nodiscard]] std::size_t pending() const noexcept { return _q.read_available(); }
  // Free places; the producer's view (boost: write_available is producer-side).
  [[nodiscard]] std::size_t room() const noexcept { return _q.write_available(); }
  static constexpr std::size_t capacity() noexcept { return Capacity; }

 private:
  boost::lockfree::spsc_queue<T, boost::lockfree::capacity<Capacity>> _q;
};

}  // namespace kbt::core
