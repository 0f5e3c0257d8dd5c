// Segment text and FIN (RFC 9293 §3.10.7.4 seventh and eighth): in-order
// delivery, out-of-order reassembly, delayed ACK (RFC 1122 §4.2.3.2,
// RFC 5681 §4.2), and the state changes a FIN brings.
#include <algorithm>

#include "tcp/connection.hh"
#include "tcp/state.hh"

namespace kbt::tcp {

using wire::tcp_flag::kFin;

receive_outcome connection::receive_text(const wire::tcp_repr& seg, rte_mbuf* payload,
                                         base::instant now) noexcept {
  tcb& c = _c;
  if (!can_receive(c.state)) {
    // After the peer's FIN nothing more can come; a retransmitted FIN or
    // data gets our ACK again.
    rte_pktmbuf_free(payload);
    c.ack_now = true;
    return receive_outcome::go_on;
  }
  const auto [seq, len, fin, data] = trim_text(seg, payload);
  payload = data;
  if (len == 0 && !fin) {
    c.ack_now = true;  // a duplicate: tell the peer where we are
    return receive_outcome::go_on;
  }
  if (len > 0 && !c.app_holds() && c.state != tcp_state::syn_rcvd) {
    // New data for a connection the application has released: nobody
    // will read it (RFC 1122 §4.2.2.13).
    rte_pktmbuf_free(payload);
    return receive_outcome::data_lost;
  }

  const bool in_order = seq == c.rcv_nxt && c.out_of_order.empty();
  if (!rcv_memory_allows(payload, len, seq)) {
    // The receive budget is spent (memory.cc): as Linux prunes under
    // tcp_mem pressure, the data goes and the peer sends it again; the
    // ACK of what we have tells it where to start.
    rte_pktmbuf_free(payload);
    _cx.counters.rcv_mem_dropped.add();
    c.ack_now = true;
    return receive_outcome::go_on;
  }
  if (in_order) {
    if (len > 0) {
      append_rx(payload, len);
      c.rcv_nxt += len;
      notify(event::kReadable);
    }
    const receive_outcome out = fin ? process_fin() : receive_outcome::go_on;
    // RFC 5681 §4.2 / RFC 1122 §4.2.3.2: ACK at least every second
    // segment, otherwise within the delayed-ACK time.
    if (len > 0 && ++c.unacked_segs >= 2) c.ack_now = true;
    if (!c.ack_now && !c.delack_timer().armed()) {
      _cx.wheel.arm(c.delack_timer(), now + _cx.tcp.delayed_ack);
    }
    return out;
  }
  return reassemble({seq, len, fin, payload});
}

// The part of a segment's text that is new and inside the window we
// offered; the payload trimmed to it (nullptr when nothing is left).
connection::text_part connection::trim_text(const wire::tcp_repr& seg,
                                            rte_mbuf* payload) noexcept {
  tcb& c = _c;
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
    _cx.counters.rcv_window_trimmed.add();
    c.ack_now = true;
  }
  if (len == 0 && payload != nullptr) {
    rte_pktmbuf_free(payload);
    payload = nullptr;
  }
  return {seq, len, fin, payload};
}

receive_outcome connection::reassemble(text_part t) noexcept {
  tcb& c = _c;
  // Out of order, or filling a hole: through the reassembly queue, and an
  // immediate ACK (RFC 5681 §4.2) so the sender's fast retransmit works.
  c.ack_now = true;
  const std::uint32_t held_before = c.rcv_held_mbufs();
  const auto r = c.out_of_order.insert(c.rcv_nxt, t.seq, t.payload, t.len, t.fin, ooo_room());
  if (r.status == reassembly::insert_status::over_limit) {
    _cx.counters.ooo_dropped.add();
  } else if (r.status == reassembly::insert_status::queued) {
    _cx.counters.ooo_queued.add();
  }
  account_rcv(held_before);
  for (int guard = 0; guard < 64 && !c.out_of_order.empty(); ++guard) {
    const std::uint32_t before = c.rcv_held_mbufs();
    const auto p = c.out_of_order.pop(c.rcv_nxt);
    account_rcv(before);
    if (p.data == nullptr && !p.fin) break;
    if (p.data != nullptr) {
      append_rx(p.data, p.len);
      c.rcv_nxt += p.len;
      notify(event::kReadable);
    }
    if (p.fin) return process_fin();
  }
  return receive_outcome::go_on;
}

// RFC 9293 §3.10.7.4 eighth: the FIN, now in order.
receive_outcome connection::process_fin() noexcept {
  tcb& c = _c;
  c.rcv_nxt += 1;
  c.fin_received = true;
  c.ack_now = true;  // RFC 1122 §4.2.3.2: a FIN is ACKed at once
  const std::uint32_t before = c.rcv_held_mbufs();
  c.out_of_order.clear();
  account_rcv(before);
  notify(event::kPeerFin);
  switch (c.state) {
    case tcp_state::syn_rcvd:
    case tcp_state::established:
      set_state(tcp_state::close_wait);
      break;
    case tcp_state::fin_wait_1:
      // Our FIN not yet acknowledged: simultaneous close (RFC 9293 §3.6).
      if (c.fin_acked()) return receive_outcome::time_wait;
      set_state(tcp_state::closing);
      break;
    case tcp_state::fin_wait_2:
      return receive_outcome::time_wait;
    default:
      break;
  }
  return receive_outcome::go_on;
}

}  // namespace kbt::tcp
