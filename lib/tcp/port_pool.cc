#include "tcp/port_pool.hh"

#include <stdexcept>
#include <string>

namespace kbt::tcp {

port_pool::port_pool(const dev::rss_table& rss, std::uint16_t core, std::uint16_t first,
                     std::uint16_t last)
    : _rss(rss), _core(core), _first(first), _last(last) {
  if (first == 0 || first > last) {
    throw std::invalid_argument("port_pool: bad local port range " + std::to_string(first) + "-" +
                                std::to_string(last) + " (need 1 <= first <= last)");
  }
  if (core >= rss.queues()) {
    throw std::invalid_argument("port_pool: core " + std::to_string(core) + " but the RSS table has " +
                                std::to_string(rss.queues()) + " queues");
  }
  const std::size_t ports = std::size_t{last} - first + 1;
  const std::size_t classes = rss.reta_size();
  for (std::size_t i = 0; i < classes; ++i) {
    if (rss.reta_at(static_cast<std::uint16_t>(i)) == core) {
      _owned.push_back(static_cast<std::uint16_t>(i));
    }
  }
  _class.resize(ports);
  _next.assign(ports, kNone);
  _head.assign(classes, kNone);
  _tail.assign(classes, kNone);
  _taken.assign((ports + 63) / 64, 0);
  // t(p): the hash of a tuple that is zero but for the local port.
  const wire::ipv4_addr zero{};
  for (std::size_t i = 0; i < ports; ++i) {
    const auto port = static_cast<std::uint16_t>(first + i);
    _class[i] = static_cast<std::uint16_t>(rss.hash(zero, zero, 0, port) & rss.reta_mask());
    push_tail(_class[i], static_cast<std::uint16_t>(i));
  }
  _free = ports;
}

void port_pool::push_tail(std::uint16_t klass, std::uint16_t index) noexcept {
  _next[index] = kNone;
  if (_tail[klass] == kNone) {
    _head[klass] = index;
  } else {
    _next[_tail[klass]] = index;
  }
  _tail[klass] = index;
}

std::optional<std::uint16_t> port_pool::take(wire::ipv4_addr local_ip, wire::ipv4_addr remote_ip,
                                             std::uint16_t remote_port) noexcept {
  const std::size_t n = _owned.size();
  if (n == 0 || _free == 0) return std::nullopt;
  // The reply's hash with local port 0; each port XORs in its own t(p).
  const std::uint32_t c = _rss.hash(remote_ip, local_ip, remote_port, 0) & _rss.reta_mask();
  std::size_t pos = _cursor;
  for (std::size_t step = 0; step < n; ++step, pos = pos + 1 == n ? 0 : pos + 1) {
    // Ports of class k land on reta[k ^ c]; for this RETA entry, k = i ^ c.
    const auto klass = static_cast<std::uint16_t>(_owned[pos] ^ c);
    const std::uint16_t index = _head[klass];
    if (index == kNone) continue;
    _head[klass] = _next[index];
    if (_head[klass] == kNone) _tail[klass] = kNone;
    _next[index] = kNone;
    _taken[index / 64] |= std::uint64_t{1} << (index % 64);
    --_free;
    // Start the next take() at the following class, so ports spread out.
    _cursor = pos + 1 == n ? 0 : pos + 1;
    return static_cast<std::uint16_t>(_first + index);
  }
  return std::nullopt;
}

bool port_pool::is_taken(std::uint16_t port) const noexcept {
  if (port < _first || port > _last) return false;
  const std::size_t index = port - _first;
  return (_taken[index / 64] >> (index % 64) & 1U) != 0;
}

void port_pool::give_back(std::uint16_t port) noexcept {
  if (!is_taken(port)) {
    ++_ignored;
    return;
  }
  const auto index = static_cast<std::uint16_t>(port - _first);
  _taken[index / 64] &= ~(std::uint64_t{1} << (index % 64));
  push_tail(_class[index], index);
  ++_free;
}

}  // namespace kbt::tcp
