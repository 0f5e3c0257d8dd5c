#pragma once
// One core's TCP: the connection table and TCB pool, listeners, the timer
// wheel, and the RFC 9293 state machine (input.cc, output.cc, timers.cc).
//
// No I/O here (smoltcp's process/dispatch split): segments come in through
// input() with `now_ns`; segments go out as IPv4 packets into an out queue
// that the owner (the engine or the simulator) drains through its flush
// hook. Application events are collected on the TCBs and handed out by
// poll_events(), so the hot path makes no indirect call per packet.
#include <rte_hash.h>
#include <rte_mbuf.h>

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/timer_wheel.hh"
#include "tcp/config.hh"
#include "tcp/congestion.hh"
#include "tcp/counters.hh"
#include "tcp/isn.hh"
#include "tcp/tcb.hh"
#include "wire/ipv4.hh"
#include "wire/tcp.hh"

namespace kbt::tcp {

// An IPv4 packet (header first; no Ethernet header yet) for `dst`.
struct out_packet {
  rte_mbuf* m = nullptr;
  wire::ipv4_addr dst;
};

// Called with the queued packets when the out queue fills and when the owner
// flushes; takes ownership of the mbufs. One call per batch.
using tx_flush_fn = void (*)(void* ctx, std::span<const out_packet> packets) noexcept;

struct tcp_layer_config {
  tcp_config tcp;
  cc_algorithm cc = cc_algorithm::cubic;
  wire::ipv4_addr local_ip;
  std::uint32_t max_conns = 1024;   // TCBs in the pool
  rte_mempool* pool = nullptr;      // headers and copies
  bool tx_cksum_offload = false;    // the port fills IPv4 and TCP checksums
  siphash_key isn_key{};            // RFC 6528 secret (tests pass a fixed one)
  std::uint64_t start_ns = 0;       // the clock at construction
  std::uint32_t id = 0;             // for unique DPDK object names
};

class tcp_layer {
 public:
  static constexpr std::size_t kMaxListeners = 16;
  static constexpr std::size_t kOutQueue = 256;

  // Start-up: allocates the pool, the table and the wheel; throws
  // dev::startup_error when DPDK refuses.
  tcp_layer(const tcp_layer_config& config, tx_flush_fn flush_fn, void* flush_ctx);
  ~tcp_layer();
  tcp_layer(const tcp_layer&) = delete;
  tcp_layer& operator=(const tcp_layer&) = delete;

  // --- packet path
  // A validated segment: `m` is the whole frame (ownership taken), `l4_offset`
  // where the TCP header starts in it.
  void input(rte_mbuf* m, const wire::ipv4_repr& ip, const wire::tcp_repr& seg,
             std::uint32_t l4_offset, std::uint64_t now_ns) noexcept;
  // Runs due timers (retransmission, delayed ACK, persist, keepalive, 2MSL).
  void advance(std::uint64_t now_ns) noexcept;
  // Hands everything queued to the flush hook.
  void flush() noexcept;

  // --- application side
  bool listen(std::uint16_t port) noexcept;
  // Active open (RFC 9293 §3.10.1). nullptr when no TCB or port is free.
  tcb* connect(wire::ipv4_addr remote_ip, std::uint16_t remote_port, std::uint64_t now_ns,
               std::uint16_t local_port = 0) noexcept;
  // Zero-copy send: takes `payload` (an mbuf chain) when it fits the send
  // buffer whole and returns true; otherwise the caller keeps it.
  bool send(tcb& c, rte_mbuf* payload, std::uint64_t now_ns) noexcept;
  // Copies as much of `data` as fits; returns the bytes taken.
  std::uint32_t send_copy(tcb& c, std::span<const std::byte> data, std::uint64_t now_ns) noexcept;
  // Takes the in-order data received so far as one mbuf chain (the caller
  // frees it), or nullptr. Reopens the receive window.
  rte_mbuf* recv(tcb& c, std::uint64_t now_ns) noexcept;
  // Our side is done sending: FIN after the queued data (half-close).
  void shutdown(tcb& c, std::uint64_t now_ns) noexcept;
  // RST and forget (RFC 9293 §3.10.5 ABORT).
  void abort(tcb& c, std::uint64_t now_ns) noexcept;
  void set_nodelay(tcb& c, bool on) noexcept { c.nodelay = on; }
  void set_keepalive(tcb& c, bool on, std::uint64_t now_ns) noexcept;
  // The application lets go of `c` (after kClosed, or earlier: then it also
  // shuts its side down). Its TCB returns to the pool once the protocol is
  // done with it too; the handle must not be used again.
  void release(tcb& c, std::uint64_t now_ns) noexcept;

  // Returns `c` to the pool when it is CLOSED and nobody holds it.
  void reap(tcb& c) noexcept;

  // Calls f(tcb&, events) for each connection with news, once each.
  template <class F>
  void poll_events(F&& f) {
    while (_events_head != nullptr) {
      tcb* c = _events_head;
      _events_head = c->next_event;
      if (_events_head == nullptr) _events_tail = nullptr;
      c->next_event = nullptr;
      c->on_event_list = false;
      const std::uint8_t ev = c->events;
      c->events = 0;
      if (c->app_holds) f(*c, ev);
      reap(*c);
    }
  }

  // The connection on a 4-tuple (local side first), or nullptr.
  tcb* find(const four_tuple& t) noexcept { return lookup(t); }

