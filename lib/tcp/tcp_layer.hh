#pragma once
// One core's TCP, the front the engine and the API call. It holds the
// parts of the protocol and what they share: the demux (the TCB pool and
// connection table, TIME_WAIT: demux.hh), the listener, the port pool, the
// timer wheel, the segment queue. The protocol's logic is theirs: a
// connection's own (connection.hh), the listener's (listener.hh), where a
// segment goes (the demux's); what is left here opens and ends connections,
// taking TCBs from the demux's table and giving them back, and carries out
// the outcomes those parts return (input.cc, timers.cc).
//
// No I/O here (smoltcp's process/dispatch split): segments come in through
// input() with `now`; segments go out as IPv4 packets into an out queue
// that the owner (the engine or the simulator) drains through its flush
// hook. Application events are collected on the TCBs and handed out by
// poll_events(), so the hot path makes no indirect call per packet.
#include <rte_hash.h>
#include <rte_mbuf.h>

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <type_traits>
#include <vector>

#include "base/timer_wheel.hh"
#include "base/rss_table.hh"
#include "tcp/challenge_budget.hh"
#include "tcp/config.hh"
#include "tcp/congestion.hh"
#include "tcp/control_sender.hh"
#include "tcp/connection.hh"
#include "tcp/connection_table.hh"
#include "tcp/counters.hh"
#include "tcp/demux.hh"
#include "tcp/handle.hh"
#include "tcp/isn.hh"
#include "tcp/listener.hh"
#include "tcp/mbuf_budget.hh"
#include "tcp/port_pool.hh"
#include "tcp/segment_builder.hh"
#include "tcp/segment_queue.hh"
#include "tcp/source_ports.hh"
#include "tcp/syn_cookie.hh"
#include "tcp/tcb.hh"
#include "tcp/tcb_list.hh"
#include "tcp/time_wait.hh"
#include "wire/ipv4.hh"
#include "wire/tcp.hh"

namespace kbt::tcp {

struct tcp_layer_config {
  tcp_config tcp;
  wire::ipv4_addr local_ip;
  std::uint32_t max_conns = 1024;   // TCBs in the pool
  rte_mempool* pool = nullptr;      // headers and copies
  bool tx_cksum_offload = false;    // the port fills IPv4 and TCP checksums
  siphash_key isn_key{};            // RFC 6528 secret (tests pass a fixed one)
  siphash_key cookie_key{};         // RFC 4987 secret, a different one
  // Which core owns a flow; nullptr: this layer owns every flow (one core).
  // Source ports for active opens are chosen so replies land on `core`.
  const base::rss_table* rss = nullptr;
  std::uint16_t core = 0;
  // Source ports for active opens (Linux ip_local_port_range).
  std::uint16_t port_first = port_pool::kFirst;
  std::uint16_t port_last = port_pool::kLast;
  // Source addresses of active opens (ip/source_range.hh), taken in turn,
  // each with the whole port range; empty: local_ip alone.
  wire::ipv4_range sources;
  base::instant start{};            // the clock at construction
  std::uint32_t id = 0;             // for unique DPDK object names
};

class tcp_layer {
 public:
  static constexpr std::size_t kMaxListeners = listener::kMaxPorts;
  static constexpr std::size_t kOutQueue = segment_queue::kCapacity;
  static constexpr std::size_t kMaxBurst = demux::kMaxBurst;
  static constexpr std::uint32_t kSynsPerIteration = segment_queue::kSynsPerIteration;

  // Start-up: allocates the pool, the table and the wheel; throws
  // base::startup_error when DPDK refuses.
  tcp_layer(const tcp_layer_config& config, tx_flush_fn flush_fn, void* flush_ctx);
  ~tcp_layer();
  tcp_layer(const tcp_layer&) = delete;
  tcp_layer& operator=(const tcp_layer&) = delete;

