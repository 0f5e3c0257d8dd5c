// The application's calls on one connection (RFC 9293 §3.10: SEND,
// RECEIVE, the half of CLOSE that queues our FIN; keepalive, RFC 1122
// §4.2.3.6), as its own logic: they touch its buffers, the core's mbuf
// budgets and its timers, never the table or the listeners. Opening,
// ABORT and release end or start a connection and stay with tcp_layer.
#include <algorithm>

#include "tcp/connection.hh"

namespace kbt::tcp {

bool connection::send(rte_mbuf* payload, base::instant now) noexcept {
  if (!may_queue_data(_c.state) || _c.fin_queued) return false;
  std::uint16_t pieces = 0;
  for (const rte_mbuf* s = payload; s != nullptr; s = s->next) pieces += s->data_len != 0 ? 1 : 0;
  const std::uint32_t before = _c.snd.segments();
  if (pieces > _cx.snd_mem.allowance(before)) {
    // The core's send memory, or this connection's share of it, is spent
    // (memory.cc): refused whole; kWritable once there is room.
    _cx.counters.snd_mem_refused.add();
    _cx.blocked.push_back(_c);
    return false;
  }
  if (!_c.snd.append(payload)) return false;
  account_snd(before);
  if (can_send(_c.state)) output(now);
  return true;
}

std::uint32_t connection::send_copy(std::span<const std::byte> data,
                                    base::instant now) noexcept {
  if (!may_queue_data(_c.state) || _c.fin_queued) return 0;
  // Fill whole mbufs, then segment once: segment boundaries follow the MSS,
  // not the copy chunks.
  const std::uint32_t before = _c.snd.segments();
  const std::uint32_t taken = _c.snd.append_copy(data, _cx.pool, _cx.snd_mem.allowance(before));
  account_snd(before);
  if (taken < data.size() && _c.snd.free_space() > 0) {
    // Not for want of bytes: the mbuf budget (or the pool) cut it short.
    _cx.counters.snd_mem_refused.add();
    _cx.blocked.push_back(_c);
  }
  if (taken > 0 && can_send(_c.state)) output(now);
  return taken;
}

rte_mbuf* connection::recv(base::instant now) noexcept {
  rte_mbuf* data = _c.rx_head;
  if (data == nullptr) return nullptr;
  const std::uint32_t before = receive_space();
  const std::uint32_t held = _c.rcv_held_mbufs();
  _c.rx_head = _c.rx_tail = nullptr;
  _c.rx_bytes = 0;
  _c.rx_mbufs = 0;
  account_rcv(held);
  // RFC 9293 §3.8.6.2.2: tell the peer about the reopened window once it
  // has grown by a full segment or half the buffer, not byte by byte.
  const std::uint32_t after = receive_space();
  const std::uint32_t opened = after > before ? after - before : 0;
  const std::uint32_t advertised = static_cast<std::uint32_t>(_c.rcv_adv - _c.rcv_nxt);
  if (can_receive(_c.state) &&
      (advertised < _c.snd_mss || opened >= _c.rcv_buffer / 2) &&
      after > advertised &&
      after - advertised >= std::min<std::uint32_t>(_c.rcv_buffer / 2, _c.snd_mss)) {
    send_ack(now);
  }
  return data;
}

void connection::unrecv(rte_mbuf* rest) noexcept {
  if (rest == nullptr) return;
  const std::uint32_t before = _c.rcv_held_mbufs();
  const std::uint32_t len = rte_pktmbuf_pkt_len(rest);
  const std::uint16_t segs = rest->nb_segs;
  if (_c.rx_head == nullptr) {
    _c.rx_head = rest;
    _c.rx_tail = rte_pktmbuf_lastseg(rest);
  } else if (rte_pktmbuf_chain(rest, _c.rx_head) == 0) {
    _c.rx_head = rest;
  } else {
    rte_pktmbuf_free(rest);  // past the chain limit: as append_rx, dropped
    return;
  }
  _c.rx_bytes += len;
  _c.rx_mbufs += segs;
  account_rcv(before);
}

void connection::shutdown(base::instant now) noexcept {
  switch (_c.state) {
    case tcp_state::syn_sent:
    case tcp_state::syn_rcvd:
    case tcp_state::established:
    case tcp_state::close_wait:
      if (_c.fin_queued) return;
      _c.fin_queued = true;
      _c.fin_seq = _c.snd.end();
      if (_c.state == tcp_state::syn_sent || _c.state == tcp_state::syn_rcvd) {
        // RFC 9293 §3.10.4 (SYN-RECEIVED): "queue for processing after
        // entering ESTABLISHED": the FIN follows what send() already took,
        // once the handshake is done (input.cc, ack.cc). For SYN-SENT the
        // RFC deletes the TCB, which loses queued data and the half of the
        // connection still open for reading; shutdown() is a half-close,
        // so it is queued the same way. release() with nothing queued still
        // deletes it.
        return;
      }
      set_state(_c.state == tcp_state::established ? tcp_state::fin_wait_1
                                                   : tcp_state::last_ack);
      output(now);
      return;
    default:
      return;  // already closing
  }
}

void connection::set_keepalive(bool on, base::instant now) noexcept {
  if (!on) {
    _cx.wheel.cancel(_c.idle_timer());
    return;
  }
  _c.keepalive_sent = 0;
  _cx.wheel.arm(_c.idle_timer(), now + _cx.tcp.keepalive_idle);
}

void connection::set_reading(bool on) noexcept {
  _c.rx_paused = !on;
  if (on && _c.rx_head != nullptr) notify(event::kReadable);
}

}  // namespace kbt::tcp
