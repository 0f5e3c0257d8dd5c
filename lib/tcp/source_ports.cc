#include "tcp/source_ports.hh"

namespace kbt::tcp {

source_ports::source_ports(const base::rss_table* rss, std::uint16_t core, std::uint16_t first,
                           std::uint16_t last, wire::ipv4_range sources,
                           wire::ipv4_addr local_ip)
    : _own_rss(rss != nullptr ? nullptr : std::make_unique<base::rss_table>(1)),
      _sources(sources.empty() ? wire::ipv4_range{local_ip, 1} : sources),
      _pool(rss != nullptr ? *rss : *_own_rss, core, first, last, _sources.count) {}

std::optional<source_ports::endpoint> source_ports::take(wire::ipv4_addr remote_ip,
                                                         std::uint16_t remote_port) noexcept {
  const std::uint32_t k = _sources.count;
  for (std::uint32_t step = 0; step < k; ++step) {
    const std::uint32_t s = _next;
    _next = s + 1 == k ? 0 : s + 1;
    const wire::ipv4_addr ip = _sources.at(s);
    if (const auto port = _pool.take(ip, remote_ip, remote_port, s)) return endpoint{ip, *port};
  }
  return std::nullopt;
}

}  // namespace kbt::tcp