  // --- packet path
  // A validated segment: `m` is the whole frame (ownership taken), `l4_offset`
  // where the TCP header starts in it.
  void input(rte_mbuf* m, const wire::ipv4_repr& ip, const wire::tcp_repr& seg,
             std::uint32_t l4_offset, base::instant now) noexcept;
  // A burst of them (at most kMaxBurst), looked up in the table in one bulk
  // call; processed in order.
  void input_burst(std::span<const tcp_rx> burst, base::instant now) noexcept;
  // Runs due timers (retransmission, delayed ACK, persist, keepalive, 2MSL).
  void advance(base::instant now) noexcept;
  // Hands everything queued to the flush hook.
  void flush() noexcept { _out.flush(); }
  // How many more packets the owner's transmit queue takes now; the owner
  // sets it before each iteration's work. Segments of a connection beyond
  // it wait, and go in a later iteration (run_deferred), rather than being
  // dropped and left to the RTO. Packets with no connection behind them
  // (RST, cookie SYN-ACK, TIME_WAIT ACK) do not wait: they answer a
  // segment, and the owner keeps a reserve for them. Unlimited by default.
  void set_tx_room(std::uint32_t packets) noexcept { _out.set_room(packets); }
  // No output waits for tx room and nothing is queued.
  bool tx_idle() const noexcept {
    return _deferred.empty() && _syn_waiting.empty() && _out.size() == 0;
  }

  // --- application side
  // At start-up or later; false when kMaxListeners ports listen already.
  bool listen(std::uint16_t port) noexcept { return _listener.listen(port); }
  // Closes the listener on `port`; false when none listens there.
  bool unlisten(std::uint16_t port) noexcept { return _listener.unlisten(port); }
  const listening_port* find_listener(std::uint16_t port) const noexcept {
    return _listener.find(port);
  }
  // The passive opens in SYN_RCVD of the listener on `port` (0: none listens).
  std::uint32_t syn_queue_length(std::uint16_t port) const noexcept {
    const listening_port* p = _listener.find(port);
    return p != nullptr ? _listener.syn_queue(*p) : 0;
  }
  // Active open (RFC 9293 §3.10.1). nullptr when no TCB or port is free
  // (counted: no_tcb, ports_exhausted). Without `local_port` the port comes
  // from this core's pool, so that the replies reach this core, and the
  // source address is the next of config().sources in turn (local_ip
  // without them); with `local_port` the source is local_ip.
  tcb* connect(wire::ipv4_addr remote_ip, std::uint16_t remote_port, base::instant now,
               std::uint16_t local_port = 0) noexcept;
  // The calls on one connection are its own logic (user_calls.cc).
  // Zero-copy send: takes `payload` (an mbuf chain) when it fits the send
  // buffer whole and returns true; otherwise the caller keeps it.
  bool send(tcb& c, rte_mbuf* payload, base::instant now) noexcept {
    return conn(c).send(payload, now);
  }
  // Copies as much of `data` as fits; returns the bytes taken.
  std::uint32_t send_copy(tcb& c, std::span<const std::byte> data, base::instant now) noexcept {
    return conn(c).send_copy(data, now);
  }
  // Takes the in-order data received so far as one mbuf chain (the caller
  // frees it), or nullptr. Reopens the receive window.
  rte_mbuf* recv(tcb& c, base::instant now) noexcept { return conn(c).recv(now); }
  // Gives back the part of what recv() returned that the application did
  // not use: `rest` goes first in the receive queue again (its mbufs count
  // against this core's receive memory once more) and comes with the next
  // read. No kReadable: the application asks again (set_reading) when it can.
  void unrecv(tcb& c, rte_mbuf* rest) noexcept { conn(c).unrecv(rest); }
  // Our side is done sending: FIN after the queued data (half-close).
  void shutdown(tcb& c, base::instant now) noexcept { conn(c).shutdown(now); }
  // RST and forget (RFC 9293 §3.10.5 ABORT).
  void abort(tcb& c, base::instant now) noexcept;
  void set_nodelay(tcb& c, bool on) noexcept { c.nodelay = on; }
  // The application stops or resumes taking data; resuming with data
  // waiting reports kReadable again.
  void set_reading(tcb& c, bool on) noexcept { conn(c).set_reading(on); }
  void set_keepalive(tcb& c, bool on, base::instant now) noexcept {
    conn(c).set_keepalive(on, now);
  }
  // The application lets go of `c` (after kClosed, or earlier: then it also
  // shuts its side down). Its TCB returns to the pool once the protocol is
  // done with it too; the handle must not be used again.
  void release(tcb& c, base::instant now) noexcept;

