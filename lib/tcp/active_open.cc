// Active opens (RFC 9293 §3.10.1 OPEN, active): a source address and port
// whose replies land on this core, then the SYN.
#include "tcp/tcp_layer.hh"

namespace kbt::tcp {

// A source port whose replies land on this core. When the pool is dry and
// the configuration allows it, the oldest TIME_WAIT record of an active
// open gives up its port (counted: that shortens TIME_WAIT on purpose).
std::optional<source_ports::endpoint> tcp_layer::take_port(wire::ipv4_addr remote_ip,
                                                           std::uint16_t remote_port) noexcept {
  // Bounded: a few oldest records, since a recycled port may belong to a
  // class that does not suit this destination.
  constexpr int kRecycleAttempts = 16;
  for (int attempt = 0; attempt <= kRecycleAttempts; ++attempt) {
    if (const auto sp = _ports.take(remote_ip, remote_port)) return sp;
    if (!_config.tcp.reuse_time_wait) break;
    time_wait_record* oldest = _demux.time_wait().oldest();
    // Only an active open's record holds a pool port; a passive one stays.
    if (oldest == nullptr || !oldest->port_from_pool) break;
    _counters.time_wait_recycled.add();
    _demux.time_wait().end(*oldest);
  }
  _counters.ports_exhausted.add();
  return std::nullopt;
}

tcb* tcp_layer::connect(wire::ipv4_addr remote_ip, std::uint16_t remote_port,
                        base::instant now, std::uint16_t local_port) noexcept {
  four_tuple t{_config.local_ip, remote_ip, local_port, remote_port};
  const bool from_pool = local_port == 0;
  if (from_pool) {
    const auto sp = take_port(remote_ip, remote_port);
    if (!sp) return nullptr;
    t.local_ip = sp->ip;
    t.local_port = sp->port;
  } else if (_demux.in_use(t)) {
    return nullptr;
  }
  // RFC 6528 §3's M counts from boot: with the boot key (core/boot_key.hh)
  // a tuple's ISN keeps growing across processes.
  tcb* c = open_tcb(t, lifecycle::application, _isn.generate(t, _ts.since_boot(now)), now);
  if (c == nullptr) {
    if (from_pool) _ports.give_back(t.local_ip, t.local_port);
    return nullptr;
  }
  c->holds_pool_port = from_pool;
  conn(*c).set_state(tcp_state::syn_sent);
  _counters.active_opens.add();
  conn(*c).send_syn(now);
  return c;
}

}  // namespace kbt::tcp
