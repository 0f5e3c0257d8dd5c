#include "impaired_link.hh"

#include <algorithm>
#include <stdexcept>

namespace kbt::sim {
namespace {

__extension__ using u128 = unsigned __int128;
__extension__ using i128 = __int128;

constexpr std::uint64_t kNsPerSec = 1'000'000'000;
constexpr std::size_t kEtherHeaderLen = 14;
constexpr std::size_t kVlanTagLen = 4;

// std::push_heap builds a max-heap: "greater" puts the earliest on top.
constexpr auto kLater = [](const auto& x, const auto& y) noexcept {
  return x.arrival_ns != y.arrival_ns ? x.arrival_ns > y.arrival_ns : x.order > y.order;
};

std::size_t ether_header_len(const rte_mbuf* m) noexcept {
  if (rte_pktmbuf_data_len(m) < kEtherHeaderLen) return kEtherHeaderLen;
  const auto* p = rte_pktmbuf_mtod(m, const std::uint8_t*);
  const unsigned type = (unsigned{p[12]} << 8) | p[13];
  return type == 0x8100 || type == 0x88a8 ? kEtherHeaderLen + kVlanTagLen : kEtherHeaderLen;
}

void check(const link_config& c) {
  auto probability = [](double p, const char* what) {
    if (!(p >= 0.0 && p <= 1.0)) {
      throw std::invalid_argument(std::string("impaired_link: ") + what + " must be in [0, 1]");
    }
  };
  probability(c.loss, "loss");
  probability(c.duplicate, "duplicate");
  probability(c.reorder, "reorder");
  probability(c.corrupt, "corrupt");
  if (c.capacity == 0) throw std::invalid_argument("impaired_link: capacity must be > 0");
  if (c.queue_frames == 0 || c.queue_frames > c.capacity) {
    throw std::invalid_argument("impaired_link: queue_frames must be in [1, capacity]");
  }
  // Keeps delay + jitter + reorder arithmetic far from overflow.
  constexpr std::uint64_t kMaxDelay = 1ULL << 50;
  if (c.delay_ns > kMaxDelay || c.jitter_ns > kMaxDelay || c.reorder_delay_ns > kMaxDelay) {
    throw std::invalid_argument("impaired_link: delays must be below 2^50 ns");
  }
}

}  // namespace

std::string link_counters::format() const {
  std::string out;
  auto field = [&out](const char* key, std::uint64_t v) {
    if (!out.empty()) out += ' ';
    out += key;
    out += '=';
    out += std::to_string(v);
  };
  field("sent", sent);
  field("delivered", delivered);
  field("lost", lost);
  field("duplicated", duplicated);
  field("reordered", reordered);
  field("corrupted", corrupted);
  field("queue_dropped", queue_dropped);
  field("mtu_dropped", mtu_dropped);
  field("capacity_dropped", capacity_dropped);
  field("no_mbuf", no_mbuf);
  return out;
}

impaired_link::impaired_link(const link_config& config, std::uint64_t seed)
    : _config(config), _rng(seed) {
  check(config);
  _heap.reserve(config.capacity);
  _queue.resize(config.queue_frames);
}

impaired_link::~impaired_link() {
  for (const flight& f : _heap) rte_pktmbuf_free(f.m);
}

void impaired_link::reconfigure(const link_config& config) {
  check(config);
  if (config.capacity != _config.capacity || config.queue_frames != _config.queue_frames) {
    throw std::invalid_argument("impaired_link: capacity and queue_frames cannot change");
  }
  // Carry the transmitter's busy time over to the new rate's units.
  if (_config.bandwidth_bps != 0 && config.bandwidth_bps != 0) {
    const u128 old_bps = _config.bandwidth_bps;
    const u128 busy_ns = (_busy_until_scaled + old_bps - 1) / old_bps;
    _busy_until_scaled = busy_ns * config.bandwidth_bps;
  } else {
    _busy_until_scaled = 0;
  }
  _config = config;
}

void impaired_link::send(rte_mbuf* m, std::uint64_t now_ns) noexcept {
  ++_counters.sent;
  if (_config.mtu != 0 && over_mtu(m)) {
    ++_counters.mtu_dropped;
    rte_pktmbuf_free(m);
    return;
  }
  if (_rng.chance(_config.loss)) {
    ++_counters.lost;
    rte_pktmbuf_free(m);
    return;
  }
  // The copy is made before anything touches the original, and into the
  // same pool: the receiver may rewrite either in place (a ping reply is
  // the request, rewritten), so they must not share data.
  rte_mbuf* copy = nullptr;
  if (_rng.chance(_config.duplicate)) {
    copy = rte_pktmbuf_copy(m, m->pool, 0, UINT32_MAX);
    if (copy != nullptr) {
      ++_counters.duplicated;
    } else {
      ++_counters.no_mbuf;
    }
  }
  enqueue(m, now_ns);
  if (copy != nullptr) enqueue(copy, now_ns);
}

// One frame (an original or a copy) through the transmit queue, corruption
// and the delays; each copy gets its own draws.
void impaired_link::enqueue(rte_mbuf* m, std::uint64_t now_ns) noexcept {
  if (_heap.size() == _config.capacity) {
    ++_counters.capacity_dropped;
    rte_pktmbuf_free(m);
    return;
  }
  const std::uint32_t bytes = rte_pktmbuf_pkt_len(m);
  std::uint64_t depart_ns = now_ns;
  if (_config.bandwidth_bps != 0) {
    retire_queue(now_ns);
    const bool over_bytes =
        _config.queue_bytes != 0 && _queue_bytes + bytes > _config.queue_bytes;
    if (_queue_len == _queue.size() || over_bytes) {
      ++_counters.queue_dropped;
      rte_pktmbuf_free(m);
      return;
    }
    depart_ns = serialise(bytes, now_ns);
    _queue[(_queue_head + _queue_len) % _queue.size()] = {depart_ns, bytes};
    ++_queue_len;
    _queue_bytes += bytes;
  }
  if (_rng.chance(_config.corrupt)) corrupt_one_bit(m);

  std::int64_t delay = static_cast<std::int64_t>(_config.delay_ns);
  if (_config.jitter_ns != 0) delay = std::max<std::int64_t>(0, delay + jitter_sample());
  if (_rng.chance(_config.reorder)) {
    ++_counters.reordered;
    delay += static_cast<std::int64_t>(_config.reorder_delay_ns);
  }
  _heap.push_back({depart_ns + static_cast<std::uint64_t>(delay), _next_order++, m});
  std::push_heap(_heap.begin(), _heap.end(), kLater);
}

std::size_t impaired_link::deliver_due(std::uint64_t now_ns, std::span<rte_mbuf*> out) noexcept {
  std::size_t n = 0;
  while (n < out.size() && !_heap.empty() && _heap.front().arrival_ns <= now_ns) {
    std::pop_heap(_heap.begin(), _heap.end(), kLater);
    out[n++] = _heap.back().m;
    _heap.pop_back();
  }
  _counters.delivered += n;
  return n;
}

std::uint64_t impaired_link::next_arrival_ns() const noexcept {
  return _heap.empty() ? kNever : _heap.front().arrival_ns;
}

bool impaired_link::over_mtu(const rte_mbuf* m) const noexcept {
  return rte_pktmbuf_pkt_len(m) > _config.mtu + ether_header_len(m);
}

// Flips one bit of one byte past the Ethernet header, so the IPv4 header or
// ICMP/TCP checksum of the receiver must catch it. (ARP carries no checksum:
// a corrupted ARP frame is taken at face value, as on a real wire.)
void impaired_link::corrupt_one_bit(rte_mbuf* m) noexcept {
  const std::size_t first = ether_header_len(m);
  const std::uint32_t len = rte_pktmbuf_pkt_len(m);
  if (len <= first) return;  // nothing past the header to damage
  std::uint64_t offset = first + _rng.below(len - first);
  const auto bit = static_cast<unsigned>(_rng.below(8));
  rte_mbuf* seg = m;
  while (offset >= rte_pktmbuf_data_len(seg)) {
    offset -= rte_pktmbuf_data_len(seg);
    seg = seg->next;
  }
  auto* byte = rte_pktmbuf_mtod_offset(seg, std::uint8_t*, offset);
  *byte = static_cast<std::uint8_t>(*byte ^ (1U << bit));
  ++_counters.corrupted;
}

std::int64_t impaired_link::jitter_sample() noexcept {
  const auto bound = static_cast<std::int64_t>(_config.jitter_ns);
  if (_config.jitter == jitter_shape::uniform) {
    return static_cast<std::int64_t>(_rng.below(2 * _config.jitter_ns + 1)) - bound;
  }
  // Irwin-Hall: the sum of 12 uniforms on [0, 1) has mean 6 and variance 1.
  // Twelve 16-bit uniforms come from three draws, and integer arithmetic
  // keeps the result identical everywhere.
  constexpr std::int64_t kUnit = 65535;
  std::int64_t sum = 0;
  for (int i = 0; i < 3; ++i) {
    const std::uint64_t r = _rng.next();
    for (int k = 0; k < 4; ++k) sum += static_cast<std::int64_t>((r >> (16 * k)) & 0xffff);
  }
  const i128 standard = sum - 6 * kUnit;  // N(0, 1) in units of 1/kUnit
  const auto j = static_cast<std::int64_t>(standard * bound / (3 * kUnit));
  return std::clamp(j, -bound, bound);
}

void impaired_link::retire_queue(std::uint64_t now_ns) noexcept {
  while (_queue_len != 0 && _queue[_queue_head].finish_ns <= now_ns) {
    _queue_bytes -= _queue[_queue_head].bytes;
    _queue_head = (_queue_head + 1) % _queue.size();
    --_queue_len;
  }
}

// When a frame of `bytes` entering the queue at now_ns has been
// serialised: after the frames ahead of it, at bandwidth_bps.
std::uint64_t impaired_link::serialise(std::uint32_t bytes, std::uint64_t now_ns) noexcept {
  const u128 bps = _config.bandwidth_bps;
  const u128 now_scaled = u128{now_ns} * bps;
  const u128 start = std::max(_busy_until_scaled, now_scaled);
  _busy_until_scaled = start + u128{bytes} * 8 * kNsPerSec;
  return static_cast<std::uint64_t>((_busy_until_scaled + bps - 1) / bps);
}

}  // namespace kbt::sim
