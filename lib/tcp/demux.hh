#pragma once
// Where an arriving segment goes (RFC 9293 §3.10.7's first question): a
// connection, a TIME_WAIT record, a listener, or nobody.
//
// A burst's connections come from one bulk lookup of the table; the
// segments without one look in TIME_WAIT, whose records are prefetched for
// the whole burst, then at the listeners. Segments are delivered in order,
// each once the ones before it are done: one of them may open or close a
// connection, and then the bulk answer is stale for the rest (the table's
// version says so) and they are looked up again one by one.
//
// It holds the connection table (with the TCB pool) and the TIME_WAIT
// keeper: every tuple the core knows, and in what state. The listener is
// tcp_layer's; the demux only asks it whether a port listens. It decides
// where a segment goes, and tcp_layer carries it there: a connection's
// logic is the connection's own (connection.hh), a record's the keeper's.
#include <rte_mbuf.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <string>

#include "tcp/connection_table.hh"
#include "tcp/counters.hh"
#include "tcp/listener.hh"
#include "tcp/state.hh"
#include "tcp/time_wait.hh"
#include "tcp/tuple.hh"
#include "wire/ipv4.hh"
#include "wire/tcp.hh"

namespace kbt::tcp {

// A segment of an rx burst, parsed and checked by the caller.
struct tcp_rx {
  rte_mbuf* m = nullptr;        // the whole frame; ownership passes to input_burst
  wire::ipv4_repr ip;
  wire::tcp_repr seg;
  std::uint32_t l4_offset = 0;  // where the TCP header starts in m
};

// At most one of the three; none: nobody has the segment (RFC 9293
// §3.10.7.1, CLOSED).
struct destination {
  tcb* conn = nullptr;
  time_wait_record* time_wait = nullptr;
  listening_port* listening = nullptr;
};

class demux {
 public:
  static constexpr std::size_t kMaxBurst = 32;  // one bulk lookup's keys (rte_hash)

  // Start-up: the table of `max_conns` TCBs (DPDK object `table_name`) and
  // the TIME_WAIT records (time_wait.hh); throws base::startup_error when
  // DPDK refuses.
  demux(const std::string& table_name, std::uint32_t max_conns, const tcp_config& tcp,
        control_sender& control, const ts_clock& ts, source_ports& ports,
        listener& listeners, tcp_counters& counters, wire::ipv4_addr local_ip)
      : _conns(table_name, max_conns, tcp),
        _time_wait(tcp, control, ts, ports, counters),
        _listeners(listeners),
        _counters(counters),
        _local_ip(local_ip) {}

  connection_table& connections() noexcept { return _conns; }
  const connection_table& connections() const noexcept { return _conns; }
  time_wait_keeper& time_wait() noexcept { return _time_wait; }
  const time_wait_keeper& time_wait() const noexcept { return _time_wait; }

  // The protocol state of a tuple: its TCB's, TIME_WAIT for a record, else CLOSED.
  tcp_state state_of(const four_tuple& t) noexcept {
    if (const tcb* c = _conns.find(t); c != nullptr) return c->state;
    return _time_wait.find(t) != nullptr ? tcp_state::time_wait : tcp_state::closed;
  }
  // Whether a connection or a TIME_WAIT record holds `t`.
  bool in_use(const four_tuple& t) noexcept {
    return _conns.find(t) != nullptr || _time_wait.find(t) != nullptr;
  }

  // The tuple as the stack sees it: local is the segment's destination.
  static four_tuple tuple_of(const wire::ipv4_repr& ip, const wire::tcp_repr& seg) noexcept {
    return four_tuple{ip.dst, ip.src, seg.dst_port, seg.src_port};
  }
  // One segment, looked up on its own.
  destination find(const wire::ipv4_repr& ip, const wire::tcp_repr& seg) noexcept {
    const four_tuple t = tuple_of(ip, seg);
    if (tcb* c = _conns.find(t); c != nullptr) return {.conn = c};
    return beyond_table(t, ip, seg.dst_port);
  }
  // The listener a segment to ip.dst:port reaches: only the core's own
  // address listens (source addresses are for active opens).
  listening_port* listener_for(const wire::ipv4_repr& ip, std::uint16_t port) noexcept {
    return ip.dst == _local_ip ? _listeners.find(port) : nullptr;
  }

  // Calls deliver(rx, destination) for each segment of `burst`, in order.
  template <class Deliver>
  void dispatch(std::span<const tcp_rx> burst, Deliver&& deliver) noexcept {
    const std::size_t n = std::min(burst.size(), kMaxBurst);
    std::array<four_tuple, kMaxBurst> keys;
    std::array<const void*, kMaxBurst> key_ptrs;
    std::array<void*, kMaxBurst> found{};
    for (std::size_t i = 0; i < n; ++i) {
      keys[i] = tuple_of(burst[i].ip, burst[i].seg);
      key_ptrs[i] = &keys[i];
    }
    const std::uint64_t hits = _conns.find_bulk(std::span(key_ptrs.data(), n), found.data());
    // A segment with no connection looks in TIME_WAIT next: start those
    // loads now, for the whole burst, rather than wait for each in turn.
    for (std::size_t i = 0; i < n; ++i) {
      if (((hits >> i) & 1U) == 0) _time_wait.prefetch(keys[i]);
    }
    const std::uint64_t version = _conns.version();
    for (std::size_t i = 0; i < n; ++i) {
      const tcp_rx& r = burst[i];
      if (_conns.version() != version) {
        // An earlier segment of this burst opened or closed a connection:
        // the bulk answer may be stale, so look again.
        _counters.bulk_lookup_fallbacks.add();
        deliver(r, find(r.ip, r.seg));
      } else if (((hits >> i) & 1U) != 0) {
        deliver(r, destination{.conn = static_cast<tcb*>(found[i])});
      } else {
        deliver(r, beyond_table(keys[i], r.ip, r.seg.dst_port));
      }
    }
    // More than a bulk lookup holds: the rest one by one.
    for (std::size_t i = n; i < burst.size(); ++i) {
      deliver(burst[i], find(burst[i].ip, burst[i].seg));
    }
  }

 private:
  destination beyond_table(const four_tuple& t, const wire::ipv4_repr& ip,
                           std::uint16_t port) noexcept {
    if (time_wait_record* r = _time_wait.find(t); r != nullptr) return {.time_wait = r};
    return {.listening = listener_for(ip, port)};
  }

  connection_table _conns;
  time_wait_keeper _time_wait;
  listener& _listeners;
  tcp_counters& _counters;
  wire::ipv4_addr _local_ip;
};

}  // namespace kbt::tcp
