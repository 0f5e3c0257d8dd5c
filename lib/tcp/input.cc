// Segment arrival, RFC 9293 §3.10.7, with RFC 5961 (blind attacks),
// RFC 7323 (PAWS, timestamps), RFC 5681/6582 (fast retransmit, NewReno).
#include "tcp/tcp_layer.hh"

namespace kbt::tcp {

using wire::tcp_flag::kAck;
using wire::tcp_flag::kFin;
using wire::tcp_flag::kRst;
using wire::tcp_flag::kSyn;
using wire::tcp_flag::kUrg;

namespace {

// Keeps only the payload of a received frame; nullptr (frame freed) when
// there is none.
rte_mbuf* strip_to_payload(rte_mbuf* m, std::uint32_t offset, std::uint32_t len) noexcept {
  if (len == 0) {
    rte_pktmbuf_free(m);
    return nullptr;
  }
  rte_pktmbuf_adj(m, static_cast<std::uint16_t>(offset));
  // Ethernet padding may follow a short segment.
  if (rte_pktmbuf_pkt_len(m) > len) {
    rte_pktmbuf_trim(m, static_cast<std::uint16_t>(rte_pktmbuf_pkt_len(m) - len));
  }
  return m;
}

}  // namespace

void tcp_layer::input(rte_mbuf* m, const wire::ipv4_repr& ip, const wire::tcp_repr& seg,
                      std::uint32_t l4_offset, base::instant now) noexcept {
  input_one(_demux.find(ip, seg), m, ip, seg, l4_offset, now);
}

void tcp_layer::input_burst(std::span<const tcp_rx> burst, base::instant now) noexcept {
  _demux.dispatch(burst, [this, now](const tcp_rx& r, destination to) {
    input_one(to, r.m, r.ip, r.seg, r.l4_offset, now);
  });
}

void tcp_layer::input_one(destination to, rte_mbuf* m, const wire::ipv4_repr& ip,
                          const wire::tcp_repr& seg, std::uint32_t l4_offset,
                          base::instant now) noexcept {
  _counters.segs_in.add();
  rte_mbuf* payload = strip_to_payload(m, l4_offset + seg.header_len, seg.payload_len);
  if (to.conn == nullptr) {
    if (to.time_wait != nullptr) {
      if (_demux.time_wait().input(*to.time_wait, seg, payload, now) ==
          time_wait_verdict::syn_may_reopen) {
        reopen_time_wait(*to.time_wait, ip, seg, now);
      }
    } else if (to.listening != nullptr) {
      input_listen(*to.listening, demux::tuple_of(ip, seg), seg, payload, now, std::nullopt);
    } else {
      input_no_tcb(ip, seg);
      rte_pktmbuf_free(payload);
    }
    return;
  }
  tcb* c = to.conn;
  c->last_rx = now;
  c->keepalive_sent = 0;
  if (c->state == tcp_state::syn_sent) {
    input_syn_sent(*c, seg, payload, now);
  } else {
    input_synchronized(*c, seg, payload, now);
  }
  if (c->in_use() && c->state != tcp_state::closed) conn(*c).output(now);
}

// RFC 9293 §3.10.7.1: no connection. Answer with a RST that the sender
// will accept, unless the segment was itself a RST.
void tcp_layer::input_no_tcb(const wire::ipv4_repr& ip, const wire::tcp_repr& seg) noexcept {
  if (seg.has(kRst)) return;
  const four_tuple t{ip.dst, ip.src, seg.dst_port, seg.src_port};
  if (seg.has(kAck)) {
    _control.rst(t, seg.ack, seq32{}, false);
  } else {
    _control.rst(t, seq32{}, seg.seq + seg.seg_len(), true);
  }
}

// RFC 9293 §3.10.7.3: SYN_SENT. Data on a SYN-ACK is rare; the peer sends
// it again after our ACK.
void tcp_layer::input_syn_sent(tcb& c, const wire::tcp_repr& seg, rte_mbuf* payload,
                               base::instant now) noexcept {
  rte_pktmbuf_free(payload);
  switch (conn(c).receive_syn_sent(seg, now)) {
    case syn_sent_outcome::go_on:
      break;
    case syn_sent_outcome::bad_ack:
      _control.rst(c.tuple, seg.ack, seq32{}, false);
      break;
    case syn_sent_outcome::refused:
      _counters.refused.add();
      report_closed(c, close_reason::refused);
      to_closed(c);
      break;
  }
}

// RFC 9293 §3.10.7.4: SYN_RCVD and every later state.
void tcp_layer::input_synchronized(tcb& c, const wire::tcp_repr& seg, rte_mbuf* payload,
                                   base::instant now) noexcept {
  // A SYN_RCVD from a listener seeing its SYN again: our SYN-ACK was lost.
  if (c.state == tcp_state::syn_rcvd && c.passive() && seg.has(kSyn) && !seg.has(kAck) &&
      seg.seq == c.irs) {
    rte_pktmbuf_free(payload);
    conn(c).send_syn(now);
    return;
  }
  // Simultaneous open (RFC 9293 §3.5 figure 8, line 6): the peer's SYN-ACK
  // reaches our SYN_RCVD. Its SYN is the one we already have; what is new
  // is the ACK of our SYN, so go on with the SYN taken off.
  if (c.state == tcp_state::syn_rcvd && !c.passive() && seg.has(kSyn) && seg.has(kAck) &&
      !seg.has(kRst) && seg.seq == c.irs) {
    wire::tcp_repr rest = seg;
    rest.flags = static_cast<std::uint8_t>(rest.flags & ~kSyn);
    rest.seq = seg.seq + 1;
    input_synchronized(c, rest, payload, now);
    return;
  }
  // first: sequence number (and PAWS)
  if (!conn(c).check_sequence(seg, now)) {
    rte_pktmbuf_free(payload);
    return;
  }
  // second: RST
  if (seg.has(kRst)) {
    rte_pktmbuf_free(payload);
    take_rst(c, seg);
    return;
  }
  // fourth: SYN. RFC 5961 §4: in a synchronized state, challenge ACK.
  if (seg.has(kSyn)) {
    rte_pktmbuf_free(payload);
    conn(c).send_challenge_ack(now);
    return;
  }
  // fifth: ACK
  if (!seg.has(kAck) || !process_ack(c, seg, now)) {
    rte_pktmbuf_free(payload);
    return;
  }
  // sixth: URG (RFC 9293 §3.8.5): the data stays in line; report the mark.
  if (seg.has(kUrg) && can_receive(c.state)) {
    const seq32 up = seg.seq + seg.urgent;
    if (!c.urgent_pending || up > c.rcv_up) {
      c.rcv_up = up;
      c.urgent_pending = true;
      conn(c).notify(event::kUrgent);
    }
  }
  // seventh and eighth: segment text and FIN
  if (seg.payload_len == 0 && !seg.has(kFin)) {
    rte_pktmbuf_free(payload);
    return;
  }
  switch (conn(c).receive_text(seg, payload, now)) {
    case receive_outcome::go_on:
      break;
    case receive_outcome::data_lost:
      reset_data_lost(c);
      break;
    case receive_outcome::time_wait:
      enter_time_wait(c, now);
      break;
  }
}

// RFC 9293 §3.10.7.4 second: what the connection made of a RST.
void tcp_layer::take_rst(tcb& c, const wire::tcp_repr& seg) noexcept {
  switch (conn(c).receive_rst(seg)) {
    case rst_outcome::challenged:
      return;
    case rst_outcome::to_listen:
      break;  // the application never knew of it
    case rst_outcome::refused:
      _counters.refused.add();
      report_closed(c, close_reason::refused);
      break;
    case rst_outcome::reset:
      _counters.resets.add();
      report_closed(c, close_reason::reset);
      break;
  }
  to_closed(c);
}

// RFC 9293 §3.10.7.4 fifth. The ACK that ends a handshake is the
// listener's business too (the accept queue); the rest is the connection's.
bool tcp_layer::process_ack(tcb& c, const wire::tcp_repr& seg, base::instant now) noexcept {
  if (c.state == tcp_state::syn_rcvd) {
    // "If SND.UNA < SEG.ACK =< SND.NXT, then enter ESTABLISHED state", else a RST.
    if (!conn(c).acks_our_syn(seg)) {
      _control.rst(c.tuple, seg.ack, seq32{}, false);
      return false;
    }
    if (c.passive() && !_listener.enter_accept_queue(c, now)) return false;
    conn(c).complete_handshake(seg);
  }
  switch (conn(c).receive_ack(seg, now)) {
    case ack_outcome::go_on:
      return true;
    case ack_outcome::drop:
      break;
    case ack_outcome::time_wait:
      enter_time_wait(c, now);
      break;
    case ack_outcome::closed:
      report_closed(c, close_reason::normal);
      to_closed(c);
      break;
  }
  return false;
}

}  // namespace kbt::tcp
