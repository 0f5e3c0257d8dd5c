#pragma once
// One direction of a simulated Ethernet link with seeded impairments, in the
// spirit of Linux netem: loss, duplication, reordering, delay with jitter,
// single-bit corruption, a bandwidth limit with a bounded tail-drop queue,
// and an MTU. Frames are real rte_mbufs; the link owns each from send()
// until deliver_due() hands it over (or it is dropped and freed).
//
// A frame's fate and arrival time are decided when it is sent, from the
// link's own PRNG, so a run depends only on the seed and the sequence of
// send() calls. No clock is read: callers pass the virtual time.
//
// Storage (the in-flight heap and the transmit queue) is allocated in the
// constructor; send() and deliver_due() never allocate.
#include <rte_mbuf.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "prng.hh"

namespace kbt::sim {

inline constexpr std::uint64_t kNever = std::numeric_limits<std::uint64_t>::max();

enum class jitter_shape : std::uint8_t {
  // Uniform in [-jitter_ns, +jitter_ns].
  uniform,
  // Approximately normal (Irwin-Hall sum of 12 uniforms) with standard
  // deviation jitter_ns / 3, cut at +-jitter_ns.
  normal,
};

struct link_config {
  double loss = 0.0;       // probability a frame is lost
  double duplicate = 0.0;  // probability a frame is delivered twice (deep copy)
  double reorder = 0.0;    // probability a frame is held back by reorder_delay_ns
  double corrupt = 0.0;    // probability one bit past the Ethernet header is flipped
  // Extra delay of a reordered frame: frames sent up to this long after it
  // overtake it.
  std::uint64_t reorder_delay_ns = 1'000'000;
  std::uint64_t delay_ns = 0;   // one-way propagation delay
  std::uint64_t jitter_ns = 0;  // bound of the delay variation; 0 = none
  jitter_shape jitter = jitter_shape::uniform;
  // Serialisation rate in bits/s over the frame's bytes (no preamble or
  // inter-frame gap); 0 = unlimited. Frames queue behind each other.
  std::uint64_t bandwidth_bps = 0;
  // The transmit queue (frames waiting for or in serialisation) holds at
  // most this many frames and bytes; beyond, tail drop. queue_bytes 0 = no
  // byte limit. Only meaningful with a bandwidth limit.
  std::uint32_t queue_frames = 1000;
  std::uint64_t queue_bytes = 0;
  // Largest IP packet; a frame longer than mtu + its Ethernet header (14,
  // or 18 with a VLAN tag) is dropped. 0 = no limit.
  std::uint32_t mtu = 1500;
  // Frames in flight (queued or propagating) at once; sizes the storage.
  std::uint32_t capacity = 4096;
};

// Every frame is counted once when sent and once for its fate:
// sent + duplicated == delivered + lost + queue_dropped + mtu_dropped
//                      + capacity_dropped + in_flight().
struct link_counters {
  std::uint64_t sent = 0;              // frames given to send()
  std::uint64_t delivered = 0;         // frames handed out by deliver_due()
  std::uint64_t lost = 0;              // dropped by the loss impairment
  std::uint64_t duplicated = 0;        // extra copies made
  std::uint64_t reordered = 0;         // frames held back by reorder_delay_ns
  std::uint64_t corrupted = 0;         // frames with one bit flipped
  std::uint64_t queue_dropped = 0;     // tail-dropped at the transmit queue
  std::uint64_t mtu_dropped = 0;       // longer than the MTU allows
  std::uint64_t capacity_dropped = 0;  // no room in flight (config.capacity)
  std::uint64_t no_mbuf = 0;           // a duplicate could not be allocated

  bool operator==(const link_counters&) const = default;
  std::string format() const;  // "sent=.. delivered=.. ..." for logs and replays
};

class impaired_link {
 public:
  // Throws std::invalid_argument for an unusable config.
  impaired_link(const link_config& config, std::uint64_t seed);
  ~impaired_link();  // frees every frame still in flight
  impaired_link(const impaired_link&) = delete;
  impaired_link& operator=(const impaired_link&) = delete;

  // Takes ownership of `m` (a frame sent at now_ns) and decides its fate.
  void send(rte_mbuf* m, std::uint64_t now_ns) noexcept;

  // Hands over, in arrival order (ties in send order), up to out.size()
  // frames whose arrival time is <= now_ns; returns how many. The caller
  // owns them.
  std::size_t deliver_due(std::uint64_t now_ns, std::span<rte_mbuf*> out) noexcept;

  // Arrival time of the next frame, or kNever when nothing is in flight.
  std::uint64_t next_arrival_ns() const noexcept;
  std::size_t in_flight() const noexcept { return _heap.size(); }

  // Changes the impairments mid-run (e.g. corruption after a handshake).
  // capacity and queue_frames size the storage and must stay as they were.
  void reconfigure(const link_config& config);

  const link_config& config() const noexcept { return _config; }
  const link_counters& counters() const noexcept { return _counters; }

 private:
  // A frame in flight. `order` breaks ties between equal arrival times so
  // that the delivery order never depends on the heap's internals.
  struct flight {
    std::uint64_t arrival_ns;
    std::uint64_t order;
    rte_mbuf* m;
  };
  // Serialisation end of a frame still in the transmit queue.
  struct queued {
    std::uint64_t finish_ns;
    std::uint32_t bytes;
  };

  void enqueue(rte_mbuf* m, std::uint64_t now_ns) noexcept;
  bool over_mtu(const rte_mbuf* m) const noexcept;
  void corrupt_one_bit(rte_mbuf* m) noexcept;
  std::int64_t jitter_sample() noexcept;
  void retire_queue(std::uint64_t now_ns) noexcept;
  std::uint64_t serialise(std::uint32_t bytes, std::uint64_t now_ns) noexcept;

  link_config _config;
  prng _rng;
  link_counters _counters;
  std::vector<flight> _heap;   // min-heap on (arrival_ns, order), capacity reserved
  std::uint64_t _next_order = 0;
  // Transmit queue as a ring of queue_frames entries, oldest at _queue_head.
  std::vector<queued> _queue;
  std::size_t _queue_head = 0;
  std::size_t _queue_len = 0;
  std::uint64_t _queue_bytes = 0;
  // When the transmitter is free again, in units of 1/bandwidth_bps ns, so
  // that serialisation times add up exactly instead of rounding per frame.
  __extension__ unsigned __int128 _busy_until_scaled = 0;
};

}  // namespace kbt::sim