  // Returns `c` to the pool when it is CLOSED and nobody holds it.
  void reap(tcb& c) noexcept;

  // The time since boot (CLOCK_MONOTONIC, ns) at which now was 0. The
  // ISN's clock M (RFC 6528 §3) and TSval (RFC 7323 §5.4) count from boot,
  // so that on a 4-tuple reused by the next process, within the peer's
  // TIME_WAIT, both are higher than the old incarnation's (RFC 6191 §2);
  // timers keep using now. Set once at start-up, before any connection;
  // 0 (the default: tests, the simulator) counts from now's zero.
  void set_clock_origin(std::uint64_t boot_ns) noexcept { _ts.origin_ns = boot_ns; }

  // Calls f(handle, events) for each connection with news, once each; or
  // f(tcb&, events) for callers inside the protocol's own tests, which look
  // at the TCB itself (the API takes the handle: tcp/handle.hh).
  template <class F>
  void poll_events(F&& f) {
    while (tcb* c = _events.pop()) {
      const std::uint8_t ev = c->events;
      c->events = 0;
      _listener.leave_accept_queue(*c);  // the application is told of it now
      if (c->app_holds()) {
        if constexpr (std::is_invocable_v<F&, handle, std::uint8_t>) {
          f(handle(*c), ev);
        } else {
          f(*c, ev);
        }
      }
      reap(*c);
    }
  }

  // The connection on a 4-tuple (local side first), or nullptr. A tuple in
  // TIME_WAIT has no TCB any more: see state_of().
  tcb* find(const four_tuple& t) noexcept { return lookup(t); }
  // The TCB in pool slot `index` (in use or not), or nullptr past the pool.
  tcb* at(std::uint32_t index) noexcept { return _demux.connections().at(index); }
  // The protocol state of a tuple: its TCB's, TIME_WAIT for a record, else CLOSED.
  tcp_state state_of(const four_tuple& t) noexcept { return _demux.state_of(t); }

  const tcp_counters& counters() const noexcept { return _counters; }
  // The configuration in force: tcp's mbuf limits resolved (config.hh).
  const tcp_layer_config& config() const noexcept { return _config; }
  const mbuf_budget& send_memory() const noexcept { return _snd_mem; }
  const mbuf_budget& receive_memory() const noexcept { return _rcv_mem; }
  std::size_t connections() const noexcept { return _demux.connections().live(); }
  std::size_t queued_packets() const noexcept { return _out.size(); }
  base::timer_wheel& wheel() noexcept { return _wheel; }
  const time_wait_table& time_wait() const noexcept { return _demux.time_wait().table(); }
  const port_pool& ports() const noexcept { return _ports.pool(); }

 private:
  friend struct tcp_timers;

  // tcp_layer.cc: pool, table, events
  // A TCB for `t`, in the table, starting its life as `life`.
  tcb* alloc_tcb(const four_tuple& t, lifecycle life) noexcept;
  // ... with every field an open starts from (connection::reset_for_open).
  tcb* open_tcb(const four_tuple& t, lifecycle life, seq32 iss, base::instant now) noexcept;
  bool evict_embryonic() noexcept;
  bool evict_orphan() noexcept;
  void free_tcb(tcb& c) noexcept;
  void detach(tcb& c) noexcept;  // unhash, accept queue, pool port
  tcb* lookup(const four_tuple& t) noexcept { return _demux.connections().find(t); }
  void notify(tcb& c, std::uint8_t ev) noexcept { _events.post(c, ev); }
  // Tells the application (kClosed, with `why`) that the connection is over
  // for it; the TCB itself goes on until reap().
  void report_closed(tcb& c, close_reason why) noexcept;
  void to_closed(tcb& c) noexcept;  // CLOSED, timers off, freed if nobody holds it
  void reset_data_lost(tcb& c) noexcept;  // RST and CLOSED: data nobody will read
  void reset_and_close(tcb& c) noexcept;  // RST <SEQ=SND.NXT> (now or deferred), CLOSED

