#include "sim_world.hh"

#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <algorithm>
#include <cstdio>

#include "dev/offload_defects.hh"
#include "dev/port.hh"
#include "base/startup_error.hh"

namespace kbt::sim {
namespace {

constexpr unsigned kBurst = 32;
constexpr unsigned kPoolCache = 64;

// DPDK object names are process-global; each world gets its own number.
unsigned g_world_serial = 0;

// Wrong checksums described per world; the count goes on.
constexpr std::uint64_t kFaultsReported = 3;

void print_fault(const std::string& what) { std::fprintf(stderr, "sim_world: %s\n", what.c_str()); }
void (*g_fault_hook)(const std::string&) = &print_fault;

std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) noexcept {
  return a > kNever - b ? kNever : a + b;
}

}  // namespace

void set_checksum_fault_hook(void (*hook)(const std::string& what)) {
  g_fault_hook = hook != nullptr ? hook : &print_fault;
}

sim_world::sim_world(const world_config& config)
    : _config(config), _clock(config.start_ns) {
  const std::string name = "sim" + std::to_string(g_world_serial++);
  try {
    for (side s : {side::a, side::b}) {
      const std::size_t i = index(s);
      const std::string n = name + (s == side::a ? "a" : "b");
      _pools[i] = rte_pktmbuf_pool_create((n + "_pool").c_str(), config.pool_size, kPoolCache, 0,
                                          dev::mbuf_data_room(config.mtu), SOCKET_ID_ANY);
      if (_pools[i] == nullptr) {
        throw base::startup_error("sim pool " + n + ": " + rte_strerror(rte_errno));
      }
      _ports[i] = dev::make_ring_port(n, config.ring_size);
      _port_open[i] = true;
      dev::port_config pc;
      pc.port_id = _ports[i].port_id;
      rte_mempool* pools[] = {_pools[i]};
      _info[i] = dev::open_port(pc, pools);
      if (config.offload != tx_offload::none) {
        // What open_port would agree to on such a driver.
        _info[i].driver = driver_of(config.offload);
        _info[i].offloads.tx_ipv4_cksum = true;
        _info[i].offloads.tx_tcp_cksum = true;
        _info[i].offloads = dev::without_known_defects(_info[i].driver, _info[i].offloads);
      }
    }
    // Sub-seeds 0 and 1 for the links, 2 and 3 for the endpoints.
    _links[0] = std::make_unique<impaired_link>(config.a_to_b, sub_seed(config.seed, 0));
    _links[1] = std::make_unique<impaired_link>(config.b_to_a, sub_seed(config.seed, 1));
  } catch (...) {
    release();
    throw;
  }
}

sim_world::~sim_world() { release(); }

void sim_world::release() noexcept {
  for (std::size_t i = 0; i < 2; ++i) {
    if (_port_open[i]) dev::destroy_ring_port(_ports[i]);  // frees what the rings hold
    _port_open[i] = false;
    _links[i].reset();  // frees what is in flight
  }
  for (rte_mempool*& pool : _pools) {
    if (pool == nullptr) continue;
    // An endpoint that outlived the world still holds mbufs: leaking the
    // pool beats a use-after-free when it frees them.
    const unsigned in_use = _config.pool_size - rte_mempool_avail_count(pool);
    if (in_use == 0) {
      rte_mempool_free(pool);
    } else {
      std::fprintf(stderr, "sim_world: %u mbufs still in use; pool %s left allocated\n", in_use,
                   pool->name);
    }
    pool = nullptr;
  }
}

core::engine_config sim_world::endpoint_config(side s, wire::mac_addr mac,
                                               wire::ipv4_addr ip) const {
  core::engine_config ec;
  ec.port_id = port(s).port_id;
  ec.pool = pool(s);
  ec.mac = mac;
  ec.ip = {ip, 24};
  ec.offloads = port(s).offloads;
  ec.tcp_layer.start = now();
  return ec;
}

std::uint64_t sim_world::endpoint_seed(side s) const noexcept {
  return sub_seed(_config.seed, 2 + index(s));
}

void sim_world::step() {
  const std::uint64_t now = _clock.now_ns();
  deliver(side::b, now);
  deliver(side::a, now);
  for (side s : {side::a, side::b}) {
    if (_poll[index(s)]) _poll[index(s)](now);
  }
  collect(side::a, now);
  collect(side::b, now);
  ++_steps;
}

