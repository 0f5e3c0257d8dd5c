#include "core/steering.hh"

#include <algorithm>
#include <bit>
#include <stdexcept>
#include <string>

namespace kbt::core {

steering_fabric::steering_fabric(std::uint16_t cores, std::uint32_t capacity)
    : _cores(cores), _capacity(capacity) {
  if (cores == 0) throw std::invalid_argument("steering_fabric: need at least one core");
  if (capacity == 0 || !std::has_single_bit(capacity)) {
    throw std::invalid_argument("steering_fabric: queue capacity must be a power of two, got " +
                                std::to_string(capacity));
  }
  _lanes.resize(std::size_t{cores} * cores);
  for (std::uint16_t from = 0; from < cores; ++from) {
    for (std::uint16_t to = 0; to < cores; ++to) {
      if (from != to) _lanes[std::size_t{from} * cores + to] = std::make_unique<lane>(capacity);
    }
  }
  _consumers = std::make_unique<consumer[]>(cores);
}

steering_fabric::~steering_fabric() {
  for (auto& l : _lanes) {
    if (l == nullptr) continue;
    rte_mbuf* m = nullptr;
    while (l->q.pop(m)) rte_pktmbuf_free(m);
  }
}

bool steering_fabric::push(std::uint16_t from, std::uint16_t to, rte_mbuf* m) noexcept {
  if (from == to || from >= _cores || to >= _cores) [[unlikely]] return false;
  return queue(from, to).push(m);
}

std::size_t steering_fabric::drain(std::uint16_t to, std::span<rte_mbuf*> out) noexcept {
  if (to >= _cores || _cores < 2 || out.empty()) return 0;
  const std::size_t sources = _cores - 1U;
  const std::size_t share = std::max<std::size_t>(1, out.size() / sources);
  const std::uint16_t start = _consumers[to].next_source;
  auto next = [this](std::uint16_t s) {
    return static_cast<std::uint16_t>(s + 1U == _cores ? 0 : s + 1U);
  };
  std::size_t n = 0;
  // First an equal share each, so a flooding core cannot crowd out the rest;
  // then any room left goes to whoever has more (no idle slots in `out`).
  for (std::size_t room_per_source : {share, out.size()}) {
    std::uint16_t s = start;
    for (std::uint16_t i = 0; i < _cores && n < out.size(); ++i, s = next(s)) {
      if (s == to) continue;
      n += queue(s, to).pop(out.data() + n, std::min(room_per_source, out.size() - n));
    }
    if (n == out.size()) break;
  }
  // Rotate over the sources only: stepping onto `to` itself would give the
  // source after it two turns in a row.
  std::uint16_t after = next(start);
  if (after == to) after = next(after);
  _consumers[to].next_source = after;
  return n;
}

}  // namespace kbt::core
