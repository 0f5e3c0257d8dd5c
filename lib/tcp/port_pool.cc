#include "tcp/port_pool.hh"

#include <stdexcept>
#include <string>

namespace kbt::tcp {

port_pool::port_pool(const base::rss_table& rss, std::uint16_t core, std::uint16_t first,
                     std::uint16_t last, std::uint32_t sources)
    : _rss(rss), _sources(sources), _core(core), _first(first), _last(last) {
  if (first == 0 || first > last) {
    throw std::invalid_argument("port_pool: bad local port range " + std::to_string(first) + "-" +
                                std::to_string(last) + " (need 1 <= first <= last)");
  }
  if (core >= rss.queues()) {
    throw std::invalid_argument("port_pool: core " + std::to_string(core) + " but the RSS table has " +
                                std::to_string(rss.queues()) + " queues");
  }
  if (sources == 0) throw std::invalid_argument("port_pool: no source address");
  _ports = std::size_t{last} - first + 1;
  _classes = rss.reta_size();
  _words = (_ports + 63) / 64;
  for (std::size_t i = 0; i < _classes; ++i) {
    if (rss.reta_at(static_cast<std::uint16_t>(i)) == core) {
      _owned.push_back(static_cast<std::uint16_t>(i));
    }
  }
  _class.resize(_ports);
  _next.assign(_ports * sources, kNone);
  _head.assign(_classes * sources, kNone);
  _tail.assign(_classes * sources, kNone);
  _taken.assign(_words * sources, 0);
  _source_free.assign(sources, static_cast<std::uint32_t>(_ports));
  _cursor.assign(sources, 0);
  // t(p): the hash of a tuple that is zero but for the local port.
  const wire::ipv4_addr zero{};
  for (std::size_t i = 0; i < _ports; ++i) {
    const auto port = static_cast<std::uint16_t>(first + i);
    _class[i] = static_cast<std::uint16_t>(rss.hash(zero, zero, 0, port) & rss.reta_mask());
  }
  for (std::uint32_t s = 0; s < sources; ++s) {
    for (std::size_t i = 0; i < _ports; ++i) push_tail(s, _class[i], static_cast<std::uint16_t>(i));
  }
  _free = _ports * sources;
}

void port_pool::push_tail(std::uint32_t source, std::uint16_t klass, std::uint16_t index) noexcept {
  std::uint16_t* next = &_next[source * _ports];
  std::uint16_t& head = _head[source * _classes + klass];
  std::uint16_t& tail = _tail[source * _classes + klass];
  next[index] = kNone;
  if (tail == kNone) {
    head = index;
  } else {
    next[tail] = index;
  }
  tail = index;
}

std::optional<std::uint16_t> port_pool::take(wire::ipv4_addr local_ip, wire::ipv4_addr remote_ip,
                                             std::uint16_t remote_port,
                                             std::uint32_t source) noexcept {
  const std::size_t n = _owned.size();
  if (n == 0 || source >= _sources || _source_free[source] == 0) return std::nullopt;
  std::uint16_t* next = &_next[source * _ports];
  std::uint16_t* heads = &_head[source * _classes];
  std::uint16_t* tails = &_tail[source * _classes];
  // The reply's hash with local port 0; each port XORs in its own t(p).
  const std::uint32_t c = _rss.hash(remote_ip, local_ip, remote_port, 0) & _rss.reta_mask();
  std::size_t pos = _cursor[source];
  for (std::size_t step = 0; step < n; ++step, pos = pos + 1 == n ? 0 : pos + 1) {
    // Ports of class k land on reta[k ^ c]; for this RETA entry, k = i ^ c.
    const auto klass = static_cast<std::uint16_t>(_owned[pos] ^ c);
    const std::uint16_t index = heads[klass];
    if (index == kNone) continue;
    heads[klass] = next[index];
    if (heads[klass] == kNone) tails[klass] = kNone;
    next[index] = kNone;
    _taken[source * _words + index / 64] |= std::uint64_t{1} << (index % 64);
    --_source_free[source];
    --_free;
    // Start the next take() at the following class, so ports spread out.
    _cursor[source] = static_cast<std::uint32_t>(pos + 1 == n ? 0 : pos + 1);
    return static_cast<std::uint16_t>(_first + index);
  }
  return std::nullopt;
}

bool port_pool::is_taken(std::uint16_t port, std::uint32_t source) const noexcept {
  if (port < _first || port > _last || source >= _sources) return false;
  const std::size_t index = port - _first;
  return (_taken[source * _words + index / 64] >> (index % 64) & 1U) != 0;
}

void port_pool::give_back(std::uint16_t port, std::uint32_t source) noexcept {
  if (!is_taken(port, source)) {
    ++_ignored;
    return;
  }
  const auto index = static_cast<std::uint16_t>(port - _first);
  _taken[source * _words + index / 64] &= ~(std::uint64_t{1} << (index % 64));
  push_tail(source, _class[index], index);
  ++_source_free[source];
  ++_free;
}

}  // namespace kbt::tcp
