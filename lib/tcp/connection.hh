#pragma once
// One connection's own protocol logic, seen through a narrow context.
//
// A connection is its TCB (tcb.hh: the state RFC 9293 §3.3.1 lists, and
// ours) together with the code that acts on it alone. That code sees
// `connection_context`: the configuration, somewhere to put segments (the
// segment queue and the builder), the TSval clock, the timer wheel, the
// counters, the core's receive budget, the challenge-ACK budget and the
// lists of connections waiting for tx room or a SYN slot. It never sees the
// connection table, the listeners, TIME_WAIT or the port pool: what needs
// those (opening, closing, freeing) stays with tcp_layer.
//
// `connection` is a view, two references made where it is used: it costs a
// TCB nothing, so a million idle connections pay for no context pointer.
//
// Today it holds the output side (output.cc: segments, ACKs, SYNs, the
// windows, the MSS), the timer handlers (timers.cc), its side of the
// handshake (handshake.cc: its opening fields, the peer's SYN or a
// cookie's ACK, SYN_SENT, entering ESTABLISHED), the acceptance of a
// segment and its RST (acceptance.cc), its ACK (ack.cc), the receive side
// (receive.cc: text, reassembly, FIN; memory.cc: its mbuf accounting) and
// its own state changes and events.
#include <rte_mbuf.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "base/timer_wheel.hh"
#include "tcp/challenge_budget.hh"
#include "tcp/config.hh"
#include "tcp/counters.hh"
#include "tcp/event_queue.hh"
#include "tcp/mbuf_budget.hh"
#include "tcp/segment_builder.hh"
#include "tcp/segment_queue.hh"
#include "tcp/syn_cookie.hh"
#include "tcp/syn_queue_lengths.hh"
#include "tcp/tcb.hh"
#include "tcp/tcb_list.hh"
#include "wire/tcp.hh"

namespace kbt::tcp {

struct connection_context {
  const tcp_config& tcp;
  rte_mempool* pool;  // headers and the indirect mbufs of data segments
  tcp_counters& counters;
  segment_queue& out;
  const segment_builder& builder;
  const ts_clock& ts;
  base::timer_wheel& wheel;
  mbuf_budget& snd_mem;
  mbuf_budget& rcv_mem;
  event_queue& events;              // news for the application
  syn_queue_lengths& syn_queues;    // kept as passive opens enter and leave SYN_RCVD
  challenge_budget& challenges;
  // Senders the mbuf budget refused, oldest first: told kWritable as it
  // has room again (tcp_layer's advance).
  tcb_list<&tcb::blocked>& blocked;
  // Output that found no tx room, oldest first; active opens waiting for a
  // SYN of the iteration's budget (apart, so that the ACKs and data behind
  // a storm of connects do not wait for all of its SYNs).
  tcb_list<&tcb::deferred>& deferred;
  tcb_list<&tcb::syn_waiting>& syn_waiting;
};

// What a connection's timer leaves for its owner to do. A connection does
// not end itself: ending frees its table slot, its pool port and perhaps its
// TCB, which it cannot see.
enum class timer_outcome : std::uint8_t {
  go_on,
  timed_out,  // the peer stopped answering: the application hears why, CLOSED
  reset,      // RST and CLOSED (an orphan whose peer keeps its window shut)
  closed,     // CLOSED (an orphan's FIN_WAIT_2 ran out)
};

// What a segment's text and FIN leave for the connection's owner, who
// holds what ending needs (the table slot, the port, TIME_WAIT).
enum class receive_outcome : std::uint8_t {
  go_on,
  data_lost,  // new data the released application will never read: RST, CLOSED
  time_wait,  // the peer's FIN after ours was acknowledged: TIME_WAIT
};

// What a segment in SYN_SENT leaves for the owner (RFC 9293 §3.10.7.3).
enum class syn_sent_outcome : std::uint8_t {
  go_on,    // taken (ESTABLISHED, or SYN_RCVD in a simultaneous open) or ignored
  bad_ack,  // an ACK of something never sent: the owner sends <SEQ=SEG.ACK><CTL=RST>
  refused,  // a RST that acknowledges our SYN: refused, CLOSED
};

// What a segment's ACK field leaves for the owner (RFC 9293 §3.10.7.4 fifth).
enum class ack_outcome : std::uint8_t {
  go_on,      // on to the segment's text
  drop,       // not acceptable (answered as the RFCs say): the rest goes
  time_wait,  // CLOSING, and our FIN is acknowledged
  closed,     // LAST_ACK, and our FIN is acknowledged: CLOSED
};

// What an acceptable RST means (RFC 9293 §3.10.7.4 second, RFC 5961 §3.2).
enum class rst_outcome : std::uint8_t {
  challenged,  // in the window but not RCV.NXT: a challenge ACK went; nothing changes
  to_listen,   // a passive open's SYN_RCVD: CLOSED, unknown to the application
  refused,     // an active open's SYN_RCVD (simultaneous open): refused, CLOSED
  reset,       // a synchronized connection: reset, CLOSED
};

class connection {
 public:
  connection(tcb& c, connection_context& cx) noexcept : _c(c), _cx(cx) {}