  // memory.cc: the core's mbuf budgets (mbuf_budget.hh)
  static tcp_layer_config resolve_memory(tcp_layer_config config) noexcept;
  void wake_blocked_senders() noexcept;

  // input.cc
  // A segment where the demux found it goes (demux.hh).
  void input_one(destination to, rte_mbuf* m, const wire::ipv4_repr& ip,
                 const wire::tcp_repr& seg, std::uint32_t l4_offset,
                 base::instant now) noexcept;
  void input_no_tcb(const wire::ipv4_repr& ip, const wire::tcp_repr& seg) noexcept;
  // passive_open.cc: LISTEN (RFC 9293 §3.10.7.2): what the listener's
  // verdict opens. Takes `payload` (delivered when a cookie ACK makes a
  // connection); `min_iss` as for listener::on_segment.
  void input_listen(listening_port& p, const four_tuple& t, const wire::tcp_repr& seg,
                    rte_mbuf* payload, base::instant now,
                    std::optional<seq32> min_iss) noexcept;
  // A SYN at a tuple in TIME_WAIT that may open it anew (RFC 6191 §2):
  // to the listener, or answered by the record when none listens.
  void reopen_time_wait(time_wait_record& r, const wire::ipv4_repr& ip,
                        const wire::tcp_repr& syn, base::instant now) noexcept;
  // A source address and port for an active open to remote_ip:remote_port.
  std::optional<source_ports::endpoint> take_port(wire::ipv4_addr remote_ip,
                                                  std::uint16_t remote_port) noexcept;
  void input_syn_sent(tcb& c, const wire::tcp_repr& seg, rte_mbuf* payload,
                      base::instant now) noexcept;
  void input_synchronized(tcb& c, const wire::tcp_repr& seg, rte_mbuf* payload,
                          base::instant now) noexcept;
  // RFC 9293 §3.10.7.4 second and fifth: what the connection's RST and
  // ACK handling (connection.hh) leave to the owner, carried out.
  void take_rst(tcb& c, const wire::tcp_repr& seg) noexcept;
  bool process_ack(tcb& c, const wire::tcp_repr& seg, base::instant now) noexcept;
  void enter_time_wait(tcb& c, base::instant now) noexcept;

  // The connection's own logic (connection.hh), seen through _cx.
  connection conn(tcb& c) noexcept { return connection(c, _cx); }
  // Output that found no tx room or no SYN slot, oldest first, while the
  // transmit queue has room (tcp_layer.cc).
  void run_deferred(base::instant now) noexcept;

  // timers.cc
  // Ends `c` as its timer said (connection.hh).
  void end_if(tcb& c, timer_outcome what) noexcept;

  tcp_layer_config _config;
  tcp_counters _counters;
  segment_queue _out;
  isn_generator _isn;
  base::timer_wheel _wheel;
  ts_clock _ts;  // TSval and the ISN clock count from boot: set_clock_origin()
  segment_builder _builder;
  control_sender _control;  // segments with no TCB: RST, cookie SYN-ACK
  listener _listener;       // the ports, their SYN and accept queues, the cookies
  source_ports _ports;  // the local ends of active opens
  event_queue _events;
  mbuf_budget _snd_mem;
  mbuf_budget _rcv_mem;
  tcb_list<&tcb::blocked> _blocked;  // senders the budget refused, oldest first
  tcb_list<&tcb::deferred> _deferred;  // output that found no tx room, oldest first
  // Active opens waiting for a SYN of the per-iteration budget: apart from
  // _deferred, so that the ACKs and data behind a storm of connects do not
  // wait for all of its SYNs.
  tcb_list<&tcb::syn_waiting> _syn_waiting;
  // RFC 5961 §7 challenge ACK budget of this core, drawn anew each second.
  challenge_budget _challenge_budget;
  // The connection table and TIME_WAIT, and where a segment goes
  // (demux.hh), then what a connection's own logic sees (connection.hh):
  // last, as they refer to the members above.
  demux _demux;
  connection_context _cx;
};

}  // namespace kbt::tcp
