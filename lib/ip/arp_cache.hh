#pragma once
// The neighbour (ARP) cache of one core: IPv4 next hop -> MAC, with the
// packets that wait for a resolution.
//
// Pure logic, as smoltcp's neighbor cache: it never transmits and never reads
// a clock. The per-core engine passes `now_ns` and acts on what comes back
// (send an ARP request, transmit released packets). All storage is allocated
// in the constructor; every later operation is noexcept and allocation-free.
//
// Entry life cycle:
//   absent --resolve--> incomplete --update--> reachable --(reachable_time)--> absent
//   incomplete --(max_requests sent, last one unanswered)--> absent (queue freed)
// An expired reachable entry behaves as absent everywhere; expire() reclaims it.
//
// Ownership of packets (rte_mbuf*):
//   - resolve() takes ownership of `pkt` in every outcome except `ready`: it is
//     either queued (the cache holds it) or freed by the cache.
//   - update() hands queued packets back: the caller owns what it receives.
//   - expire(), eviction and the destructor free queued packets themselves.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "wire/addr.hh"

struct rte_mbuf;

namespace kbt::ip {

struct arp_cache_config {
  // Neighbours held at once; the table is sized for this at construction.
  std::uint32_t capacity = 1024;
  // How long a confirmed MAC is trusted. RFC 1122 §2.3.2.1 asks for a timeout
  // on entries; 60 s is in the range the kernels use (Linux base_reachable_time
  // is 30 s, randomised; FreeBSD's arpt_keep is 20 min).
  std::uint64_t reachable_time_ns = 60'000'000'000;
  // RFC 1122 §2.3.2.1: at most one request per second per destination.
  std::uint64_t retry_interval_ns = 1'000'000'000;
  // Requests sent before giving up on a neighbour (the first one included).
  std::uint8_t max_requests = 3;
  // RFC 1122 §2.3.2.2 asks to keep at least one packet per unresolved
  // destination. A client opening its connections at once sends them all to
  // one neighbour before it answers: with 8, kbt-load's 100 SYNs lost 92,
  // which waited out the 1 s SYN timeout (the benchmark's p99). Linux keeps
  // 212992 bytes, about 100 full frames. At most kMaxQueuePerNeighbour.
  static constexpr std::uint16_t kMaxQueuePerNeighbour = 256;
  std::uint16_t queue_per_neighbour = 128;
  // Packets waiting across all neighbours, so a scan of unreachable addresses
  // cannot hold the whole mempool.
  std::uint32_t queue_total = 512;
  // Odd multiplier of the multiplicative hash. A per-core random value keeps a
  // peer that chooses addresses from predicting slots; tests pass 1 so that
  // every address in a /24 lands on the same slot.
  std::uint32_t hash_seed = 0x9e3779b1U;
};

// Owner writes, others may read relaxed (monotonic, never reset).
struct arp_cache_counters {
  std::uint64_t hits = 0;                 // resolve() found a reachable MAC
  std::uint64_t misses = 0;               // resolve() did not
  std::uint64_t requests_needed = 0;      // times the caller was told to send a request
  std::uint64_t queued = 0;               // packets taken into a wait queue
  std::uint64_t queue_drops = 0;          // waiting packets freed by the cache, any reason
  std::uint64_t resolution_failures = 0;  // neighbours given up after max_requests
  std::uint64_t evictions = 0;            // entries removed to make room
  std::uint64_t expirations = 0;          // reachable entries reclaimed after reachable_time
};

enum class resolve_status : std::uint8_t {
  ready,                 // MAC known; the caller still owns pkt and sends it to *mac
  queued_send_request,   // pkt queued (cache owns it); caller must send an ARP request
  queued,                // pkt queued (cache owns it); a request is already outstanding
  dropped_send_request,  // queue full: pkt freed and counted; caller must still send a request
  dropped,               // queue full: pkt freed and counted; nothing to send
  // queue full, and the caller asked to keep its packet: pkt is still the
  // caller's (nothing counted); a request is asked for as with dropped*
  refused_send_request,
  refused,
};

struct resolve_result {
  resolve_status status = resolve_status::dropped;
  const wire::mac_addr* mac = nullptr;  // set only for `ready`; valid until the next non-const call

  constexpr bool ready() const noexcept { return status == resolve_status::ready; }
  constexpr bool send_request() const noexcept {
    return status == resolve_status::queued_send_request ||
           status == resolve_status::dropped_send_request ||
           status == resolve_status::refused_send_request;
  }
  constexpr bool refused() const noexcept {
    return status == resolve_status::refused || status == resolve_status::refused_send_request;
  }
};

class arp_cache {
 public:
  // Throws std::invalid_argument for an unusable config (start-up only).
  explicit arp_cache(const arp_cache_config& config = {});
  ~arp_cache();  // frees every queued packet

  // Queued packets are raw pointers: a copy would double-free, a defaulted move
  // would leave a half-valid table. The engine constructs the cache in place.
  arp_cache(const arp_cache&) = delete;
  arp_cache& operator=(const arp_cache&) = delete;
  arp_cache(arp_cache&&) = delete;
  arp_cache& operator=(arp_cache&&) = delete;

  // The MAC of a reachable, unexpired neighbour, or nullptr. The pointer stays
  // valid until the next non-const call. Counts nothing.
  const wire::mac_addr* lookup(wire::ipv4_addr ip, std::uint64_t now_ns) const noexcept;

