#include "ip/arp_cache.hh"

#include <rte_mbuf.h>

#include <algorithm>
#include <bit>
#include <stdexcept>

namespace kbt::ip {
namespace {

// Longest run of slots an address may sit from its home slot. Lookups stop
// there (or at an empty slot), so a miss costs at most this many probes even
// when a peer picks colliding addresses; an insert that finds the whole run
// occupied evicts one of its occupants instead of probing further.
constexpr std::uint32_t kMaxProbe = 16;
constexpr std::uint32_t kMinSlots = 16;
constexpr std::uint32_t kMaxCapacity = 1U << 30;

}  // namespace

arp_cache::arp_cache(const arp_cache_config& config) : _config(config) {
  if (config.capacity == 0 || config.capacity > kMaxCapacity) {
    throw std::invalid_argument("arp_cache: capacity must be between 1 and 2^30");
  }
  if (config.max_requests == 0) {
    throw std::invalid_argument("arp_cache: max_requests must be at least 1");
  }
  if (config.retry_interval_ns == 0) {
    throw std::invalid_argument(
        "arp_cache: retry_interval_ns must be > 0 (RFC 1122 2.3.2.1 rate-limits requests)");
  }
  if (config.reachable_time_ns == 0) {
    throw std::invalid_argument("arp_cache: reachable_time_ns must be > 0");
  }
  if (config.queue_per_neighbour > arp_cache_config::kMaxQueuePerNeighbour) {
    throw std::invalid_argument("arp_cache: queue_per_neighbour above kMaxQueuePerNeighbour");
  }
  if (config.queue_total >= kNil) {
    throw std::invalid_argument("arp_cache: queue_total too large");
  }
  _config.hash_seed |= 1U;  // an even multiplier would lose the top bit

  // At most half the slots are used, so probe runs stay short and an erase
  // always meets an empty slot.
  const std::uint32_t slots = std::max(kMinSlots, std::bit_ceil(config.capacity * 2U));
  _slots.assign(slots, kNil);
  _slot_shift = 32U - static_cast<std::uint32_t>(std::countr_zero(slots));
  _probe_window = std::min(kMaxProbe, slots);

  _entries.resize(config.capacity);
  for (std::uint32_t i = 0; i < config.capacity; ++i) {
    _entries[i].next = i + 1 < config.capacity ? i + 1 : kNil;
  }
  _free_entry = 0;

  _nodes.resize(config.queue_total);
  for (std::uint32_t i = 0; i < config.queue_total; ++i) {
    _nodes[i].next = i + 1 < config.queue_total ? i + 1 : kNil;
  }
  _free_node = config.queue_total > 0 ? 0 : kNil;
}

arp_cache::~arp_cache() {
  for (entry& e : _entries) {
    for (std::uint32_t n = e.queue_head; n != kNil; n = _nodes[n].next) {
      rte_pktmbuf_free(_nodes[n].pkt);
    }
  }
}

// ---- hash table -------------------------------------------------------------

std::uint32_t arp_cache::home_slot(wire::ipv4_addr ip) const noexcept {
  // Multiplicative (Fibonacci) hashing: the top bits of ip * odd constant.
  return (ip.value * _config.hash_seed) >> _slot_shift;
}

arp_cache::probe_result arp_cache::probe(wire::ipv4_addr ip) const noexcept {
  const std::uint32_t mask = static_cast<std::uint32_t>(_slots.size()) - 1;
  probe_result r;
  std::uint32_t s = home_slot(ip);
  for (std::uint32_t i = 0; i < _probe_window; ++i, s = (s + 1) & mask) {
    const std::uint32_t index = _slots[s];
    if (index == kNil) {
      r.first_empty = s;
      return r;
    }
    if (_entries[index].ip == ip) {
      r.found = s;
      return r;
    }
  }
  return r;
}

std::uint32_t arp_cache::find(wire::ipv4_addr ip) const noexcept {
  const probe_result r = probe(ip);
  return r.found == kNil ? kNil : _slots[r.found];
}

bool arp_cache::is_live(const entry& e, std::uint64_t now_ns) const noexcept {
  return e.state == entry_state::incomplete ||
         (e.state == entry_state::reachable && now_ns < e.deadline_ns);
}

// Linear-probing erase by backward shift (Knuth 6.4, algorithm R): no
// tombstones, so probe runs never grow with churn. Entries only move closer
// to their home slot, so they stay inside the probe window.
void arp_cache::erase_slot(std::uint32_t slot) noexcept {
  const std::uint32_t mask = static_cast<std::uint32_t>(_slots.size()) - 1;
  std::uint32_t hole = slot;
  _slots[hole] = kNil;
  for (std::uint32_t j = (hole + 1) & mask; _slots[j] != kNil; j = (j + 1) & mask) {
    const std::uint32_t home = home_slot(_entries[_slots[j]].ip);
    // The entry at j may fill the hole only if the hole lies on its probe
    // path, i.e. between its home slot and j.
    if (((j - home) & mask) >= ((j - hole) & mask)) {
      _slots[hole] = _slots[j];
      _slots[j] = kNil;
      hole = j;
    }
  }
}

// Oldest occupant of a full probe window; one without waiting packets if any.
std::uint32_t arp_cache::pick_victim(std::uint32_t window_first, std::uint32_t window_len,
                                     bool allow_queued_victim) const noexcept {
  const std::uint32_t mask = static_cast<std::uint32_t>(_slots.size()) - 1;
  std::uint32_t best = kNil;
  for (std::uint32_t i = 0, s = window_first; i < window_len; ++i, s = (s + 1) & mask) {
    const entry& e = _entries[_slots[s]];
    if (best == kNil) {
      best = s;
      continue;
    }
    const entry& b = _entries[_slots[best]];
    const bool e_queued = e.queue_len > 0;
    const bool b_queued = b.queue_len > 0;
    if (e_queued != b_queued ? !e_queued : e.since_ns < b.since_ns) best = s;
  }
  if (best != kNil && _entries[_slots[best]].queue_len > 0 && !allow_queued_victim) return kNil;
  return best;
}

// When every entry is in use: the least recently confirmed reachable entry
// (reachable entries never hold packets); failing that the oldest incomplete
// entry without packets; failing that, if allowed, the oldest incomplete one.
std::uint32_t arp_cache::pick_global_victim(bool allow_queued_victim) const noexcept {
  if (_reachable.tail != kNil) return _reachable.tail;
  // Entries holding packets number at most queue_total, so this walk is bounded.
  for (std::uint32_t i = _incomplete.tail; i != kNil; i = _entries[i].prev) {
    if (_entries[i].queue_len == 0) return i;
  }
  return allow_queued_victim ? _incomplete.tail : kNil;
}

// Claims a fresh entry for an absent `ip`, evicting if it must. The entry is
// returned in the free state, already in the table; the caller sets its state.
std::uint32_t arp_cache::insert(wire::ipv4_addr ip, bool allow_queued_victim) noexcept {
  probe_result r = probe(ip);
  if (r.first_empty == kNil) {
    // The probe window is full of other addresses: take one's place.
    const std::uint32_t slot = pick_victim(home_slot(ip), _probe_window, allow_queued_victim);
    if (slot == kNil) return kNil;
    const std::uint32_t index = _slots[slot];
    entry& v = _entries[index];
    ++_counters.evictions;
    drain_queue(v, {});
    list_unlink(list_of(v), index);
    v = entry{};
    v.ip = ip;
    return index;
  }
  if (_free_entry == kNil) {
    const std::uint32_t victim = pick_global_victim(allow_queued_victim);
    if (victim == kNil) return kNil;
    ++_counters.evictions;
    remove_entry(victim);
    // The erase may have opened a slot earlier on this address's path; it
    // never fills one, so an empty slot is still found within the window.
    r = probe(ip);
  }
  const std::uint32_t index = _free_entry;
  _free_entry = _entries[index].next;
  _entries[index] = entry{};
  _entries[index].ip = ip;
  _slots[r.first_empty] = index;
  ++_size;
  return index;
}

void arp_cache::remove_entry(std::uint32_t index) noexcept {
  entry& e = _entries[index];
  drain_queue(e, {});
  list_unlink(list_of(e), index);
  erase_slot(probe(e.ip).found);
  e = entry{};
  e.next = _free_entry;
  _free_entry = index;
  --_size;
}

// ---- age lists ----------------------------------------------------------------

void arp_cache::list_push_front(entry_list& list, std::uint32_t index) noexcept {
  entry& e = _entries[index];
  e.prev = kNil;
  e.next = list.head;
  if (list.head != kNil) {
    _entries[list.head].prev = index;
  } else {
    list.tail = index;
  }
  list.head = index;
}

void arp_cache::list_unlink(entry_list& list, std::uint32_t index) noexcept {
  entry& e = _entries[index];
  if (e.prev != kNil) {
    _entries[e.prev].next = e.next;
  } else {
    list.head = e.next;
  }
  if (e.next != kNil) {
    _entries[e.next].prev = e.prev;
  } else {
    list.tail = e.prev;
  }
  e.prev = kNil;
  e.next = kNil;
}

arp_cache::entry_list& arp_cache::list_of(const entry& e) noexcept {
  return e.state == entry_state::reachable ? _reachable : _incomplete;
}

// ---- entry states ---------------------------------------------------------------

// Starts a resolution: the caller is told to send the first request now.
void arp_cache::make_incomplete(std::uint32_t index, std::uint64_t now_ns) noexcept {
  entry& e = _entries[index];
  if (e.state != entry_state::free) list_unlink(list_of(e), index);
  e.state = entry_state::incomplete;
  e.requests_sent = 1;
  e.since_ns = now_ns;
  e.deadline_ns = now_ns + _config.retry_interval_ns;
  list_push_front(_incomplete, index);
  ++_counters.requests_needed;
}

void arp_cache::make_reachable(std::uint32_t index, const wire::mac_addr& mac,
                               std::uint64_t now_ns) noexcept {
  entry& e = _entries[index];
  if (e.state != entry_state::free) list_unlink(list_of(e), index);
  e.state = entry_state::reachable;
  e.mac = mac;
  e.requests_sent = 0;
  e.since_ns = now_ns;
  e.deadline_ns = now_ns + _config.reachable_time_ns;
  list_push_front(_reachable, index);
}

bool arp_cache::has_room(const entry& e) const noexcept {
  return e.queue_len < _config.queue_per_neighbour && _free_node != kNil;
}

bool arp_cache::enqueue(entry& e, rte_mbuf* pkt) noexcept {
  if (!has_room(e)) {
    rte_pktmbuf_free(pkt);
    ++_counters.queue_drops;
    return false;
  }
  const std::uint32_t n = _free_node;
  _free_node = _nodes[n].next;
  _nodes[n] = queue_node{pkt, kNil};
  if (e.queue_tail != kNil) {
    _nodes[e.queue_tail].next = n;
  } else {
    e.queue_head = n;
  }
  e.queue_tail = n;
  ++e.queue_len;
  ++_queued_total;
  ++_counters.queued;
  return true;
}

// Hands the waiting packets to `out` in arrival order; frees (and counts)
// those that do not fit. With an empty `out` this frees the whole queue.
std::size_t arp_cache::drain_queue(entry& e, std::span<rte_mbuf*> out) noexcept {
  std::size_t given = 0;
  std::uint32_t n = e.queue_head;
  while (n != kNil) {
    queue_node& node = _nodes[n];
    if (given < out.size()) {
      out[given++] = node.pkt;
    } else {
      rte_pktmbuf_free(node.pkt);
      ++_counters.queue_drops;
    }
    const std::uint32_t next = node.next;
    node = queue_node{nullptr, _free_node};
    _free_node = n;
    n = next;
  }
  _queued_total -= e.queue_len;
  e.queue_len = 0;
  e.queue_head = kNil;
  e.queue_tail = kNil;
  return given;
}

void arp_cache::fail_resolution(std::uint32_t index) noexcept {
  ++_counters.resolution_failures;
  remove_entry(index);
}

// ---- public operations --------------------------------------------------------

const wire::mac_addr* arp_cache::lookup(wire::ipv4_addr ip, std::uint64_t now_ns) const noexcept {
  const std::uint32_t index = find(ip);
  if (index == kNil) return nullptr;
  const entry& e = _entries[index];
  return e.state == entry_state::reachable && now_ns < e.deadline_ns ? &e.mac : nullptr;
}

resolve_result arp_cache::resolve(wire::ipv4_addr next_hop, rte_mbuf* pkt,
                                  std::uint64_t now_ns, bool keep_if_full) noexcept {
  std::uint32_t index = find(next_hop);
  if (index != kNil) {
    const entry& e = _entries[index];
    if (e.state == entry_state::reachable && now_ns < e.deadline_ns) {
      ++_counters.hits;
      return {resolve_status::ready, &e.mac};
    }
  }
  ++_counters.misses;

  bool request = false;
  if (index == kNil) {
    index = insert(next_hop, /*allow_queued_victim=*/true);
    if (index == kNil) {  // cannot happen with capacity >= 1; stay safe anyway
      rte_pktmbuf_free(pkt);
      ++_counters.queue_drops;
      return {resolve_status::dropped, nullptr};
    }
    make_incomplete(index, now_ns);
    request = true;
  } else if (entry& e = _entries[index]; e.state == entry_state::reachable) {
    // Expired: its MAC is no longer trusted, resolve afresh.
    make_incomplete(index, now_ns);
    request = true;
  } else if (now_ns >= e.deadline_ns) {
    if (e.requests_sent >= _config.max_requests) {
      // The last request went unanswered too: what waited is given up (as
      // expire() would have done), and this packet starts a new resolution.
      ++_counters.resolution_failures;
      drain_queue(e, {});
      make_incomplete(index, now_ns);
    } else {
      ++e.requests_sent;
      e.deadline_ns = now_ns + _config.retry_interval_ns;
      ++_counters.requests_needed;
    }
    request = true;
  }

  if (keep_if_full && !has_room(_entries[index])) {
    return {request ? resolve_status::refused_send_request : resolve_status::refused, nullptr};
  }
  if (enqueue(_entries[index], pkt)) {
    return {request ? resolve_status::queued_send_request : resolve_status::queued, nullptr};
  }
  return {request ? resolve_status::dropped_send_request : resolve_status::dropped, nullptr};
}

std::size_t arp_cache::update(wire::ipv4_addr ip, const wire::mac_addr& mac, std::uint64_t now_ns,
                              bool create, std::span<rte_mbuf*> released) noexcept {
  if (mac.is_multicast() || mac.is_zero()) return 0;

  std::uint32_t index = find(ip);
  if (index != kNil && !is_live(_entries[index], now_ns) && !create) {
    // RFC 826 merges only into an entry that exists; an expired one does not.
    return 0;
  }
  if (index == kNil) {
    if (!create) return 0;
    // An unsolicited entry is worth less than packets waiting for another
    // neighbour: never evict those for it.
    index = insert(ip, /*allow_queued_victim=*/false);
    if (index == kNil) return 0;
  }
  make_reachable(index, mac, now_ns);
  return drain_queue(_entries[index], released);
}

std::size_t arp_cache::expire(std::uint64_t now_ns, std::span<wire::ipv4_addr> retry) noexcept {
  // Reachable entries are kept in confirmation order with one lifetime, so
  // the expired ones are all at the tail.
  while (_reachable.tail != kNil && now_ns >= _entries[_reachable.tail].deadline_ns) {
    ++_counters.expirations;
    remove_entry(_reachable.tail);
  }

  std::size_t wanted = 0;
  for (std::uint32_t index = _incomplete.tail; index != kNil;) {
    entry& e = _entries[index];
    const std::uint32_t newer = e.prev;
    if (now_ns >= e.deadline_ns) {
      if (e.requests_sent >= _config.max_requests) {
        fail_resolution(index);
      } else if (wanted < retry.size()) {
        // RFC 1122 2.3.2.1: one request per retry_interval per destination.
        retry[wanted++] = e.ip;
        ++e.requests_sent;
        e.deadline_ns = now_ns + _config.retry_interval_ns;
        ++_counters.requests_needed;
      }
    }
    index = newer;
  }
  return wanted;
}

}  // namespace kbt::ip
