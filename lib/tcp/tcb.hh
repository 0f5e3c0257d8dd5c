#pragma once
// The transmission control block of one connection (RFC 9293 §3.3.1), with
// its buffers, timers, RTT estimator and congestion control. TCBs live in a
// per-core pool made at start-up; nothing in here allocates after that.
#include <rte_mbuf.h>

#include <cstdint>

#include "base/timer_wheel.hh"
#include "tcp/congestion.hh"
#include "tcp/events.hh"
#include "tcp/reassembly.hh"
#include "tcp/rtt_estimator.hh"
#include "tcp/sack_scoreboard.hh"
#include "tcp/send_buffer.hh"
#include "tcp/state.hh"
#include "tcp/tuple.hh"
#include "wire/seq32.hh"

namespace kbt::tcp {

using wire::seq32;

struct tcb;

// Who a TCB is for; the protocol state (tcp_state) is apart. Every TCB is
// in exactly one of these, and they go in this order (a step may be skipped).
enum class lifecycle : std::uint8_t {
  free,          // in the pool
  handshake,     // a passive open in SYN_RCVD: the listener's, the application knows nothing
  accept_queue,  // established, counted in its listener's accept queue; the application
                 // is told next (tcp_layer::poll_events)
  application,   // the application holds a handle to it, until release()
  orphan,        // the application let go: the protocol finishes the close, then the pool
                 // takes it back (tcp_layer::reap)
};

// How the connection was opened.
enum class open_kind : std::uint8_t {
  active,              // connect()
  passive,             // a listener's SYN queue, or a SYN cookie's ACK
  passive_cookie_iss,  // a SYN-queue entry whose ISS is also a SYN cookie (listener.hh)
};

// A TCB's place in one of the layer's lists of connections waiting for
// something (tcb_list.hh).
struct tcb_link {
  tcb* prev = nullptr;
  tcb* next = nullptr;
  bool linked = false;
};

struct rto_tag {};
struct delack_tag {};
struct persist_tag {};
struct idle_tag {};

struct tcb : base::tagged_timer<rto_tag>,
             base::tagged_timer<delack_tag>,
             base::tagged_timer<persist_tag>,
             base::tagged_timer<idle_tag> {
  tcb(std::uint32_t snd_capacity, std::uint32_t snd_segments, std::uint32_t ooo_bytes,
      std::uint32_t ooo_segments)
      : snd(snd_capacity, snd_segments), out_of_order(ooo_bytes, ooo_segments) {}

  base::timer_node& rto_timer() noexcept { return static_cast<base::tagged_timer<rto_tag>&>(*this); }
  base::timer_node& delack_timer() noexcept {
    return static_cast<base::tagged_timer<delack_tag>&>(*this);
  }
  base::timer_node& persist_timer() noexcept {
    return static_cast<base::tagged_timer<persist_tag>&>(*this);
  }
  // Keepalive probes (RFC 9293 §3.8.4) and, for a FIN_WAIT_2 the
  // application has let go of, the orphan timeout: both time idleness.
  base::timer_node& idle_timer() noexcept {
    return static_cast<base::tagged_timer<idle_tag>&>(*this);
  }

  // --- identity and lifecycle
  four_tuple tuple;
  tcp_state state = tcp_state::closed;
  lifecycle life = lifecycle::free;
  open_kind opened = open_kind::active;
  std::uint32_t index = 0;       // slot in the pool
  std::uint32_t generation = 0;  // bumped on every reuse: stale handles miss
  static constexpr std::uint8_t kNoListener = 0xff;
  std::uint8_t listener_slot = kNoListener;  // the listener a passive open came from
  // What the TCB holds besides its buffers: each is given back once.
  bool holds_table_entry = false;  // the connection table maps the tuple to this TCB
  bool holds_pool_port = false;    // the local port came from the port pool
  bool owes_rst = false;           // CLOSED, kept until its RST finds tx room

  bool in_use() const noexcept { return life != lifecycle::free; }
  // The application holds the handle, or is about to be told of it.
  bool app_holds() const noexcept {
    return life == lifecycle::application || life == lifecycle::accept_queue;
  }
  bool passive() const noexcept { return opened != open_kind::active; }
  bool iss_is_cookie() const noexcept { return opened == open_kind::passive_cookie_iss; }

  // --- RFC 9293 §3.3.1 send sequence variables
  seq32 iss;
  seq32 snd_una;
  seq32 snd_nxt;
  seq32 snd_max;  // highest sequence number sent + 1 (snd_nxt drops back on RTO)
  seq32 snd_wl1;
  seq32 snd_wl2;
  std::uint32_t snd_wnd = 0;      // scaled
  std::uint32_t max_snd_wnd = 0;  // RFC 5961 §5: MAX.SND.WND
  // --- receive sequence variables
  seq32 irs;
  seq32 rcv_nxt;
  seq32 rcv_adv;  // right edge of the window we last advertised
  seq32 rcv_up;   // urgent pointer (RFC 9293 §3.8.5)
  bool urgent_pending = false;

  // --- options (RFC 7323, RFC 2018), settled by the handshake
  std::uint16_t snd_mss = 536;  // the peer's MSS: our segments' payload limit before options
  std::uint8_t snd_wscale = 0;  // shift applied to windows the peer sends
  std::uint8_t rcv_wscale = 0;  // shift applied to windows we send
  bool ws_ok = false;  // both sent the window scale option
  bool ts_ok = false;
  bool sack_ok = false;
  std::uint32_t ts_recent = 0;          // RFC 7323 §4.3 TS.Recent
  base::instant ts_recent_stamp{};      // when TS.Recent was set (PAWS 24-day rule)
  std::uint32_t ts_offset = 0;          // random per connection, so TSval leaks no clock
  seq32 last_ack_sent;                  // RFC 7323 §4.3 Last.ACK.sent
  // RFC 5961 §7: when an ACK last answered an invalid segment (or went as a
  // challenge ACK), the low 32 bits of the millisecond clock; 0: never
  // (Linux's last_oow_ack_time). may_answer_invalid (invalid_ack_limit.hh)
  // reads it.
  std::uint32_t last_invalid_ack_ms = 0;

  // --- sending
  send_buffer snd;
  bool fin_queued = false;  // the application closed its side: FIN after the last byte
  seq32 fin_seq;            // set with fin_queued: the FIN's sequence number
  bool nodelay = false;     // Nagle off
  bool sws_override = false;  // RFC 9293 §3.8.6.2.1 override timeout ran: send a runt
  std::uint8_t retries = 0;       // consecutive RTO expiries
  std::uint8_t dupacks = 0;
  // SYN (or SYN-ACK) sent again by the RTO: each cost the handshake at least
  // a second (RFC 6298 §2.1). Kept after it completes; the API reports it.
  std::uint8_t syn_retransmits = 0;
  bool in_recovery = false;
  // RFC 3522 §2: the TSval of the first retransmission of the timeout now
  // running (valid while retries > 0 on a timestamped connection: entering
  // ESTABLISHED and every ACK of new data zero retries).
  std::uint32_t rto_retransmit_tsval = 0;
  seq32 recover;      // RFC 6582 "recover"
  seq32 high_rxt;     // RFC 6675 HighRxt
  sack_scoreboard scoreboard;
  rtt_estimator rtt;
  congestion_control cc;
  // RTT timing without timestamps (Karn): one segment timed at a time.
  bool rtt_timing = false;
  seq32 rtt_seq;
  base::instant rtt_start{};
  base::instant last_send{};
  std::uint8_t persist_backoff = 0;
  std::uint8_t probes_unanswered = 0;  // zero-window probes with no segment since
  base::instant probe_sent{};
  std::uint8_t keepalive_sent = 0;
  base::instant last_rx{};

  // --- receiving
  reassembly out_of_order;  // segments past RCV.NXT, waiting for the gap to fill
  rte_mbuf* rx_head = nullptr;  // in-order data the application has not taken
  rte_mbuf* rx_tail = nullptr;  // its last segment: small segments are copied into its room (memory.cc)
  std::uint32_t rx_bytes = 0;
  std::uint32_t rx_mbufs = 0;   // segments of the rx_head chain
  std::uint32_t rcv_buffer = 0;     // the most we hold: rx queue + out of order
  std::uint8_t unacked_segs = 0;    // full-sized segments received and not ACKed yet
  bool ack_now = false;             // send an ACK at the end of this input
  bool fin_received = false;

  // --- application events
  std::uint8_t events = 0;
  close_reason reason = close_reason::normal;
  bool on_event_list = false;
  tcb* next_event = nullptr;
  void* user = nullptr;  // the application's own pointer
  std::uint64_t acked_unreported = 0;  // data bytes acknowledged since the last kAcked
  bool rx_paused = false;  // the application reads nothing for now (api: pause_reading)
  // A send the core's mbuf budget refused: on the layer's list of
  // connections told kWritable once the budget has room again.
  tcb_link blocked;
  // A segment the tx queue had no room for: on the layer's list of
  // connections whose output runs again next iteration.
  tcb_link deferred;
  // An active open whose first SYN waits for this iteration's SYN budget.
  tcb_link syn_waiting;

  bool fin_sent() const noexcept { return fin_queued && snd_max > fin_seq; }
  bool fin_acked() const noexcept { return fin_queued && snd_una > fin_seq; }
  std::uint32_t flight_size() const noexcept { return static_cast<std::uint32_t>(snd_max - snd_una); }
  // mbufs held on the receive side: the in-order queue and reassembly.
  std::uint32_t rcv_held_mbufs() const noexcept { return rx_mbufs + out_of_order.segments(); }
};

}  // namespace kbt::tcp