  // Route `pkt` (non-null, its Ethernet header still to fill) towards
  // `next_hop` (a unicast on-link address; broadcast and multicast are the
  // caller's to map). See resolve_status for what the caller does next and
  // who owns `pkt`. A request is asked for on the first packet and then at
  // most once per retry_interval while the neighbour stays unresolved.
  // With `keep_if_full`, a packet the neighbour's full queue cannot take is
  // handed back (refused*) instead of freed: a sender that can wait (TCP)
  // sends it later rather than losing it to its retransmission timer.
  resolve_result resolve(wire::ipv4_addr next_hop, rte_mbuf* pkt, std::uint64_t now_ns,
                         bool keep_if_full = false) noexcept;

  // A received ARP packet's sender <ip, mac> (RFC 826 "merge"): refresh an
  // existing entry from any ARP packet; create one only when `create` (the
  // packet was addressed to us). The entry becomes reachable until
  // now + reachable_time. Packets that waited for it are written, oldest
  // first, to `released` and their count returned: the caller owns them,
  // fills in the destination MAC and transmits. Pass room for
  // queue_per_neighbour packets; any that do not fit are freed and counted.
  // A multicast or zero `mac` is ignored (it would poison the cache).
  std::size_t update(wire::ipv4_addr ip, const wire::mac_addr& mac, std::uint64_t now_ns,
                     bool create, std::span<rte_mbuf*> released) noexcept;

  // Timer work, to call periodically (a few times per retry_interval):
  // - writes to `retry` the neighbours whose request is due again and returns
  //   how many; the caller sends one ARP request to each. When `retry` is full
  //   the rest stay due and come back on the next call;
  // - gives up on neighbours that did not answer max_requests requests, freeing
  //   their queued packets (resolution_failures, queue_drops);
  // - reclaims reachable entries past their reachable time (expirations).
  std::size_t expire(std::uint64_t now_ns, std::span<wire::ipv4_addr> retry) noexcept;

  const arp_cache_counters& counters() const noexcept { return _counters; }
  const arp_cache_config& config() const noexcept { return _config; }
  std::size_t size() const noexcept { return _size; }          // entries in use, any state
  std::size_t queued_packets() const noexcept { return _queued_total; }

 private:
  static constexpr std::uint32_t kNil = 0xffffffffU;

  enum class entry_state : std::uint8_t { free, incomplete, reachable };

  struct entry {
    wire::ipv4_addr ip;
    wire::mac_addr mac;
    entry_state state = entry_state::free;
    std::uint8_t requests_sent = 0;
    std::uint16_t queue_len = 0;
    std::uint32_t prev = kNil;  // links in _reachable / _incomplete, or the free list (next)
    std::uint32_t next = kNil;
    std::uint32_t queue_head = kNil;  // indices into _nodes
    std::uint32_t queue_tail = kNil;
    std::uint64_t since_ns = 0;     // reachable: last confirmed; incomplete: resolution started
    std::uint64_t deadline_ns = 0;  // reachable: expiry; incomplete: next request due
  };

  // A waiting packet; nodes come from one pool of queue_total.
  struct queue_node {
    rte_mbuf* pkt = nullptr;
    std::uint32_t next = kNil;
  };

  // Doubly linked list of entries through entry::prev/next, newest at head.
  struct entry_list {
    std::uint32_t head = kNil;
    std::uint32_t tail = kNil;
  };

  struct probe_result {
    std::uint32_t found = kNil;        // slot holding the address
    std::uint32_t first_empty = kNil;  // where it would be inserted
  };

  std::uint32_t home_slot(wire::ipv4_addr ip) const noexcept;
  probe_result probe(wire::ipv4_addr ip) const noexcept;
  std::uint32_t find(wire::ipv4_addr ip) const noexcept;  // entry index or kNil
  bool is_live(const entry& e, std::uint64_t now_ns) const noexcept;

  std::uint32_t insert(wire::ipv4_addr ip, bool allow_queued_victim) noexcept;
  std::uint32_t pick_victim(std::uint32_t window_first, std::uint32_t window_len,
                            bool allow_queued_victim) const noexcept;
  std::uint32_t pick_global_victim(bool allow_queued_victim) const noexcept;
  void erase_slot(std::uint32_t slot) noexcept;
  void remove_entry(std::uint32_t index) noexcept;

  void list_push_front(entry_list& list, std::uint32_t index) noexcept;
  void list_unlink(entry_list& list, std::uint32_t index) noexcept;
  entry_list& list_of(const entry& e) noexcept;

  void make_incomplete(std::uint32_t index, std::uint64_t now_ns) noexcept;
  void make_reachable(std::uint32_t index, const wire::mac_addr& mac,
                      std::uint64_t now_ns) noexcept;
  bool has_room(const entry& e) const noexcept;
  bool enqueue(entry& e, rte_mbuf* pkt) noexcept;
  std::size_t drain_queue(entry& e, std::span<rte_mbuf*> out) noexcept;
  void fail_resolution(std::uint32_t index) noexcept;

  arp_cache_config _config;
  arp_cache_counters _counters;
  std::vector<entry> _entries;       // capacity entries
  std::vector<std::uint32_t> _slots;  // power of two >= 2 x capacity; entry index or kNil
  std::vector<queue_node> _nodes;    // queue_total nodes
  std::uint32_t _slot_shift = 0;     // 32 - log2(_slots.size())
  std::uint32_t _probe_window = 0;
  std::uint32_t _free_entry = kNil;  // singly linked through entry::next
  std::uint32_t _free_node = kNil;   // singly linked through queue_node::next
  entry_list _reachable;             // ordered by since_ns, hence by expiry
  entry_list _incomplete;            // ordered by since_ns
  std::size_t _size = 0;
  std::size_t _queued_total = 0;
};

}  // namespace kbt::ip