  const tcp_counters& counters() const noexcept { return _counters; }
  const tcp_layer_config& config() const noexcept { return _config; }
  std::size_t connections() const noexcept { return _live; }
  std::size_t queued_packets() const noexcept { return _out_count; }
  core::timer_wheel& wheel() noexcept { return _wheel; }

 private:
  friend struct tcp_timers;

  // tcp_layer.cc: pool, table, events
  tcb* alloc_tcb(const four_tuple& t) noexcept;
  void free_tcb(tcb& c) noexcept;
  tcb* lookup(const four_tuple& t) noexcept;
  bool listening(std::uint16_t port) const noexcept;
  void set_state(tcb& c, tcp_state s) noexcept;
  void notify(tcb& c, std::uint8_t ev) noexcept;
  void close_connection(tcb& c, close_reason why) noexcept;
  void to_closed(tcb& c) noexcept;  // CLOSED, timers off, freed if nobody holds it
  void init_tcb_for_open(tcb& c, std::uint64_t now_ns) noexcept;
  std::uint32_t receive_space(const tcb& c) const noexcept;

  // input.cc
  void input_no_tcb(const wire::ipv4_repr& ip, const wire::tcp_repr& seg) noexcept;
  void input_listen(const wire::ipv4_repr& ip, const wire::tcp_repr& seg,
                    std::uint64_t now_ns) noexcept;
  void input_syn_sent(tcb& c, const wire::tcp_repr& seg, rte_mbuf* payload,
                      std::uint64_t now_ns) noexcept;
  void input_synchronized(tcb& c, const wire::tcp_repr& seg, rte_mbuf* payload,
                          std::uint64_t now_ns) noexcept;
  bool check_sequence(tcb& c, const wire::tcp_repr& seg, std::uint64_t now_ns) noexcept;
  bool check_rst(tcb& c, const wire::tcp_repr& seg) noexcept;
  bool process_ack(tcb& c, const wire::tcp_repr& seg, std::uint64_t now_ns) noexcept;
  void process_new_ack(tcb& c, const wire::tcp_repr& seg, std::uint64_t now_ns) noexcept;
  void process_dup_ack(tcb& c, const wire::tcp_repr& seg, std::uint64_t now_ns) noexcept;
  void update_send_window(tcb& c, const wire::tcp_repr& seg) noexcept;
  void process_text(tcb& c, const wire::tcp_repr& seg, rte_mbuf* payload,
                    std::uint64_t now_ns) noexcept;
  void process_fin(tcb& c, std::uint64_t now_ns) noexcept;
  void take_options(tcb& c, const wire::tcp_options& o) noexcept;
  void enter_time_wait(tcb& c, std::uint64_t now_ns) noexcept;

  // output.cc
  void output(tcb& c, std::uint64_t now_ns) noexcept;
  bool send_segment(tcb& c, seq32 seq, std::uint32_t len, std::uint8_t flags,
                    std::uint64_t now_ns) noexcept;
  void send_ack(tcb& c, std::uint64_t now_ns) noexcept;
  void send_challenge_ack(tcb& c, std::uint64_t now_ns) noexcept;
  void send_rst(const four_tuple& t, seq32 seq, seq32 ack, bool with_ack) noexcept;
  void send_syn(tcb& c, std::uint64_t now_ns) noexcept;
  bool send_data(tcb& c, std::uint64_t now_ns) noexcept;
  bool send_one_new(tcb& c, std::uint64_t now_ns, std::uint32_t mss, bool pipe_limited) noexcept;
  bool send_recovery(tcb& c, std::uint64_t now_ns) noexcept;
  // Sends the first unacknowledged segment again; returns the sequence
  // number just past what it covers.
  seq32 retransmit_first(tcb& c, std::uint64_t now_ns) noexcept;
  std::uint16_t advertised_window(tcb& c) noexcept;
  std::uint32_t effective_mss(const tcb& c) const noexcept;
  std::uint32_t data_mss(const tcb& c) const noexcept;
  void enqueue(rte_mbuf* m, wire::ipv4_addr dst) noexcept;
  std::uint32_t ts_now(const tcb& c, std::uint64_t now_ns) const noexcept;

  // timers.cc
  void arm_rto(tcb& c, std::uint64_t now_ns) noexcept;
  void on_rto(tcb& c, std::uint64_t now_ns) noexcept;
  void on_delack(tcb& c, std::uint64_t now_ns) noexcept;
  void on_persist(tcb& c, std::uint64_t now_ns) noexcept;
  void on_keepalive(tcb& c, std::uint64_t now_ns) noexcept;
  void cancel_timers(tcb& c) noexcept;

  tcp_layer_config _config;
  tx_flush_fn _flush;
  void* _flush_ctx;
  isn_generator _isn;
  core::timer_wheel _wheel;
  rte_hash* _table = nullptr;
  std::vector<std::unique_ptr<tcb>> _pool;
  std::vector<tcb*> _free;
  std::size_t _live = 0;
  std::array<std::uint16_t, kMaxListeners> _listeners{};
  std::size_t _listener_count = 0;
  std::uint16_t _next_ephemeral = 0;
  std::array<out_packet, kOutQueue> _out{};
  std::size_t _out_count = 0;
  tcb* _events_head = nullptr;
  tcb* _events_tail = nullptr;
  // RFC 5961 §7 challenge ACK budget, per second.
  std::uint64_t _challenge_window_start_ns = 0;
  std::uint32_t _challenge_count = 0;
  tcp_counters _counters;
};

}  // namespace kbt::tcp
