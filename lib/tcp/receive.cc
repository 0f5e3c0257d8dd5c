// Segment text and FIN (RFC 9293 §3.10.7.4 seventh and eighth): in-order
// delivery, out-of-order reassembly, delayed ACK (RFC 1122 §4.2.3.2,
// RFC 5681 §4.2), and the state changes a FIN brings.
#include <algorithm>

#include "tcp/tcp_layer.hh"

namespace kbt::tcp {

using wire::tcp_flag::kFin;

void tcp_layer::process_text(tcb& c, const wire::tcp_repr& seg, rte_mbuf* payload,
                             std::uint64_t now_ns) noexcept {
  if (!can_receive(c.state)) {
    // After the peer's FIN nothing more can come; a retransmitted FIN or
    // data gets our ACK again.
    rte_pktmbuf_free(payload);
    c.ack_now = true;
    return;
  }
  const auto [seq, len, fin, data] = trim_text(c, seg, payload);
  payload = data;
  if (len == 0 && !fin) {
    c.ack_now = true;  // a duplicate: tell the peer where we are
    return;
  }
  if (len > 0 && !c.app_holds() && c.state != tcp_state::syn_rcvd) {
    // New data for a connection the application has released: nobody
    // will read it (RFC 1122 §4.2.2.13).
    rte_pktmbuf_free(payload);
    reset_data_lost(c);
    return;
  }

  const bool in_order = seq == c.rcv_nxt && c.out_of_order.empty();
  if (!rcv_memory_allows(c, payload, len, seq)) {
    // The receive budget is spent (memory.cc): as Linux prunes under
    // tcp_mem pressure, the data goes and the peer sends it again; the
    // ACK of what we have tells it where to start.
    rte_pktmbuf_free(payload);
    _counters.rcv_mem_dropped.add();
    c.ack_now = true;
    return;
  }
  if (in_order) {
    if (len > 0) {
      append_rx(c, payload, len);
      c.rcv_nxt += len;
      notify(c, event::kReadable);
    }
    if (fin) process_fin(c, now_ns);
    // RFC 5681 §4.2 / RFC 1122 §4.2.3.2: ACK at least every second
    // segment, otherwise within the delayed-ACK time.
    if (len > 0 && ++c.unacked_segs >= 2) c.ack_now = true;
    if (!c.ack_now && !c.delack_timer().armed()) {
      _wheel.arm(c.delack_timer(), now_ns + _config.tcp.delayed_ack_ns);
    }
    return;
  }
  reassemble(c, {seq, len, fin, payload}, now_ns);
}

// The part of a segment's text that is new and inside the window we
// offered; the payload trimmed to it (nullptr when nothing is left).
tcp_layer::text_part tcp_layer::trim_text(tcb& c, const wire::tcp_repr& seg,
                                          rte_mbuf* payload) noexcept {
  seq32 seq = seg.seq;
  std::uint32_t len = seg.payload_len;
  bool fin = seg.has(kFin);
  // Trim what we already have (a retransmission overlapping RCV.NXT).
  if (seq < c.rcv_nxt) {
    const auto old = static_cast<std::uint32_t>(c.rcv_nxt - seq);
    if (old >= len) {
      rte_pktmbuf_free(payload);
      payload = nullptr;
      len = 0;
    } else {
      rte_pktmbuf_adj(payload, static_cast<std::uint16_t>(old));
      len -= old;
    }
    seq = c.rcv_nxt;
  }
  // Trim what lies past the window we offered.
  if (seq + len > c.rcv_adv) {
    const auto over = static_cast<std::uint32_t>((seq + len) - c.rcv_adv);
    const std::uint32_t cut = std::min(over, len);
    if (cut == len) {
      rte_pktmbuf_free(payload);
      payload = nullptr;
    } else if (cut > 0) {
      rte_pktmbuf_trim(payload, static_cast<std::uint16_t>(cut));
    }
    len -= cut;
    fin = false;
    _counters.rcv_window_trimmed.add();
    c.ack_now = true;
  }
  if (len == 0 && payload != nullptr) {
    rte_pktmbuf_free(payload);
    payload = nullptr;
  }
  return {seq, len, fin, payload};
}

void tcp_layer::reassemble(tcb& c, text_part t, std::uint64_t now_ns) noexcept {
  // Out of order, or filling a hole: through the reassembly queue, and an
  // immediate ACK (RFC 5681 §4.2) so the sender's fast retransmit works.
  c.ack_now = true;
  const std::uint32_t held_before = c.rcv_held_mbufs();
  const auto r = c.out_of_order.insert(c.rcv_nxt, t.seq, t.payload, t.len, t.fin, ooo_room(c));
  if (r.status == reassembly::insert_status::over_limit) {
    _counters.ooo_dropped.add();
  } else if (r.status == reassembly::insert_status::queued) {
    _counters.ooo_queued.add();
  }
  account_rcv(c, held_before);
  for (int guard = 0; guard < 64 && !c.out_of_order.empty(); ++guard) {
    const std::uint32_t before = c.rcv_held_mbufs();
    const auto p = c.out_of_order.pop(c.rcv_nxt);
    account_rcv(c, before);
    if (p.data == nullptr && !p.fin) break;
    if (p.data != nullptr) {
      append_rx(c, p.data, p.len);
      c.rcv_nxt += p.len;
      notify(c, event::kReadable);
    }
    if (p.fin) {
      process_fin(c, now_ns);
      break;
    }
  }
}

// RFC 9293 §3.10.7.4 eighth: the FIN, now in order.
void tcp_layer::process_fin(tcb& c, std::uint64_t now_ns) noexcept {
  c.rcv_nxt += 1;
  c.fin_received = true;
  c.ack_now = true;  // RFC 1122 §4.2.3.2: a FIN is ACKed at once
  const std::uint32_t before = c.rcv_held_mbufs();
  c.out_of_order.clear();
  account_rcv(c, before);
  notify(c, event::kPeerFin);
  switch (c.state) {
    case tcp_state::syn_rcvd:
    case tcp_state::established:
      set_state(c, tcp_state::close_wait);
      break;
    case tcp_state::fin_wait_1:
      // Our FIN not yet acknowledged: simultaneous close (RFC 9293 §3.6).
      if (c.fin_acked()) {
        enter_time_wait(c, now_ns);
      } else {
        set_state(c, tcp_state::closing);
      }
      break;
    case tcp_state::fin_wait_2:
      enter_time_wait(c, now_ns);
      break;
    default:
      break;
  }
}

}  // namespace kbt::tcp
