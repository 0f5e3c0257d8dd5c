#pragma once
// The simulation driver for two endpoints, A and B. Each endpoint sits on
// its own in-process ring port (dev/ring_port.hh) and sees an ordinary
// ethdev; between them the world moves frames through two impaired links,
// one per direction, on a virtual clock:
//
//   A's from_port --> link A->B --> B's to_port      (and the same B -> A)
//
// The endpoints are callbacks `poll(now_ns)`, so the same driver runs two
// core::engines today and TCP stacks later. One seed drives everything:
// each link gets a sub-seed of it, and endpoints may ask for their own.
//
// Endpoints hold mbufs from the world's pools, so they must be destroyed
// before the world.
#include <rte_mempool.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/engine.hh"
#include "dev/port.hh"
#include "dev/ring_port.hh"
#include "impaired_link.hh"
#include "virtual_clock.hh"
#include "wire_check.hh"

namespace kbt::sim {

enum class side : std::uint8_t { a = 0, b = 1 };

constexpr side peer_of(side s) noexcept { return s == side::a ? side::b : side::a; }

struct world_config {
  std::uint64_t seed = 1;
  link_config a_to_b;
  link_config b_to_a;
  // Virtual time at the start. Not zero, so that code which treats 0 as
  // "never" is not surprised by the first instant.
  std::uint64_t start_ns = 1'000'000'000;
  // The longest the clock jumps between two steps when no frame is due
  // sooner: the endpoints' timers are seen at least this often.
  std::uint64_t granularity_ns = 100'000;
  unsigned pool_size = 2047;  // mbufs per endpoint pool
  unsigned ring_size = 1024;  // each ring of each port
  std::uint16_t mtu = 1500;   // sizes the pools' mbufs (dev::mbuf_data_room)
  // The checksum offloads both ports offer and how they carry them out
  // (wire_check.hh); the endpoints see them, less the driver's known
  // defects, in port(s).offloads.
  tx_offload offload = tx_offload::none;
  // As a NIC does: a received frame goes into an mbuf of the receiver's
  // own pool, and when that pool is empty the frame is lost (rx_no_mbuf).
  // Off, the sender's mbuf crosses as it is (what most tests need).
  bool rx_into_receiver_pool = false;

  // A clean link, 100 us each way: what the tests of one behaviour use.
  static world_config short_link(std::uint64_t seed) noexcept {
    world_config wc;
    wc.seed = seed;
    wc.a_to_b.delay_ns = 100'000;
    wc.b_to_a.delay_ns = 100'000;
    return wc;
  }
};

struct run_result {
  bool done = false;        // the predicate held
  std::uint64_t steps = 0;  // steps taken by this call
  std::uint64_t now_ns = 0;
};

// Frames the world itself had to drop: an rx ring that was full.
struct world_counters {
  std::uint64_t rx_ring_full = 0;
  std::uint64_t copy_failed = 0;  // no mbuf to serialise a chained frame: dropped
  std::uint64_t filtered = 0;     // dropped by the test's filter
  // Frames an endpoint sent with a checksum the receiving host would reject.
  std::uint64_t bad_checksums = 0;
  // rx_into_receiver_pool: frames lost for want of an mbuf, per receiver.
  std::array<std::uint64_t, 2> rx_no_mbuf{};
};

// Called with a description of each of the first few frames of a world
// whose checksums are wrong (kbt-sim makes it a test failure); by default
// the description goes to stderr.
void set_checksum_fault_hook(void (*hook)(const std::string& what));

class sim_world {
 public:
  using poll_fn = std::function<void(std::uint64_t now_ns)>;
  // Sees each frame as the link delivers it, before the endpoint does.
  using observer_fn = std::function<void(side receiver, const rte_mbuf* frame)>;

  // Creates the pools, ports and links. Throws base::startup_error (DPDK)
  // or std::invalid_argument (link config).
  explicit sim_world(const world_config& config);
  ~sim_world();
  sim_world(const sim_world&) = delete;
  sim_world& operator=(const sim_world&) = delete;

  void set_poll(side s, poll_fn poll) { _poll[index(s)] = std::move(poll); }
  void set_observer(observer_fn observer) { _observer = std::move(observer); }
  // A test's own loss: frames for which `filter` returns false are dropped
  // (counted as filtered) before the receiver sees them.
  using filter_fn = std::function<bool(side receiver, const rte_mbuf* frame)>;
  void set_filter(filter_fn filter) { _filter = std::move(filter); }

  const dev::port_info& port(side s) const noexcept { return _info[index(s)]; }
  // An engine on side `s` as `mac` and `ip`/24: its port, pool and offloads,
  // started now. Endpoints add TCP and keys.
  core::engine_config endpoint_config(side s, wire::mac_addr mac, wire::ipv4_addr ip) const;
  rte_mempool* pool(side s) const noexcept { return _pools[index(s)]; }
  // The link that carries what `s` transmits.
  impaired_link& link_from(side s) noexcept { return *_links[index(s)]; }
  const impaired_link& link_from(side s) const noexcept { return *_links[index(s)]; }
  // A seed for an endpoint's own randomness (ISNs, ports), derived from the
  // world's seed and distinct from the links'.
  std::uint64_t endpoint_seed(side s) const noexcept;

  std::uint64_t now_ns() const noexcept { return _clock.now_ns(); }
  // The same reading as the stack's clock type, for calls into the stack.
  base::instant now() const noexcept { return base::instant_from_ns(_clock.now_ns()); }
  virtual_clock& clock() noexcept { return _clock; }
  const world_config& config() const noexcept { return _config; }
  const world_counters& counters() const noexcept { return _counters; }
  std::uint64_t steps() const noexcept { return _steps; }

  // One step at the current time: frames due on each link go onto the
  // receiver's rx ring, A then B poll, and what they transmitted enters the
  // links. The clock does not move.
  void step();

  // Steps and advances the clock until `done()` holds (checked before each
  // step), at most `max_virtual_ns` of virtual time from now and at most
  // `max_steps` steps. The clock moves to the earliest of: now +
  // granularity, the next link arrival, the budget's end; it stays put
  // while an rx ring still holds frames for a polled endpoint.
  run_result run_until(const std::function<bool()>& done, std::uint64_t max_virtual_ns,
                       std::uint64_t max_steps);
  // The same with no predicate: runs the whole budget.
  run_result run_for(std::uint64_t virtual_ns, std::uint64_t max_steps);

  // No frame in either link or any ring.
  bool quiescent() const noexcept;
  // mbufs of both pools not back in their pool.
  unsigned mbufs_in_use() const noexcept;

 private:
  static constexpr std::size_t index(side s) noexcept { return static_cast<std::size_t>(s); }

  void release() noexcept;  // what the destructor does; also on a failed construction
  void deliver(side receiver, std::uint64_t now_ns);
  void collect(side sender, std::uint64_t now_ns);
  rte_mbuf* serialise(rte_mbuf* m) noexcept;
  void check_checksums(side sender, const rte_mbuf* frame);
  std::uint64_t next_step_ns(std::uint64_t deadline_ns) const noexcept;

  world_config _config;
  virtual_clock _clock;
  world_counters _counters;
  std::uint64_t _steps = 0;
  std::array<rte_mempool*, 2> _pools{};
  std::array<dev::ring_port, 2> _ports{};
  std::array<bool, 2> _port_open{};
  std::array<dev::port_info, 2> _info{};
  std::array<std::unique_ptr<impaired_link>, 2> _links;
  std::array<poll_fn, 2> _poll;
  observer_fn _observer;
  filter_fn _filter;
};

}  // namespace kbt::sim