  // Sends what the state, the windows, Nagle and SWS avoidance allow: data
  // (by NextSeg() in SACK recovery), the FIN, an owed ACK; arms persist
  // when data waits behind a window it cannot use.
  void output(base::instant now) noexcept;
  // Builds and queues one segment of `len` bytes from the send buffer at
  // `seq` (0 for control segments). Returns false when out of mbufs or of
  // tx room (then the connection's output runs again later).
  bool send_segment(seq32 seq, std::uint32_t len, std::uint8_t flags,
                    base::instant now) noexcept;
  void send_ack(base::instant now) noexcept;
  void send_challenge_ack(base::instant now) noexcept;
  // An ACK in answer to an invalid segment (out of window, PAWS, beyond
  // SND.NXT), within the connection's limit.
  void send_invalid_ack(base::instant now) noexcept;
  // SYN (SYN_SENT) or SYN-ACK (SYN_RCVD), first time or again.
  void send_syn(base::instant now) noexcept;
  // Sends the first unacknowledged segment again; returns the sequence
  // number just past what it covers.
  seq32 retransmit_first(base::instant now) noexcept;
  // The window field of a non-SYN segment (receiver-side SWS avoidance).
  std::uint16_t advertised_window() noexcept;
  // The bytes the receive side may still take: buffer and mbufs.
  std::uint32_t receive_space() const noexcept;
  std::uint32_t effective_mss() const noexcept;
  std::uint32_t data_mss() const noexcept;
  void arm_rto(base::instant now) noexcept {
    _cx.wheel.arm(_c.rto_timer(), now + _c.rtt.rto());
  }
  // timers.cc: what the wheel drives (RFC 6298 retransmission, SYN and
  // SYN-ACK included; delayed ACK; persist, RFC 9293 §3.8.6.1; keepalive,
  // RFC 1122 §4.2.3.6, and an orphan's FIN_WAIT_2 limit on the idle timer).
  timer_outcome on_rto(base::instant now) noexcept;
  void on_delack(base::instant now) noexcept;
  timer_outcome on_persist(base::instant now) noexcept;
  timer_outcome on_idle_timeout(base::instant now) noexcept;
  void arm_orphan_timeout(base::instant now) noexcept;
  void cancel_timers() noexcept;

  // handshake.cc: every field a connection starts from, for all three
  // ways of opening (connect, a SYN-queue entry, a cookie's ACK), with its
  // ISS and TSval offset; each then sets only what differs.
  void reset_for_open(seq32 iss, std::uint32_t ts_offset, base::instant now) noexcept;
  // A listener's SYN-queue entry (RFC 9293 §3.10.7.2): the peer's SYN
  // taken, SYN_RCVD, our SYN-ACK <SEQ=ISS>.
  void open_from_syn(const wire::tcp_repr& syn, base::instant now) noexcept;
  // A valid cookie's ACK (RFC 4987 §3.6): ESTABLISHED, with what the cookie
  // and the echoed timestamp kept of the handshake.
  void open_from_cookie(const wire::tcp_repr& ack, const cookie_grant& g,
                        base::instant now) noexcept;
  // The peer's SYN: its ISN, window and options (RFC 9293 §3.10.7.2).
  void take_peer_syn(const wire::tcp_repr& syn, base::instant now) noexcept;
  // RFC 9293 §3.10.7.4 fifth, SYN_RCVD: whether SEG.ACK acknowledges our
  // SYN (SND.UNA < SEG.ACK =< SND.NXT); the owner answers one that does
  // not with <SEQ=SEG.ACK><CTL=RST>.
  bool acks_our_syn(const wire::tcp_repr& seg) const noexcept {
    return _c.snd_una < seg.ack && seg.ack <= _c.snd_max;
  }
  // ... and then ESTABLISHED, with the send window to be taken from this
  // segment by receive_ack().
  void complete_handshake(const wire::tcp_repr& seg) noexcept {
    enter_established();
    // RFC 9293: "set SND.WND <- SEG.WND, SND.WL1 <- SEG.SEQ, SND.WL2 <- SEG.ACK"
    _c.snd_wl1 = seg.seq - 1;  // forces receive_ack to take the window
  }
  // The one way into ESTABLISHED (kConnected; a close queued meanwhile
  // makes it FIN_WAIT_1).
  void enter_established() noexcept;
  // RFC 9293 §3.10.7.3: a segment in SYN_SENT. Its payload is the owner's.
  syn_sent_outcome receive_syn_sent(const wire::tcp_repr& seg, base::instant now) noexcept;