void sim_world::deliver(side receiver, std::uint64_t now_ns) {
  impaired_link& link = *_links[index(peer_of(receiver))];
  rte_ring* rx = _ports[index(receiver)].to_port;
  std::array<rte_mbuf*, kBurst> burst;
  for (;;) {
    const std::size_t n = link.deliver_due(now_ns, burst);
    for (std::size_t i = 0; i < n; ++i) {
      if (_filter && !_filter(receiver, burst[i])) {
        ++_counters.filtered;
        rte_pktmbuf_free(burst[i]);
        continue;
      }
      if (_observer) _observer(receiver, burst[i]);
      if (_config.rx_into_receiver_pool) {
        rte_mbuf* own = rte_pktmbuf_copy(burst[i], _pools[index(receiver)], 0, UINT32_MAX);
        rte_pktmbuf_free(burst[i]);
        if (own == nullptr) {
          ++_counters.rx_no_mbuf[index(receiver)];
          continue;
        }
        burst[i] = own;
      }
      if (rte_ring_enqueue(rx, burst[i]) != 0) {
        ++_counters.rx_ring_full;
        rte_pktmbuf_free(burst[i]);
      }
    }
    if (n < burst.size()) return;
  }
}

// What a wire does: the bytes leave, the sender's buffers stay behind. A
// transmitted chain may hold indirect mbufs that share the sender's send
// buffer (zero-copy TCP); corrupting or keeping those in place would reach
// back into the sender. A flat copy also gives the receiver what a NIC
// gives it: one segment per frame.
rte_mbuf* sim_world::serialise(rte_mbuf* m) noexcept {
  if (m->nb_segs == 1 && RTE_MBUF_DIRECT(m) && rte_mbuf_refcnt_read(m) == 1) return m;
  rte_mbuf* flat = rte_pktmbuf_copy(m, m->pool, 0, UINT32_MAX);
  rte_pktmbuf_free(m);
  if (flat == nullptr) ++_counters.copy_failed;
  return flat;
}

void sim_world::collect(side sender, std::uint64_t now_ns) {
  impaired_link& link = *_links[index(sender)];
  rte_ring* tx = _ports[index(sender)].from_port;
  std::array<void*, kBurst> burst;
  for (;;) {
    const unsigned n = rte_ring_dequeue_burst(tx, burst.data(), kBurst, nullptr);
    for (unsigned i = 0; i < n; ++i) {
      auto* m = static_cast<rte_mbuf*>(burst[i]);
      perform_tx_offload(m, _config.offload);
      rte_mbuf* frame = serialise(m);
      if (frame == nullptr) continue;
      check_checksums(sender, frame);
      link.send(frame, now_ns);
    }
    if (n < kBurst) return;
  }
}

// As the receiving host would, before the link may corrupt anything.
void sim_world::check_checksums(side sender, const rte_mbuf* frame) {
  const std::string fault = checksum_fault(frame);
  if (fault.empty()) return;
  if (++_counters.bad_checksums <= kFaultsReported) {
    g_fault_hook(std::string("frame from ") + (sender == side::a ? "A" : "B") + " at t=" +
                 std::to_string(_clock.now_ns()) + ": " + fault);
  }
}

std::uint64_t sim_world::next_step_ns(std::uint64_t deadline_ns) const noexcept {
  const std::uint64_t now = _clock.now_ns();
  // A polled endpoint with frames still waiting (more than a burst arrived)
  // is polled again at once, as a busy poll loop would.
  for (side s : {side::a, side::b}) {
    if (_poll[index(s)] && rte_ring_count(_ports[index(s)].to_port) != 0) return now;
  }
  std::uint64_t t = saturating_add(now, _config.granularity_ns);
  for (const auto& link : _links) t = std::min(t, link->next_arrival_ns());
  return std::clamp(t, now, deadline_ns);
}

run_result sim_world::run_until(const std::function<bool()>& done, std::uint64_t max_virtual_ns,
                                std::uint64_t max_steps) {
  const std::uint64_t deadline = saturating_add(_clock.now_ns(), max_virtual_ns);
  run_result r;
  bool spent = false;
  for (;;) {
    if (done && done()) {
      r.done = true;
      break;
    }
    if (r.steps == max_steps || spent) break;
    // The deadline itself gets one step, then the budget is spent.
    const bool at_deadline = _clock.now_ns() == deadline;
    step();
    ++r.steps;
    if (at_deadline) {
      spent = true;
    } else {
      _clock.advance_to(next_step_ns(deadline));
    }
  }
  r.now_ns = _clock.now_ns();
  return r;
}

run_result sim_world::run_for(std::uint64_t virtual_ns, std::uint64_t max_steps) {
  return run_until(nullptr, virtual_ns, max_steps);
}

bool sim_world::quiescent() const noexcept {
  for (std::size_t i = 0; i < 2; ++i) {
    if (_links[i]->in_flight() != 0) return false;
    if (rte_ring_count(_ports[i].to_port) != 0 || rte_ring_count(_ports[i].from_port) != 0) {
      return false;
    }
  }
  return true;
}

unsigned sim_world::mbufs_in_use() const noexcept {
  unsigned n = 0;
  for (rte_mempool* pool : _pools) n += _config.pool_size - rte_mempool_avail_count(pool);
  return n;
}

}  // namespace kbt::sim