  // acceptance.cc: RFC 9293 §3.10.7.4 first, the sequence number (and
  // PAWS): whether the segment goes on; one that does not is answered (an
  // ACK, within the connection's limit) and counted.
  bool check_sequence(const wire::tcp_repr& seg, base::instant now) noexcept;
  // Second: a RST that check_sequence() let through.
  rst_outcome receive_rst(const wire::tcp_repr& seg) noexcept;
  // ack.cc: fifth, the ACK field once the handshake is over: the send
  // window, RTT, congestion control and loss recovery, our FIN's fate.
  ack_outcome receive_ack(const wire::tcp_repr& seg, base::instant now) noexcept;

  // receive.cc: RFC 9293 §3.10.7.4 seventh and eighth, the segment's text
  // and FIN, for a segment whose ACK was taken.
  receive_outcome receive_text(const wire::tcp_repr& seg, rte_mbuf* payload,
                               base::instant now) noexcept;
  // memory.cc: the receive side held `before` mbufs; the core's budget and
  // gauge follow what it holds now.
  void account_rcv(std::uint32_t before) noexcept;
  // The same for the send buffer, after it held `before`.
  void account_snd(std::uint32_t before) noexcept;

  // user_calls.cc: the application's calls on this connection (RFC 9293
  // §3.10), as tcp_layer.hh describes them.
  bool send(rte_mbuf* payload, base::instant now) noexcept;
  std::uint32_t send_copy(std::span<const std::byte> data, base::instant now) noexcept;
  rte_mbuf* recv(base::instant now) noexcept;
  void unrecv(rte_mbuf* rest) noexcept;
  void shutdown(base::instant now) noexcept;
  void set_keepalive(bool on, base::instant now) noexcept;
  void set_reading(bool on) noexcept;

  // The one place a live connection's state changes: the state gauges and,
  // for a passive open entering or leaving SYN_RCVD, its listener's SYN
  // queue. (tcp_layer::free_tcb takes a CLOSED TCB out of the gauges.)
  void set_state(tcp_state s) noexcept {
    if (_c.passive() && _c.listener_slot != tcb::kNoListener &&
        (_c.state == tcp_state::syn_rcvd) != (s == tcp_state::syn_rcvd)) {
      if (s == tcp_state::syn_rcvd) {
        _cx.syn_queues.enter(_c.listener_slot);
      } else {
        _cx.syn_queues.leave(_c.listener_slot);
      }
    }
    _cx.counters.states[static_cast<std::size_t>(_c.state)].sub();
    _cx.counters.states[static_cast<std::size_t>(s)].add();
    _c.state = s;
  }
  // Tells the application (event:: bits) at its next turn.
  void notify(std::uint8_t ev) noexcept { _cx.events.post(_c, ev); }

  // No tx room: the output runs again in a later iteration.
  void defer() noexcept;
  // The TSval a segment of this connection carries now.
  std::uint32_t tsval(base::instant now) const noexcept {
    return _cx.ts.tsval(now, _c.ts_offset);
  }

 private:
  bool send_data(base::instant now) noexcept;
  // handshake.cc: MSS, window scale, timestamps, SACK, as both sides offered.
  void take_options(const wire::tcp_options& o) noexcept;
  // ISS, and the send sequence and buffer that start from it.
  void start_sequence(seq32 iss) noexcept;
  // An out-of-window segment's ACK, limited unless the peer has a reason
  // to send it; `wnd` is the window check_sequence() judged it against.
  void answer_out_of_window(const wire::tcp_repr& seg, std::uint32_t wnd,
                            base::instant now) noexcept;
  // ack.cc
  void take_new_ack(const wire::tcp_repr& seg, base::instant now) noexcept;
  void take_dup_ack(base::instant now) noexcept;
  void update_send_window(const wire::tcp_repr& seg) noexcept;
  // receive.cc
  struct text_part {
    seq32 seq;
    std::uint32_t len = 0;
    bool fin = false;
    rte_mbuf* payload = nullptr;
  };
  // The part of a segment's text that is new and inside the window offered.
  text_part trim_text(const wire::tcp_repr& seg, rte_mbuf* payload) noexcept;
  // Out of order, or filling a hole: through the reassembly queue.
  receive_outcome reassemble(text_part t) noexcept;
  receive_outcome process_fin() noexcept;
  // memory.cc: queues in-order payload (copied into the last segment's
  // room when it is small and fits); whether the receive side may take a
  // payload now; the mbufs reassembly may hold after the next insert.
  void append_rx(rte_mbuf* data, std::uint32_t len) noexcept;
  bool rcv_memory_allows(rte_mbuf* payload, std::uint32_t len, seq32 seq) const noexcept;
  std::uint32_t ooo_room() const noexcept;
  bool send_one_new(base::instant now, std::uint32_t mss, bool pipe_limited) noexcept;
  bool send_recovery(base::instant now) noexcept;

  tcb& _c;
  connection_context& _cx;
};

}  // namespace kbt::tcp
